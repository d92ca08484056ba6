"""Start the real app (`python -m dashboard.serve`) for the browser tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.serve.launcher import free_port, healthy

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60
# Header mode believes the identity header only with the proxy's secret: the tests play
# the proxy and send both.
PROXY_SECRET = "browser-tests-proxy-secret"


@contextlib.contextmanager
def serving(db_url: str, log_path: Path, **settings: str) -> Iterator[str]:
    """One Streamlit process on DB_URL with the DASHBOARD_* SETTINGS given (no worker
    proxy, no secrets file); yields its base URL once /_stcore/health answers."""
    port = free_port()
    env = dict(os.environ, DASHBOARD_DB_URL=db_url, DASHBOARD_WORKERS="1",
               DASHBOARD_SECRETS_FILE=str(log_path.parent / "none.toml"), **settings)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            if not healthy(base, proc, START_SECONDS):
                pytest.fail(f"streamlit did not start; see {log_path}")
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
