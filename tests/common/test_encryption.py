"""Provider secrets sealed with the service's Fernet keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from common.encryption import SecretKeyError, decrypt_secret, encrypt_secret


def test_a_secret_sealed_under_an_old_key_opens_while_that_key_is_listed() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = encrypt_secret("s3cret", (old,))

    assert "s3cret" not in sealed
    assert decrypt_secret(sealed, (new, old)) == b"s3cret"
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        decrypt_secret(sealed, (new,))
    with pytest.raises(SecretKeyError, match="not set"):
        encrypt_secret("s3cret", ())
