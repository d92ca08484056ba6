"""The look of a state service, held to accessibility rules: every theme text colour reads
at 4.5:1 on its backgrounds (RGAA 3.2 / WCAG 1.4.3), every chart colour at 3:1 on white
(WCAG 1.4.11), the chart palettes stay apart for colour-blind readers, and the theme's
chart colours are the charts' own."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import pytest

from dashboard.charts import base

ROOT = Path(__file__).resolve().parent.parent
THEME = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]


def _linear(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    return tuple(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    r, g, b = _linear(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Viénot, Brettel & Mollon (1999) dichromat simulation, on linear RGB.
DICHROMATS = {
    "protanopia": ((0.112, 0.888, 0.0), (0.112, 0.888, 0.0), (0.004, -0.004, 1.0)),
    "deuteranopia": ((0.292, 0.708, 0.0), (0.292, 0.708, 0.0), (-0.022, 0.022, 1.0)),
    "tritanopia": ((1.0, 0.137, -0.137), (0.0, 0.863, 0.137), (0.0, 0.863, 0.137)),
}


def simulated(hex_colour: str, matrix) -> tuple[float, float, float]:
    rgb = _linear(hex_colour)
    return tuple(sum(m * c for m, c in zip(row, rgb)) for row in matrix)


def test_contrast_function_matches_known_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast("#000091", "#FFFFFF") == pytest.approx(14.91, abs=0.01)


@pytest.mark.parametrize("name", ["textColor", "primaryColor", "linkColor", "redTextColor",
                                  "greenTextColor", "orangeTextColor", "blueTextColor",
                                  "grayTextColor"])
@pytest.mark.parametrize("background", ["backgroundColor", "secondaryBackgroundColor"])
def test_theme_text_colours_meet_aa(name, background):
    assert contrast(THEME[name], THEME[background]) >= 4.5, (name, background)


def test_sidebar_text_meets_aa_on_its_background():
    sidebar = THEME["sidebar"]
    assert contrast(THEME["textColor"], sidebar["backgroundColor"]) >= 4.5
    assert contrast(THEME["primaryColor"], sidebar["backgroundColor"]) >= 4.5


def test_dsfr_colours():
    assert THEME["primaryColor"].upper() == base.BLUE_FRANCE == "#000091"
    assert base.PALETTE[0] == base.BLUE_FRANCE
    for colour in (base.BLUE_FRANCE, base.RED_MARIANNE, base.TEXT_GREY, base.MENTION_GREY):
        assert contrast(colour, "#FFFFFF") >= 4.5, colour


@pytest.mark.parametrize("colour", base.PALETTE)
def test_every_chart_colour_stands_out_from_white(colour):
    assert contrast(colour, "#FFFFFF") >= 3.0


@pytest.mark.parametrize("kind", sorted(DICHROMATS))
def test_the_palette_stays_apart_for_colour_blind_readers(kind):
    # The first six colours are the ones charts use for series; each pair stays distinct
    # (distance in simulated linear RGB) for every kind of dichromacy.
    matrix = DICHROMATS[kind]
    for a, b in itertools.combinations(base.PALETTE[:6], 2):
        sa, sb = simulated(a, matrix), simulated(b, matrix)
        distance = sum((x - y) ** 2 for x, y in zip(sa, sb)) ** 0.5
        assert distance > 0.05, (kind, a, b, round(distance, 3))


def test_theme_chart_colours_are_the_charts_own():
    assert THEME["chartCategoricalColors"] == base.PALETTE
    assert THEME["chartSequentialColors"] == base.SEQUENTIAL_COLORS
    assert THEME["chartDivergingColors"] == base.DIVERGING_COLORS


def test_sequential_colours_darken_steadily():
    lum = [luminance(c) for c in base.SEQUENTIAL_COLORS]
    assert lum == sorted(lum, reverse=True)
    assert len(base.SEQUENTIAL_COLORS) == 10


def test_diverging_colours_lighten_to_the_middle_then_darken():
    lum = [luminance(c) for c in base.DIVERGING_COLORS]
    assert lum[:5] == sorted(lum[:5]) and lum[5:] == sorted(lum[5:], reverse=True)
    # Two hues only, orange then blue: never red against green.
    assert all(_linear(c)[0] > _linear(c)[2] for c in base.DIVERGING_COLORS[:5])
    assert all(_linear(c)[2] > _linear(c)[0] for c in base.DIVERGING_COLORS[5:])


def test_theme_font_falls_back_without_marianne():
    for key in ("font", "headingFont"):
        fonts = [f.strip() for f in THEME[key].split(",")]
        assert fonts[0] == "Marianne" and fonts[-1] == "sans-serif"
    assert base.FONT.startswith("Marianne,") and base.FONT.endswith("sans-serif")
