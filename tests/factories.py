"""Hand-made rows for database tests: contacts, acts, agent sessions and agents.

Times are given as local wall-clock strings of the row's site ("2015-04-30 10:00") and
turned into UTC with dashboard.core.localtime (the house rule), or as naive UTC datetimes via
the `*_utc` arguments when the UTC instant is what the test is about. `local_date` and
`local_slot` are always computed by dashboard.core.localtime, never by hand.

    rows = Rows(db_url)
    rows.call("2015-04-02 10:00", wait=12, talk=300, wrap=60, agent="a1")
    rows.email("2015-04-02 09:00", replied="2015-04-03 11:00")
"""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
from sqlalchemy import insert, select, update

from dashboard.core import localtime
from dashboard.store import database as dbmod
from dashboard.store import schema

SOURCE = "test"


def parse_local(value: str | dt.datetime) -> dt.datetime:
    """'YYYY-MM-DD HH:MM[:SS]' (or a datetime) → naive datetime."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


class Rows:
    """Inserts rows into the database at URL, one statement each (tests stay tiny)."""

    def __init__(self, url: str) -> None:
        self.engine = dbmod.get_engine(url)
        self._ids = itertools.count(1)
        with self.engine.connect() as conn:
            self.timezones = dict(conn.execute(select(schema.sites.c.code,
                                                      schema.sites.c.timezone)).all())

    # -- time helpers -------------------------------------------------------------

    def tz(self, site: str) -> str:
        """Time zone of SITE."""
        return self.timezones[site]

    def to_utc(self, local: str | dt.datetime, site: str = "rouen") -> dt.datetime:
        """Local wall-clock time of SITE → naive UTC (dashboard.localtime.localize)."""
        frame = pl.DataFrame({"t": [parse_local(local)]}, schema={"t": pl.Datetime("us")})
        return frame.select(localtime.localize(pl.col("t"), self.tz(site))).item()

    def local_keys(self, utc: dt.datetime, site: str) -> tuple[dt.date, int]:
        """(local_date, local_slot) of a naive UTC instant in SITE's zone."""
        frame = pl.DataFrame({"t": [utc]}, schema={"t": pl.Datetime("us")})
        tz = self.tz(site)
        row = frame.select(
            localtime.local_date(pl.col("t"), tz).alias("d"),
            localtime.local_slot(pl.col("t"), tz).alias("s"),
        ).row(0)
        return row[0], int(row[1])

    def _instant(self, local, utc, site) -> dt.datetime | None:
        if utc is not None:
            return utc
        if local is None:
            return None
        return self.to_utc(local, site)

    def _insert(self, table, values: dict) -> dict:
        with self.engine.begin() as conn:
            conn.execute(insert(table).values(**values))
        return values

    # -- rows ---------------------------------------------------------------------

    def site_thresholds(self, site: str, sl_seconds: int | None,
                        short_abandon_seconds: int | None) -> None:
        """Set (or clear with None) a site's own thresholds."""
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.sites)
                .where(schema.sites.c.code == site)
                .values(sl_seconds=sl_seconds, short_abandon_seconds=short_abandon_seconds)
            )

    def call(
        self,
        local: str | dt.datetime | None = None,
        *,
        utc: dt.datetime | None = None,
        outcome: str = "answered",
        wait: int | None = 10,
        talk: int | None = None,
        wrap: int = 0,
        site: str = "rouen",
        department: str = "60",
        queue: str | None = "particuliers",
        agent: str | None = None,
        promoted: bool | None = None,
        caller: str | None = None,
        contact_id: str | None = None,
    ) -> dict:
        """Insert one phone contact received at LOCAL (or UTC); returns its values."""
        received = self._instant(local, utc, site)
        day, slot = self.local_keys(received, site)
        if talk is None:
            talk = 120 if outcome == "answered" else 0
        answered_at = (
            received + dt.timedelta(seconds=wait or 0) if outcome == "answered" else None
        )
        ended = (answered_at or received) + dt.timedelta(
            seconds=(talk if outcome == "answered" else (wait or 0))
        )
        return self._insert(
            schema.contacts,
            dict(
                source=SOURCE,
                contact_id=contact_id or f"c{next(self._ids)}",
                channel="phone",
                site=site,
                department=department,
                queue=queue,
                received_at=received,
                answered_at=answered_at,
                ended_at=ended,
                outcome=outcome,
                wait_seconds=wait,
                talk_seconds=talk,
                wrap_seconds=wrap,
                agent_id=agent,
                online_service_promoted=promoted,
                caller_key=caller,
                local_date=day,
                local_slot=slot,
            ),
        )

    def email(
        self,
        local: str | dt.datetime | None = None,
        *,
        utc: dt.datetime | None = None,
        replied: str | dt.datetime | None = None,
        replied_utc: dt.datetime | None = None,
        closed: str | dt.datetime | None = None,
        site: str = "rouen",
        department: str = "60",
        queue: str | None = "particuliers",
        agent: str | None = None,
        promoted: bool | None = None,
        caller: str | None = None,
    ) -> dict:
        """Insert one e-mail received at LOCAL (or UTC); returns its values.

        It is replied at REPLIED (local) or REPLIED_UTC, or closed without reply at CLOSED
        (local), or else pending.
        """
        received = self._instant(local, utc, site)
        answered = self._instant(replied, replied_utc, site)
        ended = self._instant(closed, None, site)
        outcome = "replied" if answered else ("closed" if ended else "pending")
        day, slot = self.local_keys(received, site)
        return self._insert(
            schema.contacts,
            dict(
                source=SOURCE,
                contact_id=f"c{next(self._ids)}",
                channel="email",
                site=site,
                department=department,
                queue=queue,
                received_at=received,
                answered_at=answered,
                ended_at=ended or answered,
                outcome=outcome,
                wait_seconds=None,
                talk_seconds=0,
                wrap_seconds=0,
                agent_id=agent,
                online_service_promoted=promoted,
                caller_key=caller,
                local_date=day,
                local_slot=slot,
            ),
        )

    def act(
        self,
        local: str | dt.datetime,
        *,
        site: str = "rouen",
        department: str = "60",
        agent: str = "a1",
        act_type: str = "attestation",
        contact_id: str | None = None,
    ) -> dict:
        """Insert one act of management performed at LOCAL."""
        performed = self.to_utc(local, site)
        day, slot = self.local_keys(performed, site)
        return self._insert(
            schema.acts,
            dict(
                source=SOURCE,
                act_id=f"act{next(self._ids)}",
                performed_at=performed,
                act_type=act_type,
                site=site,
                department=department,
                agent_id=agent,
                contact_id=contact_id,
                local_date=day,
                local_slot=slot,
            ),
        )

    def session(
        self,
        agent: str,
        start: str | dt.datetime | None = None,
        end: str | dt.datetime | None = None,
        *,
        start_utc: dt.datetime | None = None,
        end_utc: dt.datetime | None = None,
        site: str = "rouen",
    ) -> dict:
        """Insert one logged-in period of AGENT from START to END (local, or *_utc)."""
        start_at = self._instant(start, start_utc, site)
        end_at = self._instant(end, end_utc, site)
        day, _slot = self.local_keys(start_at, site)
        return self._insert(
            schema.agent_sessions,
            dict(source=SOURCE, agent_id=agent, site=site, start_at=start_at, end_at=end_at,
                 local_date=day),
        )

    def survey(
        self,
        local: str | dt.datetime,
        satisfaction: int,
        *,
        site: str = "rouen",
        department: str = "60",
        channel: str = "phone",
        resolved: bool | None = None,
        knew_number: bool | None = None,
        contact_id: str | None = None,
        comment: str | None = None,
    ) -> dict:
        """Insert one user's survey answer given at LOCAL."""
        answered = self.to_utc(local, site)
        day, _slot = self.local_keys(answered, site)
        return self._insert(
            schema.surveys,
            dict(source=SOURCE, response_id=f"sv{next(self._ids)}", answered_at=answered,
                 local_date=day, site=site, department=department, channel=channel,
                 satisfaction=satisfaction, resolved=resolved, knew_number=knew_number,
                 contact_id=contact_id, comment=comment),
        )

    def agent(self, agent_id: str, site: str = "rouen", name: str | None = None) -> dict:
        """Insert one agent."""
        return self._insert(
            schema.agents, dict(agent_id=agent_id, site=site, display_name=name or agent_id)
        )

    def campaign(self, name: str, start: dt.date, end: dt.date, department: str | None = None,
                 kind: str = "other") -> dict:
        """Insert one campaign (inclusive local dates, optional département)."""
        return self._insert(
            schema.campaigns,
            dict(name=name, kind=kind, start_date=start, end_date=end, department=department),
        )


def populate(rows: Rows, seed: int = 7, start: dt.date = dt.date(2015, 3, 27),
             days: int = 25) -> None:
    """Insert a deterministic, non-trivial mix of calls, e-mails, acts and sessions.

    For parity tests, not for hand-worked expectations.
    """
    import random

    rnd = random.Random(seed)
    sites = {"rouen": (("60", "04"), ("r1", "r2", "r3", None)),
             "chartres": (("28", "93"), ("c1", "c2", None))}
    queues = ("particuliers", "recouvrement", None)
    callers = [f"K{n}" for n in range(40)] + [None] * 10

    def when(day_offset: int, lo_hour: int = 7, hi_hour: int = 20) -> dt.datetime:
        day = start + dt.timedelta(days=day_offset)
        minute = rnd.randrange(lo_hour * 60, hi_hour * 60)
        return dt.datetime.combine(day, dt.time(minute // 60, minute % 60, rnd.randrange(60)))

    for _ in range(300):
        site = rnd.choice(list(sites))
        deps, agents = sites[site]
        outcome = rnd.choices(("answered", "abandoned", "deflected"), (7, 2, 1))[0]
        kwargs = dict(site=site, department=rnd.choice(deps), queue=rnd.choice(queues),
                      outcome=outcome, promoted=rnd.choice((True, False, None)),
                      caller=rnd.choice(callers))
        if outcome == "answered":
            kwargs.update(wait=rnd.randrange(0, 90), talk=rnd.randrange(30, 900),
                          wrap=rnd.randrange(0, 120), agent=rnd.choice(agents))
        elif outcome == "abandoned":
            kwargs.update(wait=rnd.randrange(0, 120))
        else:
            kwargs.update(wait=None)
        if rnd.random() < 0.05:  # around midnight
            rows.call(when(rnd.randrange(days), 0, 1), **kwargs)
        else:
            rows.call(when(rnd.randrange(days)), **kwargs)
    for _ in range(100):
        site = rnd.choice(list(sites))
        deps, agents = sites[site]
        received = when(rnd.randrange(-5, days))
        fate = rnd.random()
        replied = closed = None
        if fate < 0.7:
            replied = received + dt.timedelta(minutes=rnd.randrange(20, 14 * 24 * 60))
        elif fate < 0.8:
            closed = received + dt.timedelta(hours=rnd.randrange(1, 100))
        rows.email(received, replied=replied, closed=closed, site=site,
                   department=rnd.choice(deps), queue=rnd.choice(queues),
                   agent=rnd.choice(agents) if replied else None,
                   promoted=rnd.choice((True, False, None)), caller=rnd.choice(callers))
    for _ in range(60):
        site = rnd.choice(list(sites))
        deps, agents = sites[site]
        rows.act(when(rnd.randrange(days)), site=site, department=rnd.choice(deps),
                 agent=rnd.choice([a for a in agents if a]))
    for day in range(days):
        for site, (_deps, agents) in sites.items():
            for agent in agents:
                if agent and rnd.random() < 0.7:
                    begin = when(day, 7, 11)
                    rows.session(agent, begin,
                                 begin + dt.timedelta(minutes=rnd.randrange(60, 9 * 60)),
                                 site=site)


def hundred_calls(rows: Rows, day="2015-04-07", slot_start="10:00", site="rouen",
                   department="60") -> None:
    """100 calls offered in one half-hour (short abandons excluded), AHT 180 s: 98
    answered (150 s talk + 30 s wrap, 10 s wait), 2 long abandons (30 s), plus 5 short
    abandons (2 s) that do not count."""
    hour, minute = map(int, slot_start.split(":"))
    base = dt.datetime.fromisoformat(f"{day} {hour:02d}:{minute:02d}")
    for i in range(105):
        when = base + dt.timedelta(seconds=17 * i)  # 105 × 17 s < 30 min
        if i < 98:
            rows.call(when, wait=10, talk=150, wrap=30, site=site, department=department)
        elif i < 100:
            rows.call(when, outcome="abandoned", wait=30, site=site, department=department)
        else:
            rows.call(when, outcome="abandoned", wait=2, site=site, department=department)
