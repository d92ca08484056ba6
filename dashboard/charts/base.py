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

# Colour-blind-safe categorical palette (Okabe-Ito), led by the DSFR blue France.
PALETTE = ["#000091", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#666666"]


def finish(chart: alt.TopLevelMixin, title: str) -> alt.TopLevelMixin:
    """Title the chart and give it the French locale and the palette."""
    return chart.properties(title=title).configure(locale=FR_LOCALE).configure_range(
        category=PALETTE
    )


