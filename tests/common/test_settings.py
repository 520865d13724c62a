"""Settings for provider secrets: LEADGATE_SECRET_KEY and LEADGATE_SECRET_GRACE_HOURS."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from common.settings import SettingsError, load_settings


def test_secret_keys_are_read_in_order_and_the_grace_period_defaults_to_a_day() -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    settings = load_settings({"LEADGATE_SECRET_KEY": f" {first} , {second} "})

    assert settings.secret_keys == (first, second)
    assert settings.secret_grace_seconds == 24 * 3600
    assert load_settings({}).secret_keys == ()
    assert load_settings({"LEADGATE_SECRET_GRACE_HOURS": "0.5"}).secret_grace_seconds == 1800


def test_a_malformed_secret_key_is_a_clear_error_that_does_not_echo_it() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"LEADGATE_SECRET_KEY": "hunter2-not-a-fernet-key"})

    assert "LEADGATE_SECRET_KEY" in str(raised.value)
    assert "key 1 of 1" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_negative_grace_period_is_refused() -> None:
    with pytest.raises(SettingsError, match="LEADGATE_SECRET_GRACE_HOURS"):
        load_settings({"LEADGATE_SECRET_GRACE_HOURS": "-1"})
