"""Header mode believes the identity header from the authenticating proxy only, and the
server it starts is not reachable from the network unless told so.

The real-server cases start `python -m dashboard.serve` in header mode with the proxy's
secret configured and no address given, one Streamlit process and then two behind the
sticky proxy (dashboard/serve/proxy.py). Each is checked three ways: it answers on
127.0.0.1 and refuses a connection on the machine's network address; a browser sending
`X-Forwarded-User: admin` without the secret (or with a wrong one) gets "Accès non
autorisé" and no admin view; with the secret, the admin view. The launcher's and the
sticky proxy's decisions are also checked directly, without a server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.core.proxy_trust import SECRET_HEADER, ProxyTrust, parse_addresses
from dashboard.serve import launcher, proxy
from dashboard.serve.launcher import free_port, healthy, listen_address
from dashboard.ui.identity import DEFAULT_AUTH_HEADER
from tests.browser.server import PROXY_SECRET, ROOT
from tests.browser.test_first_request import open_first

REFUSAL_TITLE = "Accès non autorisé"
ADMIN = "Administrateur"


# ------------------------------------------------------- the launcher's address, pure


@pytest.fixture
def no_address(monkeypatch):
    monkeypatch.delenv("DASHBOARD_ADDRESS", raising=False)


def test_header_mode_listens_on_loopback_unless_an_address_is_given(monkeypatch, no_address):
    assert listen_address({}, header=True) == "127.0.0.1"
    assert listen_address({}, header=False) is None  # Streamlit's own default
    assert listen_address({"--server.address": "0.0.0.0"}, header=True) == "0.0.0.0"
    monkeypatch.setenv("DASHBOARD_ADDRESS", "192.0.2.10")
    assert listen_address({}, header=True) == "192.0.2.10"
    assert listen_address({}, header=False) == "192.0.2.10"
    assert listen_address({"--server.address": "::"}, header=True) == "::"


def _streamlit_argv(monkeypatch, args: list[str]) -> list[str]:
    """The command line the launcher hands to Streamlit for ARGS (Streamlit not run)."""
    seen: list[list[str]] = []
    monkeypatch.setattr(launcher.cli, "main", lambda: seen.append(list(sys.argv)) or 0)
    monkeypatch.setattr(sys, "argv", ["dashboard.serve", *args])
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "restored-after-the-test")
    with pytest.raises(SystemExit):
        launcher.main()
    return seen[0]


def _address_in(argv: list[str]) -> str | None:
    return argv[argv.index("--server.address") + 1] if "--server.address" in argv else None


def test_the_launcher_passes_the_address_to_streamlit(monkeypatch, no_address):
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_SECRET", "x")
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "header")
    assert _address_in(_streamlit_argv(monkeypatch, ["--server.port", "8600"])) == "127.0.0.1"
    # Streamlit's uvicorn takes no X-Forwarded-For for the client's address in header mode.
    assert os.environ["FORWARDED_ALLOW_IPS"] == ""
    argv = _streamlit_argv(monkeypatch, ["--server.address=0.0.0.0"])
    assert _address_in(argv) == "0.0.0.0" and argv.count("--server.address") == 1
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    assert _address_in(_streamlit_argv(monkeypatch, [])) is None


def test_a_bad_proxy_address_stops_the_launcher_in_one_line(monkeypatch, no_address):
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "header")
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_ADDRESSES", "proxy.local")
    started: list[bool] = []
    monkeypatch.setattr(launcher.cli, "main", lambda: started.append(True) or 0)
    monkeypatch.setattr(sys, "argv", ["dashboard.serve"])
    with pytest.raises(SystemExit, match="'proxy.local' n'est ni une adresse IP"):
        launcher.main()
    assert not started


# ---------------------------------------------------- the sticky proxy's guard, pure


def _guard(**trust) -> proxy.Guard:
    return proxy.Guard(ProxyTrust(**trust), "worker-secret", DEFAULT_AUTH_HEADER)


def test_the_sticky_proxy_vouches_for_the_proxys_requests_with_its_own_secret():
    sent = [("host", "x"), (DEFAULT_AUTH_HEADER, "admin"), (SECRET_HEADER.lower(), "front")]
    assert _guard(secret="front").headers(sent, "203.0.113.9") == [
        ("host", "x"), (DEFAULT_AUTH_HEADER, "admin"), (SECRET_HEADER, "worker-secret")]
    by_address = _guard(networks=parse_addresses("10.0.0.0/24"))
    assert by_address.headers([(DEFAULT_AUTH_HEADER, "admin")], "10.0.0.9") == [
        (DEFAULT_AUTH_HEADER, "admin"), (SECRET_HEADER, "worker-secret")]


@pytest.mark.parametrize(("sent", "peer"), [
    ([(DEFAULT_AUTH_HEADER, "admin")], "203.0.113.9"),                      # no secret
    ([(DEFAULT_AUTH_HEADER, "admin"), (SECRET_HEADER, "guess")], "203.0.113.9"),
    ([(DEFAULT_AUTH_HEADER.lower(), "admin"), (SECRET_HEADER, "front"),
      (SECRET_HEADER, "front")], "203.0.113.9"),                            # repeated
    ([(DEFAULT_AUTH_HEADER, "admin")], None),                               # peer unknown
])
def test_the_sticky_proxy_strips_the_identity_of_other_requests(sent, peer):
    guard = _guard(secret="front", networks=parse_addresses("127.0.0.1"))
    assert guard.headers(sent, peer) == []


# ------------------------------------------------------------------- a real server


def network_address() -> str | None:
    """An IPv4 address of this machine other than loopback, or None."""
    for target in ("192.0.2.1", "10.255.255.255", "198.51.100.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((target, 9))  # UDP: sends nothing, only picks the route
            except OSError:
                continue
            address = sock.getsockname()[0]
            if not address.startswith("127.") and address != "0.0.0.0":
                return address
    return None


def reachable(host: str, port: int) -> bool:
    """Whether a TCP connection to HOST:PORT is accepted."""
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def header_mode_server(db_url: str, log_path: Path, workers: int):
    """`python -m dashboard.serve --workers WORKERS` in header mode with the proxy's
    secret and no address given; (base URL on 127.0.0.1, port) once it answers."""
    port = free_port()
    env = dict(os.environ, DASHBOARD_DB_URL=db_url, DASHBOARD_AUTH_MODE="header",
               DASHBOARD_AUTH_HEADER=DEFAULT_AUTH_HEADER,
               DASHBOARD_AUTH_PROXY_SECRET=PROXY_SECRET,
               DASHBOARD_SECRETS_FILE=str(log_path.parent / "none.toml"))
    for name in ("DASHBOARD_ADDRESS", "DASHBOARD_AUTH_PROXY_ADDRESSES", "DASHBOARD_WORKERS",
                 "STREAMLIT_SERVER_ADDRESS"):
        env.pop(name, None)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve", "--workers", str(workers),
             "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            if not healthy(base, proc, 60 + 30 * workers):
                pytest.fail(f"the server did not start; see {log_path}")
            yield base, port
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the workers with it
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-workers"])
def server(request, demo_db_url, tmp_path_factory):
    log = tmp_path_factory.mktemp(f"header-{request.param}") / "streamlit.log"
    with header_mode_server(demo_db_url, log, request.param) as started:
        yield started


@pytest.mark.slow
def test_the_server_listens_on_loopback_only(server):
    _, port = server
    assert reachable("127.0.0.1", port)
    address = network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    assert not reachable(address, port), f"{address}:{port} accepted a connection"


def _texts(pg) -> tuple[list[str], str, str]:
    """(the main area's titles, the sidebar's text, the whole page's text)."""
    headings = [h.strip() for h in
                pg.locator("[data-testid=stMain] h1").all_inner_texts()]
    sidebar = pg.locator("[data-testid=stSidebar]")
    side = sidebar.inner_text() if sidebar.count() else ""
    return headings, side, pg.locator("body").inner_text()


@pytest.mark.slow
@pytest.mark.parametrize("secret", [None, "guess", PROXY_SECRET[:-1]],
                         ids=["no-secret", "wrong-secret", "truncated-secret"])
def test_the_admin_header_without_the_proxys_secret_is_refused(server, chromium, secret):
    base, _ = server
    headers = {DEFAULT_AUTH_HEADER: "admin", **({SECRET_HEADER: secret} if secret else {})}
    context, pg, errors = open_first(chromium, base + "/", headers=headers)
    try:
        headings, sidebar, body = _texts(pg)
        assert headings == [REFUSAL_TITLE], (headings, body)
        assert ADMIN not in body, body
        assert pg.locator("[data-testid=stSidebarNav]").count() == 0, body
        assert pg.locator("[data-testid=stMetric]").count() == 0, body
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.slow
def test_the_admin_header_with_the_proxys_secret_gets_the_admin_view(server, chromium):
    base, _ = server
    context, pg, errors = open_first(
        chromium, base + "/", headers={DEFAULT_AUTH_HEADER: "admin", SECRET_HEADER: PROXY_SECRET})
    try:
        headings, sidebar, body = _texts(pg)
        assert REFUSAL_TITLE not in headings, (headings, body)
        assert ADMIN in sidebar, body
        assert pg.locator("[data-testid=stSidebarNav]").count() == 1, body
        assert not errors, errors
    finally:
        context.close()
