"""Group commit: concurrent requests of one web process share one INSERT and one commit.

Batches take turns: at most one batch's INSERT is in flight per process. A request that reaches
the door while no batch is open opens one and leads it. While an earlier batch commits, the
open batch collects the arrivals, and its leader starts the moment that batch has returned: the
commit of one batch is the window of the next, so under load each commit carries several rows.
With nothing in flight the leader waits until every ingest request of this process that is on
its way has joined, the batch holds ``max_rows``, or ``window_s`` has passed, whichever comes
first. A full batch closes and waits for its turn; the next arrival opens another behind it.

Nobody is answered before its batch's INSERT has committed. A batch that fails fails only its
own members. Requests announce themselves on arrival (``arriving``), so a leader alone in the
process does not wait at all: an idle service answers as fast as it did without batching.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from common.settings import get_settings

Row = dict[str, object]
# Runs one batch's INSERT and returns the ids of the rows it inserted.
BatchRunner = Callable[[list[Row]], set[object]]
# Runs once per stored batch, by its leader, after every member has its answer.
AfterCommit = Callable[[list[Row]], None]


class BatchFailed(Exception):
    """The batch this request joined could not be stored; the request may be retried."""


@dataclass
class Ticket:
    """One request on its way to the door; it counts as arriving until it joins a batch."""

    committer: GroupCommitter
    joined: bool = False

    def insert(self, row: Row, run: BatchRunner, after: AfterCommit | None = None) -> bool:
        """Store ``row`` in a batch of this ticket's committer (see ``GroupCommitter.insert``)."""
        return self.committer.insert(self, row, run, after)


@dataclass
class _Member:
    row: Row
    done: threading.Event = field(default_factory=threading.Event)
    inserted: bool = False
    error: BaseException | None = None


@dataclass
class BatchStats:
    """What this process's batches looked like, for tests and the benchmark."""

    batches: int = 0
    rows: int = 0
    largest: int = 0
    # Batches that waited for an earlier one to commit, and so started without a window.
    followed: int = 0


class GroupCommitter:
    """Collects concurrent inserts of one process into batches that commit one at a time."""

    def __init__(self, window_s: float, max_rows: int) -> None:
        self.window_s = window_s
        self.max_rows = max_rows
        self.stats = BatchStats()
        # Only leaders wait on it: members wait on their own event, so a join wakes no member.
        self._changed = threading.Condition(threading.Lock())
        self._open: list[_Member] | None = None
        # Batches that have a leader but have not run yet, oldest first; the open one is last.
        self._turns: deque[list[_Member]] = deque()
        self._in_flight = False
        self._arriving = 0

    @contextmanager
    def arriving(self) -> Iterator[Ticket]:
        """Announce a request that will insert, so an open batch waits for it."""
        ticket = Ticket(self)
        with self._changed:
            self._arriving += 1
        try:
            yield ticket
        finally:
            if not ticket.joined:
                with self._changed:
                    self._arriving -= 1
                    if self._arriving == 0:
                        self._changed.notify_all()

    def insert(
        self, ticket: Ticket | None, row: Row, run: BatchRunner, after: AfterCommit | None = None
    ) -> bool:
        """Store ``row`` in a batch; True when it was inserted, False when a conflict skipped it.

        ``run`` and ``after`` (given the rows inserted) are used when this request leads its
        batch. Raises ``BatchFailed`` when the batch could not be stored.
        """
        member = _Member(row)
        with self._changed:
            if ticket is not None and not ticket.joined:
                ticket.joined = True
                self._arriving -= 1
            batch = self._open
            # A full batch is its leader's to take: whoever comes next starts the next one.
            leading = batch is None or len(batch) >= self.max_rows
            if leading:
                batch = self._open = [member]
                self._turns.append(batch)
                self._await_turn(batch)
            else:
                assert batch is not None
                batch.append(member)
                # Only a full batch or the last arrival can end a leader's window early.
                if len(batch) >= self.max_rows or self._arriving == 0:
                    self._changed.notify_all()
        if leading:
            assert batch is not None
            self._lead(batch, run, after)
        else:
            member.done.wait()
        if member.error is not None:
            raise BatchFailed(str(member.error)) from member.error
        return member.inserted

    def _await_turn(self, batch: list[_Member]) -> None:
        # Called with the lock held by the batch's leader; returns with the batch closed and in
        # flight. The waits stay inside one try so that a leader interrupted while waiting
        # still gives up its place in line and fails its members instead of stranding them.
        try:
            followed = False
            while self._in_flight or self._turns[0] is not batch:
                followed = True
                self._changed.wait()
            if not followed:
                self._collect(batch)
        except BaseException as error:
            self._turns.remove(batch)
            if self._open is batch:
                self._open = None
            self._changed.notify_all()
            _answer(batch, set(), error)
            raise
        self._turns.popleft()
        if self._open is batch:
            self._open = None
        self._in_flight = True
        self.stats.batches += 1
        self.stats.rows += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        self.stats.followed += followed

    def _collect(self, batch: list[_Member]) -> None:
        # Nothing was in flight: wait for the requests on their way, within the window.
        deadline = time.monotonic() + self.window_s
        while len(batch) < self.max_rows and self._arriving > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._changed.wait(remaining)

    def _lead(self, batch: list[_Member], run: BatchRunner, after: AfterCommit | None) -> None:
        """Run the batch, answer its members, hand the turn on, then run ``after``."""
        inserted: set[object] = set()
        failure: BaseException | None = None
        try:
            inserted = run([member.row for member in batch])
        except BaseException as error:
            failure = error
        finally:
            # The turn passes as soon as the INSERT returns: the next batch's commit overlaps
            # with this one's answers and wake-ups.
            with self._changed:
                self._in_flight = False
                self._changed.notify_all()
        _answer(batch, inserted, failure)
        stored = [member.row for member in batch if member.inserted]
        if after is not None and stored:
            after(stored)


def _answer(batch: list[_Member], inserted: set[object], error: BaseException | None) -> None:
    """Give each member its result and let it go."""
    for member in batch:
        member.error = error
        member.inserted = error is None and member.row["id"] in inserted
        member.done.set()


@lru_cache(maxsize=4)
def _committer_of(_pid: int) -> GroupCommitter:
    settings = get_settings()
    return GroupCommitter(settings.group_commit_window_ms / 1000, settings.group_commit_max_rows)


def group_committer() -> GroupCommitter:
    """This process's committer (a forked worker gets its own)."""
    return _committer_of(os.getpid())
