"""The mail server: DASHBOARD_SMTP_URL parsed, a message sent with smtplib.

`smtp://[user[:password]@]host[:port][?starttls=1]` (port 25 by default, STARTTLS only
when asked), or `smtps://…` (TLS from the first byte, port 465). The password is never
printed: `masked` shows the URL with `***` in its place, and every error the server or
the network raises is passed through `scrub` before anyone sees it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
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
        tls = "?starttls=1" if self.starttls else ""
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
    query = {k: v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise SmtpUrlError(f"DASHBOARD_SMTP_URL {shown!r}: unknown option {unknown[0]!r} "
                           "(known: starttls)")
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
    )


class SendError(Exception):
    """The server or the network refused the message; the text is safe to store."""


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand MESSAGE over to the server (SendError, password scrubbed, on any failure)."""
    context = ssl.create_default_context()
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
            client.login(config.user, config.password or "")
        client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise SendError(config.scrub(_describe(exc))) from None
    # Accepted: a failing QUIT must not turn the message into a failure (and a resend).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


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
