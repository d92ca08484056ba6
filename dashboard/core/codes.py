"""The pattern of the codes that imports and reference files carry: site and agent codes
are identifiers, never free text.

A code is 1 to 64 ASCII letters, digits, `.`, `_` or `-` (`rouen`, `rouen-a001`, `DORIT`,
`NO_SERVER`): no space, no accent, no markup. Names meant for people (an agent's display
name, a site's name) are separate columns with no pattern. The database columns can be
shorter (a site code has 32 characters at most), and their length rules apply too.

`queue` is not a code: the data contract calls it the topic or queue *label*, and
telephony exports name their queues in words ("procédures collectives"); like every
name, it is shown as text, never as Markdown.
"""

from __future__ import annotations

import re

CODE_MAX = 64
# One definition, used by Python's `re` and by Polars' (Rust) regex engine alike.
CODE_PATTERN = rf"^[A-Za-z0-9._-]{{1,{CODE_MAX}}}$"
CODE_RULE = f"letters, digits, '.', '_' or '-', 1 to {CODE_MAX} characters"
# The columns of the import kinds that hold codes.
CODE_COLUMNS = ("site", "agent_id", "service")  # service: a local service (local-reception)

_CODE = re.compile(CODE_PATTERN)


def is_code(value: object) -> bool:
    """True when VALUE is a string that follows CODE_PATTERN."""
    # fullmatch: `$` alone would also accept a trailing newline.
    return isinstance(value, str) and _CODE.fullmatch(value) is not None
