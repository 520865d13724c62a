"""Short-lived per-process caches for tokens and configs.

Each ingestion request needs the token's organization and the endpoint's config; both change
rarely, so they are cached for a few seconds. The TTL bounds how long a revoked token or a
deactivated config keeps working in one process (seconds, as SECURITY.md promises).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_TTL_SECONDS = 5.0


class TtlCache(Generic[K, V]):
    """A bounded, thread-safe cache whose entries expire ``ttl`` seconds after they were loaded."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        # Seconds on a clock that never steps back; tests hand in one they move themselves.
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value for ``key``, or None when there is none or it expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self.clock():
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key`` for the next ``ttl`` seconds."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value for ``key``, or ``load()`` (cached only when not None)."""
        value = self.get(key)
        if value is not None:
            return value
        value = load()
        if value is not None:
            self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget everything (tests, and after an admin change in this process)."""
        with self._lock:
            self._entries.clear()
