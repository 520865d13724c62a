"""API tokens: generation and hashing. Only the hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "lg_"  # noqa: S105 - a public marker, not a secret
VISIBLE_PREFIX_LENGTH = 9  # "lg_" and six characters, enough to tell tokens apart in a listing


def generate_token() -> str:
    """A new token with 256 bits of randomness: ``lg_`` and 43 URL-safe characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def visible_prefix(token: str) -> str:
    """The part of a token that may be shown in listings and logs."""
    return token[:VISIBLE_PREFIX_LENGTH]
