"""Mail over TLS, against a real aiosmtpd server on the loopback with a certificate made
for the test (openssl): STARTTLS with login, TLS from the first byte (smtps), a private
CA trusted through `cafile`, and the refusals a misconfigured relay gives."""

from __future__ import annotations

import email.policy
import shutil
import ssl
import subprocess
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dashboard.delivery import smtp
from tests.test_delivery import Inbox, free_port

USER, PASSWORD = "mailer@tdb.example.fr", "s3crét:pw"
QUOTED_USER, QUOTED_PASSWORD = "mailer%40tdb.example.fr", "s3cr%C3%A9t%3Apw"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="openssl is not installed: no test certificate")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert path, key path)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class Logins:
    """An aiosmtpd authenticator that accepts USER/PASSWORD and records every try."""

    def __init__(self) -> None:
        self.tries: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tries.append((login, password))
        # handled=False: aiosmtpd answers itself (235, or 535 on a refusal).
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)


@pytest.fixture
def tls_server(certificate):
    """Start a loopback server: STARTTLS required before login (implicit=False) or TLS
    from the first byte (implicit=True); stopped after the test."""
    started = []

    def start(implicit: bool, exclude: tuple[str, ...] = ()) -> tuple[Inbox, Logins, int]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, certificate))
        inbox, logins, port = Inbox(), Logins(), free_port()
        # aiosmtpd only counts STARTTLS as TLS: on a connection that is TLS from the start
        # it must be told to offer AUTH anyway.
        options = dict(authenticator=logins, auth_require_tls=not implicit,
                       auth_exclude_mechanism=list(exclude))
        if implicit:
            controller = Controller(inbox, hostname="127.0.0.1", port=port,
                                    ssl_context=context, server_kwargs=options)
        else:
            controller = Controller(inbox, hostname="127.0.0.1", port=port,
                                    tls_context=context, require_starttls=True,
                                    server_kwargs=options)
        controller.start()
        started.append(controller)
        return inbox, logins, port

    yield start
    for controller in started:
        controller.stop()


def message() -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = USER, "direction@example.fr", "Essai – TLS"
    msg.set_content("Chiffres du jour.")
    return msg


def test_starttls_then_login_hands_the_message_over(tls_server, certificate):
    inbox, logins, port = tls_server(implicit=False)
    config = smtp.parse_url(f"smtp://{QUOTED_USER}:{QUOTED_PASSWORD}@127.0.0.1:{port}"
                            f"?starttls=1&cafile={certificate[0]}")
    # The user and password are URL-decoded; the CA path is kept as given.
    assert (config.user, config.password, config.cafile) == (USER, PASSWORD,
                                                             str(certificate[0]))
    smtp.send(config, message())
    assert logins.tries == [(USER, PASSWORD)]
    assert [m["Subject"] for m in inbox.received] == ["Essai – TLS"]


def test_tls_from_the_first_byte(tls_server, certificate):
    inbox, logins, port = tls_server(implicit=True)
    smtp.send(smtp.parse_url(f"smtps://{QUOTED_USER}:{QUOTED_PASSWORD}@127.0.0.1:{port}"
                             f"?cafile={certificate[0]}"), message())
    assert logins.tries == [(USER, PASSWORD)]
    assert len(inbox.received) == 1


def test_a_wrong_password_is_refused_and_never_shown(tls_server, certificate):
    inbox, logins, port = tls_server(implicit=False)
    config = smtp.parse_url(f"smtp://{QUOTED_USER}:hunter2@127.0.0.1:{port}"
                            f"?starttls=1&cafile={certificate[0]}")
    with pytest.raises(smtp.SendError) as refused:
        smtp.send(config, message())
    assert str(refused.value).startswith("535")
    assert "hunter2" not in str(refused.value)
    assert logins.tries == [(USER, "hunter2")] and inbox.received == []


def test_an_untrusted_certificate_is_refused_before_the_password_is_sent(tls_server):
    inbox, logins, port = tls_server(implicit=False)
    # No cafile: the system's CAs do not know the test's own certificate.
    config = smtp.parse_url(f"smtp://{QUOTED_USER}:{QUOTED_PASSWORD}@127.0.0.1:{port}"
                            "?starttls=1")
    with pytest.raises(smtp.SendError) as refused:
        smtp.send(config, message())
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert logins.tries == [] and inbox.received == []


def test_login_without_starttls_is_refused_by_a_server_that_requires_it(tls_server):
    inbox, logins, port = tls_server(implicit=False)
    with pytest.raises(smtp.SendError):
        smtp.send(smtp.parse_url(f"smtp://{QUOTED_USER}:{QUOTED_PASSWORD}@127.0.0.1:{port}"),
                  message())
    assert logins.tries == [] and inbox.received == []


def test_a_missing_cafile_is_one_line_with_the_password_masked(tmp_path):
    with pytest.raises(smtp.SmtpUrlError) as bad:
        smtp.parse_url(f"smtp://u:hunter2@h?starttls=1&cafile={tmp_path}/none.pem")
    text = str(bad.value)
    assert "hunter2" not in text and "none.pem' is not a file" in text
    assert len(text.splitlines()) == 1


def test_a_server_without_plain_gets_login_for_an_ascii_password(tls_server, certificate):
    inbox, logins, port = tls_server(implicit=False, exclude=("PLAIN",))
    # AUTH LOGIN (the only one offered) with a wrong ASCII password: refused at once.
    with pytest.raises(smtp.SendError) as refused:
        smtp.send(smtp.parse_url(f"smtp://{QUOTED_USER}:ascii-only@127.0.0.1:{port}"
                                 f"?starttls=1&cafile={certificate[0]}"), message())
    assert str(refused.value).startswith("535")
    assert logins.tries == [(USER, "ascii-only")] and inbox.received == []


def test_a_non_ascii_password_needs_plain_and_says_so(tls_server, certificate):
    inbox, logins, port = tls_server(implicit=False, exclude=("PLAIN",))
    with pytest.raises(smtp.SendError) as refused:
        smtp.send(smtp.parse_url(f"smtp://{QUOTED_USER}:{QUOTED_PASSWORD}@127.0.0.1:{port}"
                                 f"?starttls=1&cafile={certificate[0]}"), message())
    assert "no AUTH PLAIN" in str(refused.value) and PASSWORD not in str(refused.value)
    assert logins.tries == []
