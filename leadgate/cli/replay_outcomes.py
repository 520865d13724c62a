"""What became of replayed events: counted by action and by error, for ``leadgate replay``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.enums import EventAction, EventStatus

TERMINAL = (EventStatus.done, EventStatus.failed, EventStatus.dead)
FAILED_AGAIN = (EventStatus.failed, EventStatus.dead)


@dataclass(frozen=True)
class EventOutcome:
    """One replayed event as it stands now."""

    status: EventStatus
    action: EventAction | None
    errors: list[Any]
    last_error: str | None


@dataclass
class ReplayOutcomes:
    """Replayed events counted by what they became, and the errors of those that failed again."""

    by_action: Counter[str] = field(default_factory=Counter)
    by_error: Counter[str] = field(default_factory=Counter)
    failed_again: int = 0
    pending: int = 0

    def add(self, outcome: EventOutcome) -> None:
        """Count one event: a done event by its action, the others by their status."""
        if outcome.status not in TERMINAL:
            self.pending += 1
            self.by_action["pending"] += 1
            return
        if outcome.status == EventStatus.done:
            self.by_action[outcome.action.value if outcome.action else "done"] += 1
            return
        self.failed_again += 1
        self.by_action[outcome.status.value] += 1
        for error in _error_texts(outcome):
            self.by_error[error] += 1

    def lines(self) -> list[str]:
        """The report: one line per action, then one per distinct error with its count."""
        lines = [f"  {action:<10} {count}" for action, count in _ordered(self.by_action)]
        if self.by_error:
            lines.append("errors (count, field: message):")
            lines.extend(f"  {count:>5}  {error}" for error, count in _ordered(self.by_error))
        return lines


def tally(outcomes: Iterable[EventOutcome]) -> ReplayOutcomes:
    """Count ``outcomes`` by action and by error."""
    counted = ReplayOutcomes()
    for outcome in outcomes:
        counted.add(outcome)
    return counted


def _error_texts(outcome: EventOutcome) -> list[str]:
    """``field: message`` for each error of a failed event; a dead event's last transient error."""
    texts = [
        f"{error.get('field')}: {error.get('message')}"
        for error in outcome.errors
        if isinstance(error, dict)
    ]
    if not texts and outcome.last_error:
        texts.append(f"{outcome.status.value}: {' '.join(outcome.last_error.split())}")
    return texts or [f"{outcome.status.value}: no error recorded"]


def _ordered(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most frequent first; ties by name, so the report is the same on every run."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
