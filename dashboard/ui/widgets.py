"""Streamlit building blocks shared by the pages (rendering only, no data access)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st

from dashboard.charts import specs as chart_specs

Chart = alt.TopLevelMixin | dict  # an Altair chart, or its spec from chart_specs.spec


def _chart(chart: Chart, reading: str) -> None:
    """Draw CHART across the page, READING as its text alternative."""
    spec = chart if isinstance(chart, dict) else chart_specs.to_spec(chart)
    st.vega_lite_chart(spec, width="stretch", alt=reading)


def chart_block(
    chart: Chart,
    reading: str,
    table: pl.DataFrame,
    file_name: str,
    key: str,
) -> None:
    """A chart with its one-sentence reading, its data table and a CSV of that table.

    The table is the chart's text alternative (accessibility); the CSV holds exactly the
    values shown in it. Pass `chart_specs.spec(build, data)` rather than `build(data)`:
    the spec is then built once per distinct data, not on every render.
    """
    _chart(chart, reading)
    st.caption(reading)
    with st.expander("Voir les données du graphique"):
        data_table(table)
        download_csv(table, file_name, key)


def chart_only(chart: Chart, reading: str) -> None:
    """A chart with its reading and nothing else (the wallboard): the reading is its text
    alternative, read out by screen readers and shown under it."""
    _chart(chart, reading)
    st.caption(reading)


WALLBOARD_CSS = """
<style>
/* Wallboard: no sidebar nor toolbar, large type for a screen seen from across the room. */
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl],
[data-testid=stExpandSidebarButton], [data-testid=stHeader] { display: none !important; }
[data-testid=stMain] .block-container { padding-top: 1rem; max-width: 100%; }
[data-testid=stMetricValue], [data-testid=stMetricValue] * {
  font-size: 2.75rem !important; line-height: 1.15 !important; }
[data-testid=stMetricLabel] p { font-size: 1.25rem !important; }
[data-testid=stMetricDelta] { font-size: 1.15rem !important; }
[data-testid=stMain] [data-testid=stCaptionContainer] p,
[data-testid=stMain] [data-testid=stMarkdownContainer] p { font-size: 1.15rem; }
.cc-banner__name { font-size: 1.5rem !important; }
</style>
"""


def wallboard_style() -> None:
    """Switch the page to the wallboard look (see WALLBOARD_CSS)."""
    st.html(WALLBOARD_CSS)


def data_table(frame: pl.DataFrame, **kwargs) -> None:
    """FRAME as an interactive table across the page.

    Handed to Streamlit as Arrow, never as Polars: Streamlit converts a Polars frame
    through `to_pandas`, which in Polars 2.1 waits for Polars' thread pool while holding
    the GIL, and deadlocked the whole server when sessions rendered tables at the same
    time (bench/load.py found it). Arrow is also sent as is, without a pandas round trip.
    """
    st.dataframe(frame.to_arrow(compat_level=pl.CompatLevel.oldest()), hide_index=True,
                 width="stretch", **kwargs)


def download_csv(table: pl.DataFrame, file_name: str, key: str) -> None:
    """A button that downloads TABLE as CSV (UTF-8 with BOM, so spreadsheets read accents).

    The CSV is written when the button is clicked, not on every render of the page (it
    was a sixth of a warm render's CPU)."""
    st.download_button(
        "Télécharger (CSV)",
        data=lambda: "\ufeff" + table.write_csv(),
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )


def day_input(container, last: dt.date, first: dt.date, final: dt.date,
              key: str = "jour") -> dt.date:
    """The "Jour" picker of the one-day pages, kept in the URL (`?KEY=`), LAST by default."""
    return container.date_input(
        "Jour", value=last, min_value=first, max_value=final, format="DD/MM/YYYY",
        key=key, bind="query-params",
        help="Jour local. Par défaut, le dernier jour avec des données. La période de la "
             "barre latérale ne s'applique pas à cette page.",
    )
