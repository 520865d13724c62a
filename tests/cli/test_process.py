"""The installed ``leadgate`` executable: the stdout contract, exit codes, the embedded default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # pgserver's dependency; ships no stubs

from tests.cli.conftest import process_env
from tests.support.services import ServiceUrls

LEADGATE = str(Path(sys.executable).parent / "leadgate")


def leadgate(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the console script and capture what it printed."""
    return subprocess.run(
        [LEADGATE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes whose command line names ``path`` (e.g. an embedded postgres)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and any(str(path) in a for a in cmdline):
            found.append(process)
    return found


def test_creating_commands_print_one_stdout_line(services: ServiceUrls, tmp_path: Path) -> None:
    env = process_env(tmp_path, services)

    organization = leadgate("org", "create", "Process Co", env=env)
    token = leadgate("token", "create", "--org", organization.stdout.strip(), env=env)

    assert organization.returncode == 0, organization.stderr
    assert organization.stdout.strip().isdigit()
    assert organization.stdout.count("\n") == 1
    assert "created organization" in organization.stderr
    assert token.returncode == 0, token.stderr
    assert token.stdout.startswith("lg_")
    assert token.stdout.count("\n") == 1


def test_db_upgrade_is_repeatable(services: ServiceUrls, tmp_path: Path) -> None:
    result = leadgate("db", "upgrade", env=process_env(tmp_path, services))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    env = process_env(tmp_path, None)
    env["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:9/leadgate"

    result = leadgate("org", "create", "x", env=env)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_variable_is_a_clear_error(tmp_path: Path) -> None:
    env = process_env(tmp_path, None)
    env["DATABASE_URL"] = "mysql://root@localhost/leads"

    result = leadgate("org", "list", env=env)

    assert result.returncode == 1
    assert "DATABASE_URL must use one of postgresql" in result.stderr
    assert "Traceback" not in result.stderr


def test_admin_command_without_urls_uses_a_transient_embedded_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = process_env(home, None)

    created = leadgate("org", "create", "fresh machine", env=env)
    listed = leadgate("org", "list", env=env)

    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().isdigit()
    assert listed.returncode == 0, listed.stderr
    assert "fresh machine" in listed.stdout  # the data outlived the first command's server
    assert not (home / "services.json").exists()
    assert not (home / "postgres" / "postmaster.pid").exists()
    assert processes_using(home) == []
