"""What every chart shares: French locale, colour-blind-safe palette, the finishing touch."""

from __future__ import annotations

import altair as alt

# French number and date formats inside the charts (axes, tooltips).
FR_LOCALE = {
    "number": {
        "decimal": ",",
        "thousands": "\u202f",
        "grouping": [3],
        "currency": ["", "\u00a0€"],
        "percent": "\u202f%",
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre"],
        "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                        "sept.", "oct.", "nov.", "déc."],
    },
}

# Half-hour axes ("08:00", "08:30", …): only the full hours are labelled.
HOUR_LABELS = "substring(datum.value, 3, 5) == '00' ? datum.value : ''"

# Colour-blind-safe categorical palette: Okabe-Ito's hues led by the DSFR blue France,
# the light ones (orange, sky blue, yellow) darkened to the same hue until every colour
# stands at 3:1 or more against white (WCAG 1.4.11, graphical objects); tested.
PALETTE = ["#000091", "#C27B00", "#009E73", "#CC79A7", "#0072B2", "#B34000", "#8F7F00",
           "#666666"]
# DSFR colours the pages may use (text on white meets 4.5:1; tested).
BLUE_FRANCE = "#000091"
RED_MARIANNE = "#E1000F"
TEXT_GREY = "#161616"
MENTION_GREY = "#666666"
# Heatmaps: one hue from light to dark for quantities (readable by every colour vision),
# blue–orange (never red–green) around zero for gaps. Vega scheme names.
SEQUENTIAL_SCHEME = "blues"
DIVERGING_SCHEME = "blueorange"
# The same, as the ten colours Streamlit's theme takes (.streamlit/config.toml).
SEQUENTIAL_COLORS = ["#F5F5FE", "#E3E3FD", "#CACAFB", "#A5A5F5", "#8585F6", "#6A6AF4",
                     "#4646E0", "#2323B4", "#1B1BA0", "#000091"]
DIVERGING_COLORS = ["#A34A00", "#D55E00", "#F08A3C", "#F9C08E", "#FCE6D3", "#E3E3FD",
                    "#A5A5F5", "#6A6AF4", "#2323B4", "#000091"]

# Marianne where the administration's workstations have it (never bundled: its licence
# keeps it to the State), then common system fonts.
FONT = 'Marianne, "Helvetica Neue", Arial, sans-serif'

# Chart heights (pixels of the plot), so that pages look alike.
HEIGHT = 360          # a page's main chart
HEIGHT_SMALL = 240    # a secondary chart, or one of a stack
HEIGHT_SPARK = 200    # one of a grid of small multiples
ROW_STEP = 26         # one row of a heatmap or of a horizontal bar chart
BAR_STEP = 14         # one bar of a dense horizontal bar chart


def finish(chart: alt.TopLevelMixin, title: str) -> alt.TopLevelMixin:
    """Title the chart and give it the French locale and the palette."""
    return chart.properties(title=title).configure(locale=FR_LOCALE, font=FONT).configure_range(
        category=PALETTE
    )


