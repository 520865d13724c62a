"""``leadgate run`` on the embedded stack.

Ready with no service variables set, restarts a dead child, stops cleanly, keeps its data.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # pgserver's dependency; ships no stubs
import redis

from leadgate.embedded import EmbeddedPostgres
from tests.cli.conftest import process_env
from tests.cli.test_process import LEADGATE, leadgate, processes_using
from tests.leadgate.test_supervisor import gone, wait_until
from tests.support.processes import free_port


@dataclass
class Running:
    """A ``leadgate run`` process and where its output goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    stdout: Path
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")

    def stdout_lines(self) -> list[str]:
        return self.stdout.read_text().splitlines()


def get(url: str) -> int:
    """The HTTP status of a GET, 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def wait_for(condition: Callable[[], bool], timeout: float, running: Running, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert running.process.poll() is None, (
            f"leadgate run exited while waiting for {what}:\n{running.log()}"
        )
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{running.log()}"
        time.sleep(0.1)


@contextmanager
def leadgate_run(home: Path, tmp_path: Path, *args: str) -> Iterator[Running]:
    """Start ``leadgate run`` with no service variables; make sure nothing survives the test."""
    port = free_port()
    name = f"run-{port}"
    stdout, stderr = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [LEADGATE, "run", "--port", str(port), *args],
            env=process_env(home, None),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    running = Running(process, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        wait_for(lambda: get(running.base_url + "/readyz") == 200, 120, running, "/readyz")
        yield running
    except BaseException:
        kill_everything(running, home)
        raise
    finally:
        if process.poll() is None:
            kill_everything(running, home)


def kill_everything(running: Running, home: Path) -> None:
    """After a failure: the supervisor, its children and the embedded servers, whatever is left."""
    if running.process.poll() is None:
        for child in psutil.Process(running.process.pid).children(recursive=True):
            child.kill()
        running.process.kill()
        running.process.wait()
    with suppress(OSError, ValueError, KeyError, redis.RedisError):
        redis_url = json.loads((home / "services.json").read_text())["REDIS_URL"]
        redis.Redis.from_url(redis_url, socket_timeout=2).shutdown(nosave=True)
    EmbeddedPostgres(home / "postgres").stop()


def stop(running: Running) -> int:
    """SIGTERM the supervisor and return its exit code."""
    running.process.send_signal(signal.SIGTERM)
    return running.process.wait(timeout=60)


def stop_like_make(running: Running) -> int:
    """SIGTERM twice within a few ms, as under ``make run`` (make passes the group's SIGTERM on)."""
    running.process.send_signal(signal.SIGTERM)
    time.sleep(0.005)
    running.process.send_signal(signal.SIGTERM)
    return running.process.wait(timeout=60)


def web_master(running: Running) -> psutil.Process | None:
    """The supervisor's gunicorn child, if one is running now."""
    for child in psutil.Process(running.process.pid).children():
        try:
            if "gunicorn" in " ".join(child.cmdline()):
                return child
        except psutil.Error:  # a zombie waiting to be reaped, or just gone
            continue
    return None


def demo_curl(running: Running) -> list[str]:
    wait_for(
        lambda: any(line.startswith("curl ") for line in running.stdout_lines()), 30, running,
        "the demo curl",
    )  # fmt: skip
    lines = running.stdout_lines()
    assert len(lines) == 1, lines
    return shlex.split(lines[0])


def post_like_curl(argv: list[str]) -> tuple[int, dict[str, object]]:
    """Send the request the printed curl command describes (curl may not be installed)."""
    url = next(arg for arg in argv if arg.startswith("http"))
    headers = dict(argv[i + 1].split(": ", 1) for i, arg in enumerate(argv) if arg == "-H")
    body = argv[argv.index("-d") + 1].encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_run_supervises_restarts_and_stops_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with leadgate_run(home, tmp_path, "--demo") as running:
        curl = demo_curl(running)
        status, lead = post_like_curl(curl)
        assert status == 201, (status, lead, running.log())
        assert lead["phone_number"] == "+14155552671"

        # An admin command beside the running service uses its servers.
        beside = leadgate("config", "list", env=process_env(home, None))
        assert beside.returncode == 0, beside.stderr
        assert " demo " in beside.stdout
        assert "starting the embedded PostgreSQL" not in beside.stderr

        state = json.loads((home / "services.json").read_text())
        assert set(state) == {"DATABASE_URL", "REDIS_URL"}
        postmaster = int((home / "postgres" / "postmaster.pid").read_text().split()[0])
        descendants = {p.pid for p in psutil.Process(running.process.pid).children(recursive=True)}

        killed = web_master(running)
        assert killed is not None
        killed.kill()
        wait_for(
            lambda: (web_master(running) or killed).pid != killed.pid, 30, running, "a new web"
        )
        wait_for(lambda: get(running.base_url + "/healthz") == 200, 30, running, "/healthz")
        assert "web killed by SIGKILL" in running.log()
        descendants |= {p.pid for p in psutil.Process(running.process.pid).children(recursive=True)}

        assert stop_like_make(running) == 0, running.log()

    assert "leadgate: stopped" in running.log()
    # The doubled signal is one request: web, worker and beat got their grace period.
    assert "did not stop in time" not in running.log(), running.log()
    assert "asked again to stop" not in running.log(), running.log()
    # The postmaster was daemonized by pg_ctl; give init a moment to reap it.
    wait_until(lambda: gone(postmaster))
    assert [pid for pid in descendants if not gone(pid)] == []
    assert processes_using(home) == []
    assert not (home / "services.json").exists()

    # Data and the demo rows outlive a restart; the same curl keeps working.
    with leadgate_run(home, tmp_path, "--demo") as again:
        curl_again = demo_curl(again)
        assert [arg.split("/api/")[-1] for arg in curl_again] == [
            arg.split("/api/")[-1] for arg in curl
        ]  # the same config, token and body; only the port differs
        status, same_lead = post_like_curl(curl_again)
        assert status == 200, (status, same_lead, again.log())
        assert same_lead["id"] == lead["id"]
        assert stop(again) == 0, again.log()


def test_run_recovers_after_the_supervisor_is_killed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with leadgate_run(home, tmp_path) as running:
        service_pids = {child.pid for child in psutil.Process(running.process.pid).children()}
        redis_url = json.loads((home / "services.json").read_text())["REDIS_URL"]

        running.process.kill()
        running.process.wait()

        # web, worker and beat follow their supervisor (PR_SET_PDEATHSIG); only the embedded
        # servers outlive it, and the next run takes them over.
        redis_pid = next(
            pid for pid in service_pids if not gone(pid) and "redis" in psutil.Process(pid).name()
        )
        wait_until(lambda: [pid for pid in service_pids if not gone(pid)] == [redis_pid])

    with leadgate_run(home, tmp_path) as again:
        assert f"stopped the embedded Redis left running at {redis_url}" in again.log()
        wait_until(lambda: gone(redis_pid))
        assert stop(again) == 0, again.log()
    wait_until(lambda: processes_using(home) == [])
