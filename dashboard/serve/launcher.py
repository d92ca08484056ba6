"""`python -m dashboard.serve [--workers N] [streamlit options]`: serve the entry script
(dashboard/ui/app.py).

With `--workers N` (or DASHBOARD_WORKERS=N), N Streamlit processes serve the app on
local ports behind a sticky proxy (dashboard/serve/proxy.py) on the asked port: one Streamlit
process uses about one core whatever the machine has. A worker that stops is started
again.

In header mode (DASHBOARD_AUTH_MODE=header) the server listens on 127.0.0.1 unless an
address is given (`--server.address` or DASHBOARD_ADDRESS): the identity header must come
from the authenticating proxy alone (dashboard/core/proxy_trust.py). The address a
connection comes from is then the TCP peer's: uvicorn is told to trust no X-Forwarded-For.

Altair imports pandas lazily; when several sessions render their first chart at once on
a fresh server, their threads can meet a half-initialised pandas module. Importing the
chart stack here, once, before Streamlit starts any session thread, closes that window.
"""

from __future__ import annotations

import os
import secrets
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

from dashboard.core import config, proxy_trust

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


def header_mode() -> bool:
    """Whether the app identifies users by a proxy's header (DASHBOARD_AUTH_MODE)."""
    return (config.get("DASHBOARD_AUTH_MODE") or "").strip().lower() == "header"


def listen_address(taken: dict[str, str], header: bool) -> str | None:
    """The address to listen on: the option, else DASHBOARD_ADDRESS, else 127.0.0.1 in
    header mode; None leaves Streamlit's default (every interface)."""
    given = (taken.get("--server.address") or config.get("DASHBOARD_ADDRESS") or "").strip()
    return given or ("127.0.0.1" if header else None)


def _start_worker(port: int, options: list[str],
                  env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dashboard.serve", *options,
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true"], env=env)


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

    header = header_mode()
    guard, env = None, None
    if header:
        trust = _trust_or_exit()
        if trust.configured:
            # The workers see only the sticky proxy (127.0.0.1): it checks the proxy in
            # front and vouches for the requests it believes with a secret of this run.
            guard = proxy.Guard(trust, secrets.token_urlsafe(32),
                                config.get("DASHBOARD_AUTH_HEADER") or "X-Forwarded-User")
            env = dict(os.environ, **{proxy_trust.WORKER_SECRET_ENV: guard.worker_secret})
    ports = [free_port() for _ in range(count)]
    procs = [_start_worker(port, options, env) for port in ports]
    stopping = threading.Event()

    def restart_stopped() -> None:
        while not stopping.wait(2):
            for i, proc in enumerate(procs):
                if proc.poll() is not None and not stopping.is_set():
                    print(f"worker {i} stopped ({proc.returncode}); starting it again",
                          file=sys.stderr, flush=True)
                    procs[i] = _start_worker(ports[i], options, env)

    try:
        for port, proc in zip(ports, procs):
            if not healthy(f"http://127.0.0.1:{port}", proc):
                raise SystemExit(f"worker on port {port} did not start")
        threading.Thread(target=restart_stopped, daemon=True).start()
        port = int(taken.get("--server.port", DEFAULT_PORT))
        address = listen_address(taken, header) or "0.0.0.0"
        print(f"serving {count} workers at http://{address}:{port}", file=sys.stderr, flush=True)
        # proxy_headers=False: the peer address the guard checks is the connection's own,
        # never an X-Forwarded-For a client wrote.
        uvicorn.run(proxy.app([f"127.0.0.1:{p}" for p in ports], guard), host=address,
                    port=port, log_level="warning", ws_max_size=1 << 30, proxy_headers=False)
    finally:
        stopping.set()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _trust_or_exit() -> proxy_trust.ProxyTrust:
    """The header-mode trust settings; a bad one stops the start in one line."""
    try:
        trust = proxy_trust.from_settings()
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if not trust.configured:
        print(proxy_trust.NOT_CONFIGURED, file=sys.stderr, flush=True)
    return trust


def main() -> None:
    """Run `streamlit run dashboard/ui/app.py` with OPTIONS, or N of them behind the proxy."""
    workers, taken, options = split_options(sys.argv[1:])
    if workers > 1:
        serve_workers(workers, taken, options)
        return
    header = header_mode()
    if header:
        _trust_or_exit()
        # Streamlit's uvicorn would take X-Forwarded-For from a loopback peer as the
        # client's address; the proxy addresses are checked against the connection itself.
        os.environ["FORWARDED_ALLOW_IPS"] = ""
    address = listen_address(taken, header)
    if address:
        taken = {**taken, "--server.address": address}
    sys.argv = ["streamlit", "run", str(APP), *options,
                *(x for item in taken.items() for x in item)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
