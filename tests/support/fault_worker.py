"""The production Celery app with faults injected from the environment, for fault tests only.

Run as ``celery -A tests.support.fault_worker worker ...``. Production code carries no test
hooks: this module wraps the functions the task calls, before the pool forks, so every child
inherits the faults.

``LEADGATE_TEST_FAULT`` holds rules separated by ``;``, each ``KIND:ARG`` or ``KIND:ARG@MARKER``.
A rule with a marker applies only to events whose payload contains the marker text; one without
applies to every event.

Faults act on whole batches (see ``worker.ingest.claims``): a rule applies when it applies to
any event of the batch in hand. A batch that fails is retried one event at a time, so a rule
aimed at one event ends up failing only that event.

- ``transient:N`` raises a transient ``OperationalError`` where the event's transaction
  starts (under the identity locks) on its first N attempts (``transient:always`` never
  clears).
- ``pause_after_lock:SECONDS`` sleeps after the Redis identity locks are taken, before the
  database transaction (so a short lock TTL runs out while the task still works).
- ``pause_in_transaction:SECONDS`` sleeps inside the transaction, after the advisory locks.
- ``crash:N`` ends the pool process abruptly inside the transaction on the first N attempts
  (a worker lost mid-task).

``LEADGATE_TEST_FAULT_LOG`` names a file that gets one JSON line per injected fault.

``LEADGATE_TEST_FAULT_RELEASE_DIR`` lets a test end a fault when it chooses rather than on a
timer: once a file named after a rule's marker exists there, that rule's pauses end at once and
its other faults stop. A test then orders events by what it observes, not by sleeping.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import worker.batches as batches
import worker.ingest.pipeline as pipeline
import worker.locks as locks
import worker.tasks  # noqa: F401 - loaded first, so that its references are patched too
from worker.celery_app import app
from worker.ingest.claims import Claim
from worker.ingest.pipeline import ClaimedEvent, Outcome

__all__ = ["FaultRule", "app", "parse_rules"]

FAULT_ENV = "LEADGATE_TEST_FAULT"
FAULT_LOG_ENV = "LEADGATE_TEST_FAULT_LOG"
RELEASE_DIR_ENV = "LEADGATE_TEST_FAULT_RELEASE_DIR"
KINDS = ("transient", "pause_after_lock", "pause_in_transaction", "crash")

_current_claims: ContextVar[tuple[Claim, ...]] = ContextVar("current_claims", default=())


@dataclass(frozen=True)
class FaultRule:
    """One fault: what to do, how often or how long, and which events it applies to."""

    kind: str
    times: int | None = None  # attempts affected; None: every attempt
    seconds: float = 0.0
    marker: str | None = None

    def applies_to(self, claim: Claim) -> bool:
        """True when this rule targets the claimed event on this attempt."""
        if self.marker is not None and self.marker not in json.dumps(claim.payload):
            return False
        if self.released():
            return False
        return self.times is None or claim.attempt <= self.times

    def released(self) -> bool:
        """True once the test has released this rule (see ``LEADGATE_TEST_FAULT_RELEASE_DIR``)."""
        directory = os.environ.get(RELEASE_DIR_ENV)
        if not directory or not self.marker:
            return False
        return os.path.exists(os.path.join(directory, self.marker))

    def pause(self) -> None:
        """Sleep for the rule's seconds, or until the test releases it."""
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and not self.released():
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def parse_rules(spec: str) -> list[FaultRule]:
    """Parse ``LEADGATE_TEST_FAULT``; a malformed rule is an error naming it."""
    rules = []
    for raw in filter(None, (part.strip() for part in spec.split(";"))):
        body, _, marker = raw.partition("@")
        kind, _, argument = body.partition(":")
        if kind not in KINDS or not argument:
            raise ValueError(f"{FAULT_ENV}: cannot read rule {raw!r}; kinds are {', '.join(KINDS)}")
        if kind.startswith("pause"):
            rule = FaultRule(kind, seconds=float(argument), marker=marker or None)
        else:
            times = None if argument == "always" else int(argument)
            rule = FaultRule(kind, times=times, marker=marker or None)
        rules.append(rule)
    return rules


RULES = parse_rules(os.environ.get(FAULT_ENV, ""))


def _matching(kind: str) -> list[tuple[FaultRule, Claim]]:
    found = []
    for rule in RULES:
        if rule.kind != kind:
            continue
        claim = next((c for c in _current_claims.get() if rule.applies_to(c)), None)
        if claim is not None:
            found.append((rule, claim))
    return found


def _log_injection(kind: str, claim: Claim) -> None:
    path = os.environ.get(FAULT_LOG_ENV)
    if not path:
        return
    line = {
        "kind": kind,
        "event_id": str(claim.event_id),
        "attempt": claim.attempt,
        "pid": os.getpid(),
        "time": time.time(),
    }
    # One short write in append mode lands whole even with several pool processes writing.
    with open(path, "a", encoding="utf-8") as log_file:
        log_file.write(json.dumps(line) + "\n")


def _inject(kind: str) -> None:
    for rule, claim in _matching(kind):
        _log_injection(kind, claim)
        if kind == "transient":
            raise OperationalError(
                "injected fault", {}, psycopg.OperationalError("injected: connection lost")
            )
        if kind == "crash":
            os._exit(70)  # no cleanup, no ack: as if the process were killed
        rule.pause()


# The originals, from the modules that define them (the task module holds the same objects).
_real_process_batch = batches.process_batch
_real_identity_locks = locks.identity_locks
_real_process_claims = pipeline.process_claims
_real_lock_identities = pipeline.lock_identities


def _process_batch(batch: list[ClaimedEvent]) -> list[Outcome | None]:
    # Remember which events this pool process works on, for the wrappers below.
    token = _current_claims.set(tuple(claim for claim, _ in batch))
    try:
        return _real_process_batch(batch)
    finally:
        _current_claims.reset(token)


@contextmanager
def _identity_locks(keys: list[str], *args: Any, **kwargs: Any) -> Iterator[bool]:
    with _real_identity_locks(keys, *args, **kwargs) as held:
        _inject("pause_after_lock")
        yield held


def _process_claims(session: Session, batch: list[ClaimedEvent], **options: Any) -> Any:
    _inject("transient")
    return _real_process_claims(session, batch, **options)


def _lock_identities(session: Session, keys: list[str]) -> None:
    _real_lock_identities(session, keys)
    _inject("crash")
    _inject("pause_in_transaction")


def _patch_everywhere(original: Callable[..., Any], replacement: Callable[..., Any]) -> list[str]:
    """Replace ``original`` in every worker module that holds it; the modules patched.

    The task module may reach a function through a helper module (a timing wrapper, say), so
    every reference is replaced, not one named import.
    """
    patched = []
    for name, module in list(sys.modules.items()):
        if not (name == "worker" or name.startswith("worker.")) or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if value is original:
                setattr(module, attribute, replacement)
                patched.append(f"{name}.{attribute}")
    return patched


_PATCHES: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (_real_process_batch, _process_batch),
    (_real_identity_locks, _identity_locks),
    (_real_process_claims, _process_claims),
    (_real_lock_identities, _lock_identities),
]
for _original, _replacement in _PATCHES:
    # Beyond the defining module, someone must call it through a patched name: were the
    # pipeline reshaped so that nobody does, faults would silently not happen.
    _users = [name for name in _patch_everywhere(_original, _replacement)
              if not name.startswith(_original.__module__ + ".")]  # fmt: skip
    if not _users and _original is not _real_lock_identities:
        raise RuntimeError(f"fault worker: nothing calls {_original.__qualname__} any more")
