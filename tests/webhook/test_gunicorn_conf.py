"""The gunicorn settings module: threads per worker come from WEB_THREADS, validated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A child of its own: the module reads the settings and sets a metrics directory on import.
    script = "import webhook.gunicorn_conf as conf; print(conf.worker_class, conf.threads)"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("given", "threads"), [("", "16"), ("4", "4"), (" 32 ", "32")])
def test_threads_per_worker_come_from_web_threads(given: str, threads: str) -> None:
    loaded = _load({"WEB_THREADS": given})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["gthread", threads]


def test_a_malformed_web_threads_stops_the_server_by_name() -> None:
    loaded = _load({"WEB_THREADS": "0"})
    assert loaded.returncode != 0
    assert "WEB_THREADS must be at least 1" in loaded.stderr
