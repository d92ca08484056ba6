"""`python -m dashboard.serve [--workers N] [streamlit options]`: serve the entry script
(dashboard/ui/app.py).

With `--workers N` (or DASHBOARD_WORKERS=N), N Streamlit processes serve the app on
local ports behind a sticky proxy (dashboard/serve/proxy.py) on the asked port: one Streamlit
process uses about one core whatever the machine has. A worker that stops is started
again.

Altair imports pandas lazily; when several sessions render their first chart at once on
a fresh server, their threads can meet a half-initialised pandas module. Importing the
chart stack here, once, before Streamlit starts any session thread, closes that window.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import altair  # noqa: F401  (see the module docstring)
import pandas  # noqa: F401
import polars  # noqa: F401
import vl_convert  # noqa: F401
from streamlit.web import cli

APP = Path(__file__).resolve().parents[1] / "ui" / "app.py"
DEFAULT_PORT = 8501
START_SECONDS = 90


def split_options(args: list[str]) -> tuple[int, dict[str, str], list[str]]:
    """(workers, {"--server.port": ..., "--server.address": ...}, the other options)."""
    workers = os.environ.get("DASHBOARD_WORKERS", "1")
    taken: dict[str, str] = {}
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        name, eq, value = arg.partition("=")
        if name in ("--workers", "--server.port", "--server.address"):
            value = value if eq else next(items, "")
            if name == "--workers":
                workers = value
            else:
                taken[name] = value
        else:
            rest.append(arg)
    if not workers.strip().isdigit() or int(workers) < 1:
        raise SystemExit(f"--workers must be a whole number of 1 or more, not {workers!r}")
    return int(workers), taken, rest


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_worker(port: int, options: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dashboard.serve", *options,
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true"])


def healthy(base: str, proc: subprocess.Popen, seconds: float = START_SECONDS) -> bool:
    """Whether the server at BASE (http://host:port), run by PROC, answers its health
    check within SECONDS (False as soon as PROC ends)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def serve_workers(count: int, taken: dict[str, str], options: list[str]) -> None:
    """Start COUNT Streamlit workers and the sticky proxy in front of them."""
    import uvicorn

    from dashboard.serve import proxy

    ports = [free_port() for _ in range(count)]
    procs = [_start_worker(port, options) for port in ports]
    stopping = threading.Event()

    def restart_stopped() -> None:
        while not stopping.wait(2):
            for i, proc in enumerate(procs):
                if proc.poll() is not None and not stopping.is_set():
                    print(f"worker {i} stopped ({proc.returncode}); starting it again",
                          file=sys.stderr, flush=True)
                    procs[i] = _start_worker(ports[i], options)

    try:
        for port, proc in zip(ports, procs):
            if not healthy(f"http://127.0.0.1:{port}", proc):
                raise SystemExit(f"worker on port {port} did not start")
        threading.Thread(target=restart_stopped, daemon=True).start()
        port = int(taken.get("--server.port", DEFAULT_PORT))
        address = taken.get("--server.address") or "0.0.0.0"
        print(f"serving {count} workers at http://{address}:{port}", file=sys.stderr, flush=True)
        uvicorn.run(proxy.app([f"127.0.0.1:{p}" for p in ports]), host=address, port=port,
                    log_level="warning", ws_max_size=1 << 30)
    finally:
        stopping.set()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    """Run `streamlit run dashboard/ui/app.py` with OPTIONS, or N of them behind the proxy."""
    workers, taken, options = split_options(sys.argv[1:])
    if workers > 1:
        serve_workers(workers, taken, options)
        return
    sys.argv = ["streamlit", "run", str(APP), *options,
                *(x for item in taken.items() for x in item)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
