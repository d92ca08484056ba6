"""caller_id → caller_key: a keyed hash, so repeat contacts can be counted without the id.

The key is HMAC-SHA256 of the identifier (surrounding spaces removed, UTF-8) with the
secret of the DASHBOARD_CALLER_KEY_SECRET setting, as 64 lowercase hex digits. Without the
secret the same identifier can't be linked back by hashing guesses (phone numbers and tax
ids are few enough to enumerate, which a plain hash would not resist).
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from dashboard.core import config

SECRET_SETTING = "DASHBOARD_CALLER_KEY_SECRET"


class MissingSecret(Exception):
    """Caller ids are present but no secret is configured to hash them."""


def caller_secret() -> str | None:
    """The configured secret, or None."""
    return config.get(SECRET_SETTING)


def caller_key(caller_id: str, secret: str) -> str:
    """HMAC-SHA256 hex digest of one caller id."""
    return hmac.new(secret.encode("utf-8"), caller_id.strip().encode("utf-8"),
                    hashlib.sha256).hexdigest()


def hash_series(ids: pl.Series, secret: str) -> pl.Series:
    """caller_key of every non-empty id; empty and missing ids give null.

    Each distinct id is hashed once (callers call again), from a copy of the keyed state.
    """
    stripped = ids.cast(pl.String).str.strip_chars()
    stripped = stripped.set(stripped == "", None) if stripped.len() else stripped
    distinct = stripped.drop_nulls().unique()
    if distinct.len() == 0:
        return pl.Series("caller_key", [None] * ids.len(), dtype=pl.String)
    base = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)
    keys = []
    for value in distinct.to_list():
        h = base.copy()
        h.update(value.encode("utf-8"))
        keys.append(h.hexdigest())
    return stripped.replace_strict(distinct, pl.Series(keys, dtype=pl.String), default=None,
                                   return_dtype=pl.String).alias("caller_key")


def require_secret(ids: pl.Series | None) -> str | None:
    """The secret when IDS holds any identifier; raises MissingSecret when it is not set."""
    if ids is None:
        return None
    present = ids.str.strip_chars().fill_null("").ne("").any()
    if not present:
        return None
    secret = caller_secret()
    if not secret:
        raise MissingSecret(
            f"the file has caller_id values but {SECRET_SETTING} is not set: nothing was "
            "imported (set the secret, or remove the caller_id column)"
        )
    return secret
