"""The README is held to the code: settings, commands and the metric table."""

from __future__ import annotations

from pathlib import Path

from dashboard.cli.main import main
from dashboard.core import config
from dashboard.metrics.definitions import METRICS, metrics_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_secrets_key():
    for setting in config.SETTINGS:
        assert f"`{setting.env}`" in README, setting.env
        if setting.key:
            assert f"`{setting.key}`" in README, setting.key


def test_every_command_is_documented():
    for name in main.commands:
        assert f"`{name}" in README, name


def test_metric_table_is_the_registry():
    assert metrics_markdown() in README, "run scripts/update_readme.py"
    for metric in METRICS:
        assert f"`{metric.key}`" in README and metric.label in README
