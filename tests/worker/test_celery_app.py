"""The Celery app: house task defaults set once in celeryconfig, timeouts in a safe order."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from celery import Task

import worker.tasks  # noqa: F401 - registers the tasks on the app
from common.settings import load_settings
from tests.support.processes import REPO_ROOT
from worker.celery_app import app

# Each task attribute, the app-wide setting it comes from, and the house value.
HOUSE_DEFAULTS = [
    ("acks_late", "task_acks_late", True),
    ("reject_on_worker_lost", "task_reject_on_worker_lost", True),
    ("ignore_result", "task_ignore_result", True),
    ("soft_time_limit", "task_soft_time_limit", 60),
    ("time_limit", "task_time_limit", 90),
]


@pytest.fixture
def tasks(services: Any) -> list[Task]:
    """The leadgate tasks as a worker runs them: bound to the finalized app."""
    app.loader.import_default_modules()  # the app's `include`, as a worker imports it at start
    app.finalize()
    found = [task for name, task in app.tasks.items() if name.startswith("leadgate.")]
    assert sorted(task.name for task in found) == [
        "leadgate.deliver_webhook",
        "leadgate.import_upload",
        "leadgate.maintain_inbox",
        "leadgate.process_event",
        "leadgate.replay_chunk",
        "leadgate.sweep",
        "leadgate.sweep_deliveries",
        "leadgate.sweep_uploads",
        "leadgate.wake",
    ]
    return found


@pytest.mark.parametrize(("attribute", "setting", "value"), HOUSE_DEFAULTS)
def test_every_task_has_the_house_defaults_from_the_app_wide_settings(
    tasks: list[Task], attribute: str, setting: str, value: object
) -> None:
    assert app.conf[setting] == value
    for task in tasks:
        # Equal to the setting, not only to the value: no base class or decorator repeats it.
        assert getattr(task, attribute) == app.conf[setting], f"{task.name}.{attribute}"


@pytest.mark.parametrize("attribute", [attribute for attribute, _, _ in HOUSE_DEFAULTS])
def test_no_task_class_of_ours_repeats_a_house_default(tasks: list[Task], attribute: str) -> None:
    for task in tasks:
        # Past the class Celery generates for the task function (which Celery fills from the
        # settings), only Celery's own classes may hold a value; one of ours would be a copy.
        for cls in type(task).__mro__[1:]:
            assert cls.__module__.startswith("celery.") or attribute not in vars(cls), (
                f"{cls.__module__}.{cls.__qualname__} sets {attribute}; set it in celeryconfig"
            )


def test_the_timeouts_nest_lock_then_task_then_lease_then_broker(services: Any) -> None:
    # The shipped defaults (an empty environment), not whatever this shell exports.
    settings = load_settings({})
    timeouts = [
        ("lock TTL (LEADGATE_LOCK_TTL_SECONDS)", settings.lock_ttl_seconds),
        ("task_soft_time_limit", app.conf.task_soft_time_limit),
        ("task_time_limit", app.conf.task_time_limit),
        (
            "longest hold of a processing event (LEADGATE_STUCK_AFTER_SECONDS)",
            settings.stuck_after_seconds,
        ),
        ("broker visibility_timeout", app.conf.broker_transport_options["visibility_timeout"]),
    ]
    for (shorter, short), (longer, long) in itertools.pairwise(timeouts):
        assert short < long, f"{shorter} ({short} s) must stay below {longer} ({long} s)"


def _celeryconfig(tmp_path: Path, expression: str, **env: str) -> str:
    """``expression`` on celeryconfig, printed by a fresh process importing it from the checkout."""
    variables = {
        "PATH": os.environ["PATH"],
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "TMPDIR": str(tmp_path / "tmp"),
        **env,
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    printed = subprocess.run(
        [sys.executable, "-c", f"import celeryconfig; print(celeryconfig.{expression})"],
        cwd=REPO_ROOT, env=variables, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return printed.stdout.strip()


def _schedule_file(tmp_path: Path, **env: str) -> Path:
    """The beat schedule file celeryconfig names."""
    return Path(_celeryconfig(tmp_path, "beat_schedule_filename", **env))


def test_beat_keeps_its_schedule_in_leadgate_home_when_it_is_set(tmp_path: Path) -> None:
    home = tmp_path / "home"

    assert _schedule_file(tmp_path, LEADGATE_HOME=str(home)) == home / "celerybeat-schedule"


def test_beat_keeps_its_schedule_in_the_temporary_directory_otherwise(tmp_path: Path) -> None:
    schedule = _schedule_file(tmp_path)

    assert schedule.parent == tmp_path / "tmp"
    assert schedule.name == f"leadgate-{os.getuid()}-celerybeat-schedule"
    assert not schedule.is_relative_to(REPO_ROOT)


@pytest.mark.parametrize(("value", "seconds"), [(None, "600.0"), ("45", "45.0")])
def test_beat_runs_the_inbox_maintenance_on_its_setting(
    tmp_path: Path, value: str | None, seconds: str
) -> None:
    env = {} if value is None else {"LEADGATE_INBOX_MAINTENANCE_SECONDS": value}
    entry = "beat_schedule['maintain-inbox']"

    assert _celeryconfig(tmp_path, f"{entry}['schedule']", **env) == seconds
    # A run that waited a whole interval is superseded by the next one.
    assert _celeryconfig(tmp_path, f"{entry}['options']['expires']", **env) == seconds


class _SentTasks:
    """Stands in for the app's ``send_task``: what would have been published."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_task(self, name: str, **options: Any) -> None:
        self.sent.append((name, options))


def test_a_started_worker_asks_for_one_sweep_once_leases_can_have_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from common.settings import get_settings
    from worker.celery_app import START_SWEEP_MARGIN_SECONDS, request_start_sweep

    monkeypatch.setenv("LEADGATE_LEASE_SECONDS", "4")
    monkeypatch.setenv("LEADGATE_SWEEP_INTERVAL_SECONDS", "15")
    get_settings.cache_clear()
    try:
        celery = _SentTasks()
        request_start_sweep(celery)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    delay = 4 + START_SWEEP_MARGIN_SECONDS
    # The sweep beat runs (routed to the maintenance queue), dropped if it cannot run before
    # beat's own next one would have.
    assert celery.sent == [("leadgate.sweep", {"countdown": delay, "expires": delay + 15})]
    assert app.amqp.router.route({}, "leadgate.sweep")["queue"].name == "maintenance"
