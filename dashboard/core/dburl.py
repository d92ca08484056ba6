"""Database URLs as people write them: normalised to the stack's driver, shown without
their password, and why one cannot be used, in one line (English for the CLI, French for
the screen).

Hosting panels, `DATABASE_URL` and the PostgreSQL documentation write `postgresql://…`
or `postgres://…`. SQLAlchemy 2.1 reads the first as psycopg 3 (not installed here) and
does not know the second; the stack is psycopg2, so both mean `postgresql+psycopg2://`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PSYCOPG2 = "postgresql+psycopg2"
_BARE_POSTGRES = ("postgres", "postgresql")


def normalise(url: str) -> str:
    """URL with a bare `postgres`/`postgresql` scheme made psycopg2's; others unchanged."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() in _BARE_POSTGRES:
        return f"{PSYCOPG2}://{rest}"
    return text


def masked(url: str) -> str:
    """URL with its password replaced by `***` (the text as given when it cannot be parsed,
    minus anything between `:` and `@` of its authority)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return masked_text(url)


def masked_text(url: str) -> str:
    """Any URL's text with what sits between `:` and `@` of its authority shown as `***`
    (no parsing: for URLs that may be malformed, a database's or a mail server's)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***" if "@" in url else url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        credentials, _, host = authority.rpartition("@")
        user = credentials.split(":", 1)[0]
        authority = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    return f"{scheme}{sep}{authority}{slash}{path}"


# Each kind of problem: (English, French), both completed by the masked URL.
_TEXTS = {
    "malformed": ("not a database URL", "n'est pas une adresse de base de données"),
    "scheme": ("unknown database type (use sqlite:/// or postgresql://)",
               "type de base de données inconnu (utilisez sqlite:/// ou postgresql://)"),
    "driver": ("the database driver is not installed (use postgresql:// or sqlite:///)",
               "le pilote de cette base n'est pas installé (utilisez postgresql:// ou "
               "sqlite:///)"),
    "unreachable": ("the database server does not answer", "le serveur de base de données ne "
                    "répond pas"),
    "password": ("the server refused the user name or password",
                 "le serveur a refusé l'utilisateur ou le mot de passe"),
    "missing": ("the database does not exist on the server (create it first)",
                "la base n'existe pas sur le serveur (créez-la d'abord)"),
    "file": ("the database file cannot be opened", "le fichier de la base ne peut pas être "
             "ouvert"),
    "other": ("the database cannot be used", "la base de données est inutilisable"),
}


@dataclass(frozen=True)
class UrlProblem:
    """Why the database at a URL cannot be used: a kind of _TEXTS and the masked URL."""

    kind: str
    url: str  # masked

    @property
    def english(self) -> str:
        """The CLI's one line."""
        return f"cannot use database {self.url}: {_TEXTS[self.kind][0]}"

    @property
    def french(self) -> str:
        """The screen's one line, Markdown: the URL in a code span, so that its `***` and
        any `_` show as written."""
        shown = self.url.replace("`", "'")
        return f"Base de données `{shown}` inutilisable : {_TEXTS[self.kind][1]}."


class DatabaseUrlError(Exception):
    """A database URL that cannot be used; `problem` says why."""

    def __init__(self, problem: UrlProblem):
        super().__init__(problem.english)
        self.problem = problem


def classify(url: str, exc: BaseException) -> UrlProblem:
    """The problem EXC (raised while opening URL) stands for."""
    name = type(exc).__name__
    text = str(exc).lower()
    if name == "NoSuchModuleError":
        kind = "scheme"
    elif isinstance(exc, ModuleNotFoundError):
        kind = "driver"
    elif isinstance(exc, ArgumentError | ValueError):
        kind = "malformed"
    elif any(s in text for s in ("password authentication failed", "no password supplied",
                                 "role \"")) and "database \"" not in text:
        kind = "password"
    elif "database" in text and "does not exist" in text:
        kind = "missing"
    elif any(s in text for s in ("connection refused", "could not connect",
                                 "could not translate host name", "timeout expired",
                                 "name or service not known", "no route to host",
                                 "connection timed out", "server closed the connection")):
        kind = "unreachable"
    elif "unable to open database file" in text or isinstance(exc, OSError):
        kind = "file"
    else:
        kind = "other"
    return UrlProblem(kind, masked(url))
