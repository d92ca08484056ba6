"""Streamlit building blocks shared by the pages (rendering only, no data access)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import altair as alt
import polars as pl
import streamlit as st

from dashboard.charts import exports
from dashboard.charts import specs as chart_specs
from dashboard.core.formatting import md_text

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
    export: exports.Table | None = None,
) -> None:
    """A chart with its one-sentence reading, its data table, and that table as CSV and
    Excel (EXPORT, its typed twin, when given: see download_csv).

    The table is the chart's text alternative (accessibility); the CSV holds exactly the
    values shown in it. Pass `chart_specs.spec(build, data)` rather than `build(data)`:
    the spec is then built once per distinct data, not on every render.
    """
    _chart(chart, reading)
    st.caption(md_text(reading))
    with st.expander("Voir les données du graphique"):
        data_table(table)
        download_csv(table, file_name, key, export)


def chart_only(chart: Chart, reading: str) -> None:
    """A chart with its reading and nothing else (the wallboard): the reading is its text
    alternative, read out by screen readers and shown under it."""
    _chart(chart, reading)
    st.caption(md_text(reading))


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


def download_csv(table: pl.DataFrame, file_name: str, key: str,
                 export: exports.Table | None = None) -> None:
    """Two buttons side by side: TABLE as CSV (UTF-8 with BOM, for tools) and as Excel
    (`.xlsx`, for spreadsheets: French Excel opens a comma CSV as one column).

    EXPORT, the table's typed twin (exports.metric_table), is downloaded instead of TABLE
    when given: raw numbers and dates rather than the French text shown. Both files are
    written when their button is clicked, not on every render of the page (the CSV was a
    sixth of a warm render's CPU)."""
    download_pair(export if export is not None else exports.Table(table), file_name, key)


def download_pair(table: exports.Table | Callable[[], exports.Table], file_name: str,
                  key: str, label: str = "Télécharger", sheet: str = "Données") -> None:
    """The "LABEL (CSV)" and "LABEL (Excel)" buttons of TABLE (or of what it returns,
    called on click only: a page's export read from the database)."""
    def source() -> exports.Table:
        return table() if callable(table) else table

    with st.container(horizontal=True):
        st.download_button(
            f"{label} (CSV)", data=lambda: exports.csv_text(source()), file_name=file_name,
            mime="text/csv", key=key, icon=":material/download:", on_click="ignore",
        )
        st.download_button(
            f"{label} (Excel)", data=lambda: exports.xlsx_bytes(source(), sheet),
            file_name=exports.xlsx_name(file_name), mime=exports.XLSX_MIME,
            key=f"{key}-xlsx", icon=":material/table_view:", on_click="ignore",
        )


def download_lines(content: bytes, file_name: str, key: str, label: str,
                   sheet: str = "Données") -> None:
    """The CSV and Excel buttons of a raw CSV file (CONTENT, e.g. rejected rows as read):
    the CSV keeps its delimiter, every text cell of both is neutralised (see exports)."""
    with st.container(horizontal=True):
        st.download_button(
            f"{label} (CSV)", data=lambda: exports.neutralise_csv(content),
            file_name=file_name, mime="text/csv", key=key, icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            f"{label} (Excel)",
            data=lambda: exports.xlsx_bytes(exports.csv_lines_table(content), sheet),
            file_name=exports.xlsx_name(file_name), mime=exports.XLSX_MIME,
            key=f"{key}-xlsx", icon=":material/table_view:", on_click="ignore",
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
