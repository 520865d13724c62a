"""The Procfile's command lines, expanded as the shell would expand them."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def procfile_commands(path: Path = REPO_ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's process types and their command lines."""
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def expand_command(command: str, env: Mapping[str, str]) -> list[str]:
    """Expand ``$VAR`` and ``${VAR:-default}`` as the shell would, then split into arguments."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2) or ""
        return env.get(name) or default

    arguments = shlex.split(_VARIABLE.sub(value, command))
    executable = VENV_BIN / arguments[0]
    if executable.exists():
        arguments[0] = str(executable)
    return arguments


GUNICORN_SETTINGS = ("worker_class", "threads", "workers", "timeout", "keepalive", "max_requests")


def gunicorn_settings(web_command: str) -> dict[str, object]:
    """What the web's ``-c python:MODULE`` config sets, read in a child (it has side effects)."""
    match = re.search(r"-c\s+python:([\w.]+)", web_command)
    if match is None:
        return {}
    script = (
        "import importlib, json, sys\n"
        f"module = importlib.import_module({match.group(1)!r})\n"
        f"names = {GUNICORN_SETTINGS!r}\n"
        "found = {n: getattr(module, n) for n in names if hasattr(module, n)}\n"
        "print(json.dumps(found, default=str))"
    )
    try:
        finished = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        settings: dict[str, object] = json.loads(finished.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return {"error": f"could not read {match.group(1)}"}
    return settings
