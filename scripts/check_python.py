"""Fail early, in one line, when the interpreter is older than the project needs."""

import sys

if sys.version_info < (3, 11):
    sys.exit(f"error: Python 3.11 or newer is needed, this is {sys.version.split()[0]}; "
             "set PYTHON=python3.11 (make run PYTHON=python3.11)")
