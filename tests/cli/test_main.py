"""The console script's start: settings validated before any command runs, logging set up."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import process_env
from tests.cli.test_process import leadgate
from tests.support.services import ServiceUrls


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("LEADGATE_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LEADGATE_LOG_FORMAT", "xml", "json, text"),
    ],
)
def test_a_bad_log_setting_stops_the_command_with_its_name(
    services: ServiceUrls, tmp_path: Path, name: str, value: str, allowed: str
) -> None:
    env = process_env(tmp_path, services)
    env[name] = value

    result = leadgate("org", "create", "Never Made", env=env)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"Error: {name} must be one of {allowed}; got {value!r}"


def test_log_settings_are_accepted_in_any_case(services: ServiceUrls, tmp_path: Path) -> None:
    env = process_env(tmp_path, services)
    env.update(LEADGATE_LOG_LEVEL="warning", LEADGATE_LOG_FORMAT="TEXT")

    result = leadgate("org", "create", "Quiet Co", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().isdigit()


def test_commands_log_at_info_without_alembic_narrating(
    services: ServiceUrls, tmp_path: Path
) -> None:
    result = leadgate("db", "upgrade", env=process_env(tmp_path, services))

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "database migrated to head"
