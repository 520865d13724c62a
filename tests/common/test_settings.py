"""Settings: read from the environment once, every malformed value a clear error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from common.settings import (
    DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    SettingsError,
    load_settings,
    to_sqlalchemy_url,
)


def test_defaults_with_an_empty_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = load_settings({})

    assert settings.database_url is None and settings.redis_url is None
    assert settings.home == tmp_path / ".leadgate"
    assert settings.max_body_bytes == 256 * 1024
    assert settings.task_max_attempts == 8
    assert settings.log_level == "INFO"
    assert settings.log_format == "json"
    assert settings.metrics_token is None
    assert settings.test_lead_ttl_hours == 24.0


@pytest.mark.parametrize(
    ("level", "expected"),
    [("debug", "DEBUG"), (" Warning ", "WARNING"), ("ERROR", "ERROR"), ("", "INFO")],
)
def test_log_level_in_any_case(level: str, expected: str) -> None:
    assert load_settings({"LEADGATE_LOG_LEVEL": level}).log_level == expected


@pytest.mark.parametrize(("value", "expected"), [("TEXT", "text"), ("json", "json"), (" ", "json")])
def test_log_format_in_any_case(value: str, expected: str) -> None:
    assert load_settings({"LEADGATE_LOG_FORMAT": value}).log_format == expected


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("LEADGATE_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LEADGATE_LOG_LEVEL", "10", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LEADGATE_LOG_FORMAT", "yaml", "json, text"),
    ],
)
def test_a_bad_log_setting_names_the_variable_and_the_choices(
    name: str, value: str, allowed: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({name: value})

    assert str(raised.value) == f"{name} must be one of {allowed}; got {value!r}"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must use one of postgresql"),
        ("REDIS_URL", "http://cache", "REDIS_URL must use one of redis"),
        ("CELERY_BROKER_URL", "sqs://queue", "CELERY_BROKER_URL must use one of redis"),
        ("LEADGATE_MAX_ATTEMPTS", "many", "LEADGATE_MAX_ATTEMPTS must be a number, got 'many'"),
        ("LEADGATE_BATCH_SIZE", "0", "LEADGATE_BATCH_SIZE must be at least 1"),
        ("LEADGATE_LOCK_TTL_SECONDS", "0.01", "LEADGATE_LOCK_TTL_SECONDS must be at least 0.05"),
        ("WEB_THREADS", "0", "WEB_THREADS must be at least 1"),
        ("WEB_THREADS", "lots", "WEB_THREADS must be a number, got 'lots'"),
    ],
)
def test_malformed_values_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({name: value})


def test_numbers_and_urls_are_read() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgres://app@db:5432/leads",
            "REDIS_URL": "redis://cache:6379/0",
            "LEADGATE_MAX_BODY_BYTES": "1024",
            "LEADGATE_RETRY_BASE_SECONDS": "0.5",
            "LEADGATE_METRICS_TOKEN": " secret ",
        }
    )

    assert settings.sqlalchemy_url == "postgresql+psycopg://app@db:5432/leads"
    assert settings.max_body_bytes == 1024
    assert settings.retry_base_seconds == 0.5
    assert settings.metrics_token == "secret"


def test_web_threads_default_to_sixteen_and_are_read() -> None:
    assert load_settings({}).web_threads == 16
    assert load_settings({"WEB_THREADS": "4"}).web_threads == 4


def test_the_broker_falls_back_to_redis() -> None:
    assert load_settings({"REDIS_URL": "redis://a/0"}).celery_broker_url == "redis://a/0"
    given = load_settings({"REDIS_URL": "redis://a/0", "CELERY_BROKER_URL": "amqp://mq//"})
    assert given.celery_broker_url == "amqp://mq//"
    with pytest.raises(SettingsError, match="neither CELERY_BROKER_URL nor REDIS_URL"):
        _ = load_settings({}).celery_broker_url


def test_missing_servers_are_named_when_asked_for() -> None:
    settings = load_settings({})
    with pytest.raises(SettingsError, match="DATABASE_URL is not set"):
        _ = settings.sqlalchemy_url
    with pytest.raises(SettingsError, match="REDIS_URL is not set"):
        _ = settings.locks_redis_url


def test_to_sqlalchemy_url_refuses_other_databases() -> None:
    assert to_sqlalchemy_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    with pytest.raises(SettingsError, match="got sqlite:"):
        to_sqlalchemy_url("sqlite:///x.db")


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
        ("LEADGATE_TEST_LEAD_TTL_HOURS", "a day", "must be a number"),
        ("LEADGATE_TEST_LEAD_TTL_HOURS", "0", "at least 0.01"),
    ],
)
def test_a_malformed_value_is_refused_by_name(name: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=name) as refused:
        load_settings({name: value})
    assert reason in str(refused.value)


def test_the_lease_is_short_by_default_and_never_longer_than_the_longest_hold() -> None:
    assert load_settings({}).lease_seconds == 5.0
    assert load_settings({"LEADGATE_LEASE_SECONDS": "2"}).lease_seconds == 2.0
    with pytest.raises(SettingsError, match=r"LEADGATE_LEASE_SECONDS \(10\) must not exceed"):
        load_settings({"LEADGATE_LEASE_SECONDS": "10", "LEADGATE_STUCK_AFTER_SECONDS": "5"})
    with pytest.raises(SettingsError, match="LEADGATE_LEASE_SECONDS must be a number"):
        load_settings({"LEADGATE_LEASE_SECONDS": "soon"})


def test_redis_past_one_node_is_a_cluster_or_sentinels_never_both() -> None:
    plain = load_settings({})
    assert (plain.redis_cluster, plain.redis_sentinels) == (False, ())
    broker = {"CELERY_BROKER_URL": "amqp://rabbit:5672//"}
    assert load_settings({"LEADGATE_REDIS_CLUSTER": "yes", **broker}).redis_cluster
    watched = load_settings(
        {
            "LEADGATE_REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380",
            "LEADGATE_REDIS_SENTINEL_MASTER": "leads",
            **broker,
        }
    )
    assert watched.redis_sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26380))
    assert watched.redis_sentinel_master == "leads"
    with pytest.raises(SettingsError, match="LEADGATE_REDIS_SENTINELS must list host:port"):
        load_settings({"LEADGATE_REDIS_SENTINELS": "sentinel-a"})
    with pytest.raises(SettingsError, match="cannot both be set"):
        load_settings({"LEADGATE_REDIS_SENTINELS": "a:1", "LEADGATE_REDIS_CLUSTER": "true"})
    with pytest.raises(SettingsError, match="CELERY_BROKER_URL must be set"):
        load_settings({"LEADGATE_REDIS_CLUSTER": "true"})


def test_a_history_retention_of_zero_keeps_no_field_history() -> None:
    assert load_settings({}).keeps_field_history is True
    settings = load_settings({"LEADGATE_HISTORY_RETENTION_DAYS": "0"})
    assert settings.history_retention_days == 0 and settings.keeps_field_history is False
    assert load_settings({"LEADGATE_HISTORY_RETENTION_DAYS": "0.5"}).keeps_field_history is True
    for value, message in (("0.001", "must be 0 .keep none. or at least 0.01"), ("-1", "at least")):
        with pytest.raises(SettingsError, match=message):
            load_settings({"LEADGATE_HISTORY_RETENTION_DAYS": value})


def test_the_inbox_retentions_keep_everything_unless_set_and_name_a_bad_value() -> None:
    settings = load_settings({})
    assert settings.event_retention_months == 0 and settings.raw_body_retention_days == 0
    settings = load_settings(
        {"LEADGATE_EVENT_RETENTION_MONTHS": "13", "LEADGATE_RAW_BODY_RETENTION_DAYS": "30"}
    )
    assert settings.event_retention_months == 13 and settings.raw_body_retention_days == 30
    for value in ("1.5", "-1", "a year"):
        with pytest.raises(SettingsError, match="LEADGATE_EVENT_RETENTION_MONTHS must be a whole"):
            load_settings({"LEADGATE_EVENT_RETENTION_MONTHS": value})
    with pytest.raises(SettingsError, match="LEADGATE_RAW_BODY_RETENTION_DAYS must be 0"):
        load_settings({"LEADGATE_RAW_BODY_RETENTION_DAYS": "0.001"})


def test_the_inbox_maintenance_runs_every_ten_minutes_unless_set_and_at_least_each_second() -> None:
    assert load_settings({}).inbox_maintenance_seconds == 600.0
    settings = load_settings({"LEADGATE_INBOX_MAINTENANCE_SECONDS": " 1.5 "})
    assert settings.inbox_maintenance_seconds == 1.5
    for value, message in (("0.5", "must be at least 1"), ("hourly", "must be a number")):
        with pytest.raises(SettingsError, match=f"LEADGATE_INBOX_MAINTENANCE_SECONDS {message}"):
            load_settings({"LEADGATE_INBOX_MAINTENANCE_SECONDS": value})
