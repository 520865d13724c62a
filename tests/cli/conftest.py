"""Fixtures for CLI tests: an in-process runner on the test database, and process environments."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leadgate.cli.main import cli
from tests.support.services import ServiceUrls

SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(services: ServiceUrls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``leadgate ARGS`` in-process against the test database; check the exit code."""
    monkeypatch.setenv("LEADGATE_HOME", str(tmp_path / "home"))
    runner = CliRunner()

    def run(*args: str, exit_code: int = 0, stdin: str | None = None) -> Result:
        result = runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)
        assert result.exit_code == exit_code, (
            f"leadgate {' '.join(args)} exited {result.exit_code}, not {exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    return run


def only_line(result: Result) -> str:
    """The one line a creating command prints on stdout (fails when there are more or none)."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"expected exactly one stdout line, got {lines!r}"
    return lines[0]


@pytest.fixture
def organization_id(invoke: Invoke) -> int:
    """A fresh organization made through the CLI."""
    return int(only_line(invoke("org", "create", f"org-{uuid.uuid4().hex[:8]}")))


@pytest.fixture
def campaign_id(invoke: Invoke, organization_id: int) -> int:
    """A fresh campaign in a fresh organization."""
    return int(only_line(invoke("campaign", "create", "--org", str(organization_id), "spring")))


def process_env(home: Path, services: ServiceUrls | None) -> dict[str, str]:
    """An environment for a ``leadgate`` child: the test services, or none (the embedded stack)."""
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    env["LEADGATE_HOME"] = str(home)
    if services is not None:
        env.update(services.env())
    return env
