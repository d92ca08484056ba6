"""The filters every page shares, in the sidebar and in the URL (so a copied link reopens
the same view): period, site, départements, channel.

Every widget is bound to a query parameter (`periode`, `site`, `dept`, `canal`); values
outside what the user's scope allows are simply not offered, and the scope itself is
applied again by the query layer whatever the widgets say.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.core import formatting as fmt
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.review import assessment
from dashboard.ui import cache, identity

DEFAULT_DAYS = 28
# Pages whose period is, by default, the whole pilot of the perimeter (first coverage
# start to the last day with data) rather than the last DEFAULT_DAYS days.
WHOLE_PILOT_PAGES = ("bilan",)
CHANNEL_LABELS = {"phone": "Téléphone", "email": "Courriel"}
_FILTERS_KEY = "_dashboard_filters"
_DEFAULT_KEY = "_dashboard_period_default"


def _period(first: dt.date, last: dt.date, box=None,
            default: tuple[dt.date, dt.date] | None = None) -> tuple[dt.date, dt.date]:
    default = default or (max(first, last - dt.timedelta(days=DEFAULT_DAYS - 1)), last)
    # The widget keeps its value from page to page. A period nobody chose (the URL has no
    # `periode`: it holds the previous default) follows this page's default instead.
    previous = st.session_state.get(_DEFAULT_KEY)
    st.session_state[_DEFAULT_KEY] = default
    if previous is not None and previous != default and \
            tuple(st.session_state.get("periode") or ()) == previous:
        st.session_state["periode"] = default
    value = (box or st.sidebar).date_input(
        "Période",
        value=default,
        min_value=first,
        max_value=last,
        format="DD/MM/YYYY",
        key="periode",
        bind="query-params",
        help="Jours locaux, bornes comprises.",
    )
    # While the user is picking, a range input can hold a single day.
    if isinstance(value, (tuple, list)):
        if len(value) == 2:
            return value[0], value[1]
        if len(value) == 1:
            return value[0], value[0]
        return default
    return value, value


def render_filters(url: str, scope: Scope, page: str = "") -> Filters | None:
    """Draw the shared filters for the page at URL path PAGE; None when the scope has no
    data at all."""
    span = cache.data_span(url, scope)
    if span.first_day is None:
        # Never leave an earlier run's filters (maybe another user's scope) behind.
        st.session_state.pop(_FILTERS_KEY, None)
        return None
    period_box = st.sidebar.container()  # first in the sidebar, drawn once sites are known
    periods = cache.coverage_periods(url)
    site_names = dict(zip(periods["site"], periods["site_name"]))
    sites: tuple[str, ...] = ()
    if scope.sees_all_sites:
        options = sorted(site_names, key=site_names.get)
        choice = st.sidebar.selectbox(
            "Site", [""] + options, format_func=lambda c: site_names.get(c, "Tous les sites"),
            key="site", bind="query-params",
        )
        sites = (choice,) if choice else ()
    elif scope.site:
        st.sidebar.markdown(f"**Site** : {fmt.md_text(site_names.get(scope.site, scope.site))}")
        sites = (scope.site,)
    default = None
    if page in WHOLE_PILOT_PAGES:
        pilot = assessment.whole_pilot(periods, cache.last_day_with_data(url, scope, sites),
                                       sites, scope)
        if pilot is not None:
            default = (min(max(span.first_day, pilot[0]), span.last_day),
                       min(max(span.first_day, pilot[1]), span.last_day))
    start, end = _period(span.first_day, span.last_day, period_box, default)
    departments: tuple[str, ...] = ()
    if scope.role != "agent":
        served = periods if not sites else periods.filter(periods["site"].is_in(list(sites)))
        dept_names = dict(zip(served["department"], served["department_name"]))
        chosen = st.sidebar.multiselect(
            "Départements", sorted(dept_names), format_func=lambda d: f"{d} {dept_names[d]}",
            key="dept", bind="query-params", placeholder="Tous",
        )
        departments = tuple(chosen)
    channel = st.sidebar.segmented_control(
        "Canal", list(CHANNEL_LABELS), format_func=CHANNEL_LABELS.get, key="canal",
        bind="query-params",
    )
    st.sidebar.caption(f"Du {fmt.fr_date(start)} au {fmt.fr_date(end)}")
    filters = Filters(start=start, end=end, sites=sites, departments=departments,
                      channels=(channel,) if channel else (), scope=scope)
    st.session_state[_FILTERS_KEY] = filters
    return filters


def page_filters() -> Filters:
    """The filters the app frame drew for this run, for this run's user (pages call this)."""
    _user, scope = identity.page_user()
    filters = st.session_state.get(_FILTERS_KEY)
    # Filters are kept in the session between runs: trust them only with this user's scope.
    if not isinstance(filters, Filters) or filters.scope != scope:
        st.info("Aucune donnée accessible pour votre profil.")
        st.stop()
    return filters
