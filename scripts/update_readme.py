"""Rewrite the generated parts of README.md (the metric table) from the code.

    python scripts/update_readme.py          # rewrite
    python scripts/update_readme.py --check  # exit 1 when README.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.metrics.definitions import metrics_markdown  # noqa: E402

START, END = "<!-- metrics:start -->", "<!-- metrics:end -->"


def rendered(readme: str) -> str:
    """README text with the metric table regenerated between its markers."""
    block = f"{START}\n{metrics_markdown()}\n{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {START} … {END} block")
    return pattern.sub(lambda _m: block, readme)


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    wanted = rendered(current)
    if "--check" in sys.argv:
        if current != wanted:
            print("README.md's metric table is out of date: run scripts/update_readme.py")
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
