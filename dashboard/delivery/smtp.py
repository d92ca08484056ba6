"""The mail server: DASHBOARD_SMTP_URL parsed, a message sent with smtplib.

`smtp://[user[:password]@]host[:port][?starttls=1]` (port 25 by default, STARTTLS only
when asked), or `smtps://…` (TLS from the first byte, port 465). The password is never
printed: `masked` shows the URL with `***` in its place, and every error the server or
the network raises is passed through `scrub` before anyone sees it.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dashboard.core import dburl

DEFAULT_TIMEOUT = 60.0  # seconds a silent server is waited for; well under the lease
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SmtpUrlError(ValueError):
    """A DASHBOARD_SMTP_URL that cannot be used (the message never holds the password)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand messages over."""

    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None  # the CA certificates to trust instead of the system's

    def scrub(self, text: str) -> str:
        """TEXT with the password (plain or URL-encoded) replaced by ***."""
        if self.password:
            text = text.replace(self.password, "***")
        return text

    @property
    def masked(self) -> str:
        """The server as a URL, the password shown as ***."""
        scheme = "smtps" if self.ssl else "smtp"
        auth = f"{self.user}:***@" if self.user and self.password else (
            f"{self.user}@" if self.user else "")
        options = [o for o in ("starttls=1" if self.starttls else "",
                               f"cafile={self.cafile}" if self.cafile else "") if o]
        tls = "?" + "&".join(options) if options else ""
        return f"{scheme}://{auth}{self.host}:{self.port}{tls}"


def parse_url(url: str, timeout: float = DEFAULT_TIMEOUT) -> SmtpConfig:
    """DASHBOARD_SMTP_URL → SmtpConfig (SmtpUrlError, password masked, if it is not one)."""
    shown = dburl.masked_text(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: not a URL "
                           "smtp://[user:password@]host[:port][?starttls=1]") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: the scheme must be smtp or smtps")
    if not parts.hostname:
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: no host")
    raw = {k: v[-1].strip() for k, v in parse_qs(parts.query).items()}
    query = {k: v.lower() for k, v in raw.items()}
    unknown = sorted(set(query) - {"starttls", "cafile"})
    if unknown:
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: unknown option {unknown[0]!r} "
                           "(known: starttls, cafile)")
    cafile = raw.get("cafile") or None
    if cafile is not None and not Path(cafile).expanduser().is_file():
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: cafile {cafile!r} is not a file")
    flag = query.get("starttls", "0")
    if flag not in _TRUE + _FALSE:
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: starttls must be 1 or 0")
    secure = parts.scheme == "smtps"
    starttls = flag in _TRUE
    if secure and starttls:
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: smtps is already TLS; "
                           "starttls=1 is for smtp://")
    return SmtpConfig(
        host=parts.hostname, port=port or (465 if secure else 25),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        starttls=starttls, ssl=secure, timeout=timeout,
        cafile=str(Path(cafile).expanduser()) if cafile else None,
    )


class SendError(Exception):
    """The server or the network refused the message; the text is safe to store."""


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand MESSAGE over to the server (SendError, password scrubbed, on any failure)."""
    # The system's CAs, or only CAFILE's (an internal relay's own CA): the server's
    # certificate and name are always checked.
    context = ssl.create_default_context(cafile=config.cafile)
    try:
        if config.ssl:
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                      context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(config.scrub(_describe(exc))) from None
    try:
        if config.starttls:
            client.starttls(context=context)
        if config.user:
            _login(client, config.user, config.password or "")
        client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise SendError(config.scrub(_describe(exc))) from None
    # Accepted: a failing QUIT must not turn the message into a failure (and a resend).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with AUTH PLAIN (RFC 4616: the credentials in UTF-8, one round trip, a
    refusal answered at once) when the server offers it, as nearly all do; else smtplib's
    own negotiation, which can only send ASCII credentials."""
    client.ehlo_or_helo_if_needed()
    if not client.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH")
    if "PLAIN" not in client.esmtp_features["auth"].upper().split():
        if not (user + password).isascii():
            raise smtplib.SMTPNotSupportedError(
                "the server offers no AUTH PLAIN, the only way to send a non-ASCII password")
        client.login(user, password)
        return
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg)
                          in exc.recipients.items())
        return f"recipient refused ({codes})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
