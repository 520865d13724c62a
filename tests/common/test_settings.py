"""The outbound webhook settings: read from the environment, refused with a reason."""

from __future__ import annotations

import pytest

from common.settings import DEFAULT_WEBHOOK_RETRY_SCHEDULE, SettingsError, load_settings


def test_the_defaults_refuse_private_addresses_and_retry_for_a_day() -> None:
    settings = load_settings({})
    assert settings.webhook_allow_private is False
    assert settings.webhook_retry_schedule == DEFAULT_WEBHOOK_RETRY_SCHEDULE
    assert settings.webhook_disable_after_seconds == 5 * 86400


def test_the_environment_sets_them() -> None:
    settings = load_settings(
        {
            "LEADGATE_WEBHOOK_ALLOW_PRIVATE": "True",
            "LEADGATE_WEBHOOK_RETRY_SCHEDULE": "0, 1,2.5",
            "LEADGATE_WEBHOOK_DISABLE_AFTER_SECONDS": "60",
        }
    )
    assert settings.webhook_allow_private is True
    assert settings.webhook_retry_schedule == (0.0, 1.0, 2.5)
    assert settings.webhook_disable_after_seconds == 60


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("LEADGATE_WEBHOOK_ALLOW_PRIVATE", "maybe", "true or false"),
        ("LEADGATE_WEBHOOK_RETRY_SCHEDULE", "0,soon", "comma-separated list of seconds"),
        ("LEADGATE_WEBHOOK_RETRY_SCHEDULE", "0,-1", "0 or more"),
        ("LEADGATE_WEBHOOK_RETRY_SCHEDULE", "0,nan", "0 or more"),
        ("LEADGATE_WEBHOOK_DISABLE_AFTER_SECONDS", "0", "at least 1"),
    ],
)
def test_a_malformed_value_is_refused_by_name(name: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=name) as refused:
        load_settings({name: value})
    assert reason in str(refused.value)
