"""Settings: environment variables first, then `.streamlit/secrets.toml`, then defaults.

Every setting is listed in SETTINGS with its environment variable, its key in the
`[dashboard]` section of the secrets file, its default and a one-line description; the
README's settings table is checked against this list by a test.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from dashboard.core import dburl

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB_URL = "sqlite:///data/demo.sqlite"
DEFAULT_TIMEZONE = "Europe/Paris"


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    env: str
    key: str
    default: str | None
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DASHBOARD_DB_URL", "db_url", DEFAULT_DB_URL,
            "URL of the database (PostgreSQL in production); DATABASE_URL when unset"),
    Setting("DASHBOARD_SECRETS_FILE", "", ".streamlit/secrets.toml",
            "where to read the `[dashboard]` settings section from"),
    Setting("DASHBOARD_CALLER_KEY_SECRET", "caller_key_secret", None,
            "secret key of the keyed hash that replaces caller ids (required to import them)"),
    Setting("DASHBOARD_PSEUDONYM_SECRET", "pseudonym_secret", None,
            "secret of the keyed hash that pseudonymises agents in the national view"),
    Setting("DASHBOARD_AUTH_MODE", "auth_mode", None,
            "identity: `oidc`, `header` or `demo`; unset means `demo` on the demo database "
            "and nobody elsewhere"),
    Setting("DASHBOARD_AUTH_HEADER", "auth_header", "X-Forwarded-User",
            "header mode: the header an authenticating reverse proxy sets to the login"),
    Setting("DASHBOARD_AUTH_PROXY_SECRET", "auth_proxy_secret", None,
            "header mode: secret the proxy sends in `X-Dashboard-Proxy-Secret`; the login "
            "header counts only with it (or from DASHBOARD_AUTH_PROXY_ADDRESSES)"),
    Setting("DASHBOARD_AUTH_PROXY_ADDRESSES", "auth_proxy_addresses", None,
            "header mode: the proxy's IPs or CIDR networks, comma-separated, whose "
            "connections are believed without the secret"),
    Setting("DASHBOARD_ADDRESS", "address", None,
            "address the server listens on; unset: 127.0.0.1 in header mode, every "
            "interface otherwise"),
    Setting("DASHBOARD_OIDC_PROVIDER", "oidc_provider", None,
            "oidc mode: the provider name of secrets' [auth.NAME] section, if several"),
    Setting("DASHBOARD_OIDC_LOGIN_CLAIM", "oidc_login_claim", "email",
            "oidc mode: the identity-token claim that holds the login"),
    Setting("DASHBOARD_SL_SECONDS", "sl_seconds", "20",
            "service-level threshold in seconds, when a site sets none"),
    Setting("DASHBOARD_SHORT_ABANDON_SECONDS", "short_abandon_seconds", "5",
            "abandons shorter than this are short abandons, when a site sets none"),
    Setting("DASHBOARD_SL_TARGET", "sl_target", "0.8",
            "service-level target (fraction), when a site sets none"),
    Setting("DASHBOARD_ANSWER_RATE_TARGET", "answer_rate_target", "0.85",
            "answer-rate target (fraction), when a site sets none"),
    Setting("DASHBOARD_WALLBOARD_REFRESH_SECONDS", "wallboard_refresh_seconds", "60",
            "seconds between two refreshes of the wallboard (`/aujourdhui?wallboard=1`)"),
    Setting("DASHBOARD_QUARANTINE_DIR", "quarantine_dir", "quarantine",
            "folder of the imports' rejected rows (relative: from the project root); the "
            "Données page offers only the files under it"),
    Setting("DASHBOARD_PG_WORK_MEM", "pg_work_mem", "64MB",
            "PostgreSQL: memory each sort or hash of the app's queries may use (`work_mem`, "
            "as `64MB` or `512kB`); `server` keeps the server's own setting"),
    Setting("DASHBOARD_SMTP_URL", "smtp_url", None,
            "mail server of `deliver`: `smtp://user:password@host:587?starttls=1` "
            "(`smtps://` for TLS from the start; user, password and STARTTLS optional; "
            "`&cafile=PATH` trusts that CA instead of the system's)"),
    Setting("DASHBOARD_MAIL_FROM", "mail_from", None,
            "sender address of the e-mails `deliver` sends"),
    Setting("DASHBOARD_PUBLIC_URL", "public_url", "http://localhost:8501",
            "the app's address as its readers open it, used in the links of e-mails"),
)


def secrets_path() -> Path:
    """Path of the secrets file; tests point DASHBOARD_SECRETS_FILE elsewhere."""
    raw = os.environ.get("DASHBOARD_SECRETS_FILE", ".streamlit/secrets.toml")
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


def _secrets_section() -> dict:
    path = secrets_path()
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get("dashboard", {}))


def given(env: str) -> str | None:
    """Value of the setting named by its environment variable, if set (no default)."""
    setting = next(s for s in SETTINGS if s.env == env)
    if env in os.environ and os.environ[env] != "":
        return os.environ[env]
    if setting.key:
        value = _secrets_section().get(setting.key)
        if value is not None:
            return str(value)
    return None


def get(env: str) -> str | None:
    """Value of the setting named by its environment variable, else its default."""
    value = given(env)
    return value if value is not None else next(s for s in SETTINGS if s.env == env).default


def db_url() -> str:
    """Database URL: DASHBOARD_DB_URL (environment, then secrets), else DATABASE_URL (the
    hosting panels' name), else the demo; postgres:// means psycopg2, a relative SQLite
    path is taken from the project root."""
    url = (given("DASHBOARD_DB_URL") or os.environ.get("DATABASE_URL", "").strip()
           or DEFAULT_DB_URL)
    url = dburl.normalise(url)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        rel = url[len(prefix):]
        if rel and rel != ":memory:":
            url = prefix + str(ROOT / rel)
    return url


def quarantine_dir() -> Path:
    """Folder of the quarantine files (DASHBOARD_QUARANTINE_DIR, relative: from the root)."""
    path = Path(get("DASHBOARD_QUARANTINE_DIR")).expanduser()
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class Thresholds:
    """Metric thresholds of spec/metrics.md; per-site values override these defaults."""

    sl_seconds: int = 20
    short_abandon_seconds: int = 5
    sl_target: float = 0.8
    answer_rate_target: float = 0.85


def default_thresholds() -> Thresholds:
    """Thresholds from the settings."""
    return Thresholds(
        sl_seconds=int(get("DASHBOARD_SL_SECONDS")),
        short_abandon_seconds=int(get("DASHBOARD_SHORT_ABANDON_SECONDS")),
        sl_target=float(get("DASHBOARD_SL_TARGET")),
        answer_rate_target=float(get("DASHBOARD_ANSWER_RATE_TARGET")),
    )


MIN_WALLBOARD_REFRESH_SECONDS = 5


def wallboard_refresh_seconds() -> int:
    """Seconds between two refreshes of the wallboard screen (at least 5)."""
    raw = get("DASHBOARD_WALLBOARD_REFRESH_SECONDS")
    try:
        seconds = int(str(raw).strip())
    except ValueError:
        raise ValueError("DASHBOARD_WALLBOARD_REFRESH_SECONDS must be a whole number of "
                         f"seconds, not {raw!r}") from None
    if seconds < MIN_WALLBOARD_REFRESH_SECONDS:
        raise ValueError("DASHBOARD_WALLBOARD_REFRESH_SECONDS must be at least "
                         f"{MIN_WALLBOARD_REFRESH_SECONDS}, not {seconds}")
    return seconds


_MEMORY = re.compile(r"([1-9][0-9]*)\s*(kB|MB|GB)")


def pg_work_mem() -> str | None:
    """The `work_mem` the app sets on its PostgreSQL sessions, None to keep the server's."""
    raw = str(get("DASHBOARD_PG_WORK_MEM")).strip()
    if raw.lower() == "server":
        return None
    match = _MEMORY.fullmatch(raw)
    if not match:
        raise ValueError("DASHBOARD_PG_WORK_MEM must be an amount such as 64MB, 512kB or "
                         f"1GB (or server), not {raw!r}")
    return f"{match[1]}{match[2]}"


def public_url() -> str:
    """The app's address for links (DASHBOARD_PUBLIC_URL), without a trailing slash."""
    return str(get("DASHBOARD_PUBLIC_URL")).strip().rstrip("/")
