"""Streamlit building blocks shared by the pages (rendering only, no data access)."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st


def chart_block(
    chart: alt.TopLevelMixin,
    reading: str,
    table: pl.DataFrame,
    file_name: str,
    key: str,
) -> None:
    """A chart with its one-sentence reading, its data table and a CSV of that table.

    The table is the chart's text alternative (accessibility); the CSV holds exactly the
    values shown in it.
    """
    st.altair_chart(chart, width="stretch", alt=reading)
    st.caption(reading)
    with st.expander("Voir les données du graphique"):
        st.dataframe(table, hide_index=True, width="stretch")
        download_csv(table, file_name, key)


def download_csv(table: pl.DataFrame, file_name: str, key: str) -> None:
    """A button that downloads TABLE as CSV (UTF-8 with BOM, so spreadsheets read accents)."""
    st.download_button(
        "Télécharger (CSV)",
        data="\ufeff" + table.write_csv(),
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )
