"""Provider secrets at rest: encrypted with the service's Fernet keys (LEADGATE_SECRET_KEY)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(RuntimeError):
    """A secret cannot be encrypted or decrypted with the configured keys; says which way."""


def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise SecretKeyError(
            "LEADGATE_SECRET_KEY is not set; it is needed to store and read signing secrets"
        )
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_secret(plain: str, keys: tuple[str, ...]) -> str:
    """The secret as a Fernet token under the first key."""
    return _cipher(keys).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str, keys: tuple[str, ...]) -> bytes:
    """The secret's bytes; SecretKeyError when no configured key opens the token."""
    try:
        return _cipher(keys).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise SecretKeyError(
            "a stored signing secret cannot be decrypted with LEADGATE_SECRET_KEY "
            "(was the key changed without keeping the old one in the list?)"
        ) from None
