"""SQLite and PostgreSQL give the same `kpis` JSON for the same non-trivial data."""

from __future__ import annotations

import json
import math

from click.testing import CliRunner

from dashboard.cli.main import main
from dashboard.store import database as dbmod
from dashboard.store import reference
from tests.factories import Rows, populate

GROUPINGS = ("", "day", "slot", "site,department", "agent", "campaign,channel", "week,queue",
             "month")


def _kpis_json(url: str, by: str) -> list[dict]:
    args = ["kpis", "--db", url, "--from", "2015-03-28", "--to", "2015-04-18"]
    if by:
        args += ["--by", by]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (a is not None and b is not None
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))
    return a == b


def test_sqlite_and_postgresql_agree(sqlite_url, pg_url):
    for url in (sqlite_url, pg_url):
        dbmod.upgrade(url)
        reference.load_reference(dbmod.get_engine(url))
        populate(Rows(url))
    for by in GROUPINGS:
        lite, pg = _kpis_json(sqlite_url, by), _kpis_json(pg_url, by)
        assert len(lite) == len(pg) > 0, by
        for row_l, row_p in zip(lite, pg, strict=True):
            assert list(row_l) == list(row_p)
            bad = {k: (row_l[k], row_p[k]) for k in row_l if not _same(row_l[k], row_p[k])}
            assert not bad, (by, bad)
    # The data is not trivial: every family of metrics has figures.
    total = _kpis_json(sqlite_url, "")[0]
    for key in ("answered", "short_abandoned", "emails_replied", "backlog", "acts"):
        assert total[key] > 0, key
    for key in ("service_level", "reply_within_5wd_rate", "median_reply_hours",
                "repeat_contact_rate", "occupancy"):
        assert total[key] is not None and total[key] > 0, key
    assert total["agent_hours"] > 0

