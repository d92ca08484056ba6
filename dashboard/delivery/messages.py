"""Each message built as its reader: the same Scope as the reader's screen.

The scope comes from the user's row (dashboard.core.access.scope_for), never from the
subscription, so a Rouen supervisor's message holds Rouen's figures only and an agent's
its own beside the anonymous median of its team (dashboard.engine.team, the function the
Mes statistiques page calls). Figures come from the KPI engine; numbers are written by
dashboard.core.formatting. Links open the page of the app for the message's days.

daily — the day against the same weekday one week earlier; weekly — for managers the
review report of the week (dashboard.review.report, charts inlined as SVG), for an agent
its own week against the team's median and its previous week.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from urllib.parse import urlencode

import polars as pl
from sqlalchemy import Connection, Engine, select

from dashboard.core import formatting as fmt
from dashboard.core.access import Scope, User, scope_for
from dashboard.core.filters import Filters
from dashboard.delivery.due import Period
from dashboard.engine import page_reads, team
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics.definitions import METRICS_BY_KEY
from dashboard.review import report as report_mod
from dashboard.store import schema
from queries import overview, reference

# The figures of a manager's daily message, in the order shown.
DAILY_METRICS = ("received", "answered", "answer_rate", "service_level", "emails_received",
                 "emails_replied", "reply_within_48h_rate")
# Page url_paths (dashboard.ui.navigation.PAGES, which imports Streamlit and so cannot be
# imported here; tests/test_delivery.py holds the two to the same values).
MANAGER_PAGE = "aujourdhui"  # a manager's day: `?jour=` (its day input)
AGENT_PAGE = "mes-statistiques"
REVIEW_PAGE = "bilan"  # the directorate's week
SITE_WEEK_PAGE = "effectifs"  # a supervisor's week (Bilan is the directorate's)
SUBJECT_PREFIX = "Tableau de bord"


@dataclass(frozen=True)
class Content:
    """A message's subject and its two parts."""

    subject: str
    text: str
    html: str


def link(public_url: str, page: str, start: dt.date, end: dt.date) -> str:
    """The app's address of PAGE for the local days START..END, with the query parameters
    the page's widgets are bound to: Aujourd'hui's day (`jour`, END), the sidebar's
    period (`periode` twice) elsewhere."""
    if page == MANAGER_PAGE:
        query = urlencode({"jour": end.isoformat()})
    else:
        query = urlencode([("periode", start.isoformat()), ("periode", end.isoformat())])
    return f"{public_url}/{page}?{query}"


def site_names(conn: Connection) -> dict[str, str]:
    """Site code → name."""
    s = schema.sites
    return dict(conn.execute(select(s.c.code, s.c.name).order_by(s.c.code)).all())


def scope_sites(scope: Scope, names: dict[str, str]) -> list[str]:
    """The sites whose figures SCOPE may show, by code."""
    return [code for code in names if scope.allows_site(code)]


def has_data(conn: Connection, sites: list[str], start: dt.date, end: dt.date) -> bool:
    """Whether any contact of SITES was imported for a local day START..END."""
    c = schema.contacts
    query = select(c.c.local_date).where(c.c.local_date >= start, c.c.local_date <= end,
                                         c.c.site.in_(sites)).limit(1)
    return conn.execute(query).first() is not None


def _days(period: Period) -> str:
    if period.start == period.end:
        return f"du {fmt.fr_date(period.start)}"
    return f"de la semaine du {fmt.fr_date(period.start)} au {fmt.fr_date(period.end)}"


def _perimeter(scope: Scope, names: dict[str, str]) -> str:
    if scope.sees_all_sites:
        return "tous les sites"
    return names.get(scope.site, scope.site)


def subject(period: Period, scope: Scope, names: dict[str, str]) -> str:
    """The French subject line: "Tableau de bord – activité du 06/12/2026 – Rouen"."""
    what = "activité" if period.kind == "daily" else "bilan"
    return f"{SUBJECT_PREFIX} – {what} {_days(period)} – {_perimeter(scope, names)}"


def build(engine: Engine, user: User, period: Period, public_url: str) -> Content:
    """The message of PERIOD for USER, read with USER's own scope."""
    scope = scope_for(user)
    with engine.connect() as conn:
        names = site_names(conn)
        sites = scope_sites(scope, names)
        data = bool(sites) and has_data(conn, sites, period.start, period.end)
    title = subject(period, scope, names)
    page = AGENT_PAGE if scope.role == "agent" else MANAGER_PAGE
    url = link(public_url, page, period.start, period.end)
    if not data:
        return _no_data(title, period, url)
    if scope.role == "agent":
        return _agent(engine, user, scope, period, title, url, names)
    if period.kind == "weekly":
        return _review(engine, scope, period, title, public_url, names)
    return _managers(engine, scope, period, title, url, names)


# ------------------------------------------------------------------------------ parts

def _no_data(title: str, period: Period, url: str) -> Content:
    days = (f"le {fmt.fr_date(period.start)}" if period.kind == "daily"
            else f"la semaine du {fmt.fr_date(period.start)} au {fmt.fr_date(period.end)}")
    line = f"Aucune donnée importée pour {days} : ce message ne donne donc aucun chiffre."
    return Content(title, f"{line}\n\nOuvrir le tableau de bord : {url}\n",
                   _page(title, f"<p>{html.escape(line)}</p>", url))


_CSS = ("body{font-family:Arial,sans-serif;color:#1f2933}table{border-collapse:collapse}"
        "th,td{padding:4px 10px;border-bottom:1px solid #d0d5dd;text-align:right}"
        "th:first-child,td:first-child{text-align:left}caption{text-align:left;"
        "font-weight:bold;padding:6px 0}")


def _page(title: str, body: str, url: str) -> str:
    return (
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}"
        f"<p><a href='{html.escape(url, quote=True)}'>Ouvrir le tableau de bord</a></p>"
        "</body></html>"
    )


def _table_html(caption: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr>"
            f"</thead><tbody>{body}</tbody></table>")


def _table_text(caption: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [caption]
    for line in lines:
        out.append("  ".join([line[0].ljust(widths[0])]
                             + [c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)]))
    return "\n".join(out)


def _value(row: dict | None, metric: str) -> str:
    return fmt.format_value(None if row is None else row.get(metric),
                            METRICS_BY_KEY[metric].unit)


def _managers(engine: Engine, scope: Scope, period: Period, title: str, url: str,
              names: dict[str, str]) -> Content:
    before = period.previous()
    header = ["Indicateur", _short(period), _short(before)]

    def kpis(p: Period, by: tuple[str, ...]) -> pl.DataFrame:
        filters = Filters(start=p.start, end=p.end, scope=scope)
        return compute_kpis(engine, filters, by, metrics=DAILY_METRICS)

    now_by_site = {r["site"]: r for r in kpis(period, ("site",)).iter_rows(named=True)}
    then_by_site = {r["site"]: r for r in kpis(before, ("site",)).iter_rows(named=True)}
    blocks: list[tuple[str, dict | None, dict | None]] = []
    sites = [s for s in scope_sites(scope, names) if s in now_by_site or s in then_by_site]
    if len(sites) > 1:
        blocks.append(("Ensemble des sites", kpis(period, ()).row(0, named=True),
                       kpis(before, ()).row(0, named=True)))
    blocks += [(names.get(s, s), now_by_site.get(s), then_by_site.get(s)) for s in sites]
    intro = (f"Chiffres {_days(period)}, à côté de ceux du même jour de la semaine "
             f"précédente ({fmt.fr_date(before.start)}).")
    texts, htmls = [intro], [f"<p>{html.escape(intro)}</p>"]
    for caption, now, then in blocks:
        rows = [[METRICS_BY_KEY[m].label, _value(now, m), _value(then, m)]
                for m in DAILY_METRICS]
        texts.append(_table_text(caption, header, rows))
        htmls.append(_table_html(caption, header, rows))
    # Yesterday's e-mails have had less than 48 h: the rate can still rise.
    note = (f"{METRICS_BY_KEY['reply_within_48h_rate'].label} : part des courriels reçus ce "
            "jour-là qui ont déjà reçu une réponse dans les 48 heures ; pour la veille, le "
            "délai n'est pas écoulé et le chiffre peut encore augmenter.")
    texts += [note, f"Ouvrir le tableau de bord : {url}"]
    htmls.append(f"<p><small>{html.escape(note)}</small></p>")
    return Content(title, "\n\n".join(texts) + "\n", _page(title, "".join(htmls), url))


def _short(period: Period) -> str:
    if period.start == period.end:
        return fmt.fr_date(period.start)
    return f"{fmt.fr_date(period.start)}–{fmt.fr_date(period.end)}"


def _agent(engine: Engine, user: User, scope: Scope, period: Period, title: str, url: str,
           names: dict[str, str]) -> Content:
    before = period.previous()

    def own(p: Period) -> pl.DataFrame:
        filters = Filters(start=p.start, end=p.end, scope=scope)
        return compute_kpis(engine, filters, (), metrics=page_reads.AGENT_OWN)

    mine = own(period)
    who = user.display_name or user.login
    site = names.get(scope.site, scope.site)
    if team.own_rows(mine).height == 0:
        when = (f"le {fmt.fr_date(period.start)}" if period.start == period.end else
                f"la semaine du {fmt.fr_date(period.start)} au {fmt.fr_date(period.end)}")
        line = f"Aucune activité enregistrée à votre nom {when}."
        return Content(title, f"{who},\n\n{line}\n\nOuvrir vos statistiques : {url}\n",
                       _page(title, f"<p>{html.escape(line)}</p>", url))
    # The same function as the page: medians only, withheld below team.MIN_AGENTS agents.
    medians = team.team_medians(engine, scope.site, period.start, period.end, "period")
    earlier = team.own_rows(own(before))
    earlier_row = earlier.row(0, named=True) if earlier.height else None
    header = ["Indicateur", "Vous", "Médiane de l'équipe", f"Vous, {_short(before)}"]
    rows = []
    for metric in team.AGENT_METRICS:
        row = team.compare(mine, medians, "period", metric).row(0, named=True)
        unit = METRICS_BY_KEY[metric].unit
        rows.append([METRICS_BY_KEY[metric].label, fmt.format_value(row["own"], unit),
                     fmt.format_value(row["median"], unit), _value(earlier_row, metric)])
    intro = (f"Vos chiffres {_days(period)}, à côté de la médiane anonyme des agents de "
             f"{site} actifs sur la même période (donnée à partir de {team.MIN_AGENTS} "
             "agents, « — » sinon).")
    caption = f"{who} · équipe de {site}"
    text = "\n\n".join([intro, _table_text(caption, header, rows),
                        f"Ouvrir vos statistiques : {url}"]) + "\n"
    body = f"<p>{html.escape(intro)}</p>" + _table_html(caption, header, rows)
    return Content(title, text, _page(title, body, url))


def _review(engine: Engine, scope: Scope, period: Period, title: str, public_url: str,
            names: dict[str, str]) -> Content:
    # The report of `python -m dashboard report`, for the week and the reader's scope.
    filters = Filters(start=period.start, end=period.end, scope=scope)

    def kpis(f, by, metrics):
        return compute_kpis(engine, f, by, metrics=metrics)

    with engine.connect() as conn:
        data, review = report_mod.read_report(conn, kpis, filters,
                                              overview.coverage_periods(conn),
                                              reference.campaign_rows(conn))
    page = REVIEW_PAGE if scope.sees_all_sites else SITE_WEEK_PAGE
    url = link(public_url, page, period.start, period.end)
    lines = [f"Bilan {_days(period)} – {_perimeter(scope, names)}.", "", "Objectifs :"]
    lines += [f"- {o.label} : {o.verdict}. {o.sentence}".rstrip() for o in review.objectives]
    lines += ["", "Questions du bilan :"]
    lines += [f"- {q.title}{' ' if q.title.endswith('?') else ' : '}{q.answer}".rstrip()
              for q in review.questions]
    lines += ["", "Le rapport complet, graphiques compris, est la partie HTML de ce message.",
              f"Ouvrir le tableau de bord : {url}"]
    anchor = (f"<p><a href='{html.escape(url, quote=True)}'>Ouvrir le tableau de bord</a>"
              "</p></body>")
    return Content(title, "\n".join(lines) + "\n",
                   report_mod.render_html(data).replace("</body>", anchor, 1))
