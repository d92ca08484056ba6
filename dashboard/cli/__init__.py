"""Subcommands of `python -m dashboard`, one module each; registered in dashboard.cli."""
