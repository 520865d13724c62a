"""Who owns LEADGATE_HOME: the lock that lets admin commands share a running stack's servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from common.settings import load_settings
from leadgate.cli.home import ADMIN_ROLE, RUN_ROLE, HomeLock, read_embedded_state
from leadgate.cli.main import cli
from tests.support.processes import free_port
from tests.support.services import ServiceUrls


def test_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    first, second = HomeLock(tmp_path), HomeLock(tmp_path)

    assert first.try_acquire(RUN_ROLE)
    assert not second.try_acquire(ADMIN_ROLE)
    assert second.holder_role() == RUN_ROLE
    first.release()
    assert second.try_acquire(ADMIN_ROLE)
    assert first.holder_role() == ADMIN_ROLE
    second.release()


def test_embedded_state_ignores_a_missing_or_broken_file(tmp_path: Path) -> None:
    assert read_embedded_state(tmp_path) == {}
    (tmp_path / "services.json").write_text("{not json")
    assert read_embedded_state(tmp_path) == {}


@pytest.fixture
def home_without_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LEADGATE_HOME set, no service variables: the embedded default."""
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEADGATE_HOME", str(tmp_path))
    return tmp_path


def test_admin_commands_use_the_database_of_a_running_stack(
    services: ServiceUrls, home_without_urls: Path
) -> None:
    run = HomeLock(home_without_urls)
    assert run.try_acquire(RUN_ROLE)
    (home_without_urls / "services.json").write_text(
        json.dumps({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url})
    )
    try:
        result = CliRunner().invoke(cli, ["org", "create", "beside run"])
    finally:
        run.release()

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().isdigit()
    assert "starting the embedded PostgreSQL" not in result.stderr


def test_admin_commands_explain_a_run_on_an_external_database(
    services: ServiceUrls, home_without_urls: Path
) -> None:
    run = HomeLock(home_without_urls)
    assert run.try_acquire(RUN_ROLE)
    (home_without_urls / "services.json").write_text(json.dumps({"REDIS_URL": services.redis_url}))
    try:
        result = CliRunner().invoke(cli, ["org", "list"])
    finally:
        run.release()

    assert result.exit_code == 1
    assert "set DATABASE_URL" in result.stderr


def test_a_second_run_on_the_same_home_is_refused(home_without_urls: Path) -> None:
    run = HomeLock(home_without_urls)
    assert run.try_acquire(RUN_ROLE)
    try:
        result = CliRunner().invoke(cli, ["run", "--port", str(free_port())])
    finally:
        run.release()

    assert result.exit_code == 1
    assert "leadgate run is already running" in result.stderr


def test_a_run_whose_servers_do_not_answer_is_named(home_without_urls: Path) -> None:
    run = HomeLock(home_without_urls)
    assert run.try_acquire(RUN_ROLE)
    (home_without_urls / "services.json").write_text(
        json.dumps({"REDIS_URL": "redis://127.0.0.1:1/0"})
    )
    try:
        result = CliRunner().invoke(cli, ["org", "list"])
    finally:
        run.release()

    assert result.exit_code == 1
    assert "REDIS_URL, but that server does not answer" in result.stderr


def test_settings_never_read_the_state_file(home_without_urls: Path) -> None:
    # A production process with no DATABASE_URL must not pick up a file a past run left behind.
    (home_without_urls / "services.json").write_text(
        json.dumps(
            {"DATABASE_URL": "postgresql://stale@127.0.0.1:1/x", "REDIS_URL": "redis://x:1/0"}
        )
    )
    settings = load_settings({"LEADGATE_HOME": str(home_without_urls)})
    assert settings.database_url is None
    assert settings.redis_url is None
