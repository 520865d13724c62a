"""A clock that moves only when a test moves it."""

from __future__ import annotations


class ManualClock:
    """Monotonic seconds, advanced by hand: a stand-in for ``time.monotonic``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        """The current reading."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds
