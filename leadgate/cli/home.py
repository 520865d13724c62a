"""Who owns the embedded servers under LEADGATE_HOME: an advisory lock on a file there.

``leadgate run`` holds the lock for its whole life, so admin commands know its servers are live
(and any ``services.json`` left by a killed run is known to be stale). An admin command that has
to start the embedded database itself holds the lock for its own duration, so a ``leadgate run``
starting at the same moment waits instead of sharing a server that is about to stop. The kernel
drops the lock when its holder dies, so a crash never leaves it held.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from leadgate.embedded import EMBEDDED_STATE_FILE

LOCK_FILE = "leadgate.lock"
RUN_ROLE = "run"
ADMIN_ROLE = "admin"


@dataclass
class HomeLock:
    """An exclusive ``flock`` on ``HOME/leadgate.lock``; the file names the holder's role."""

    home: Path
    _fd: int | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.home / LOCK_FILE

    def try_acquire(self, role: str) -> bool:
        """Take the lock without waiting; True when it is now ours."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{role} {os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder_role(self) -> str | None:
        """The role written by the current holder ("run" or "admin"), if it can be read yet."""
        try:
            words = self.path.read_text().split()
        except OSError:
            return None
        return words[0] if words else None

    def release(self) -> None:
        """Give the lock back."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def wait_for_lock(lock: HomeLock, role: str, timeout: float) -> bool:
    """Try to take ``lock`` until ``timeout`` seconds pass; True when taken."""
    deadline = time.monotonic() + timeout
    while not lock.try_acquire(role):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def read_embedded_state(home: Path) -> dict[str, str]:
    """The URLs a running ``leadgate run`` published in ``HOME/services.json`` (empty if none)."""
    try:
        state = json.loads((home / EMBEDDED_STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {key: value for key, value in state.items() if isinstance(value, str)}
