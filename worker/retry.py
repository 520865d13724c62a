"""Which errors are worth retrying, and how long to wait before the next attempt."""

from __future__ import annotations

import random

import redis
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

# Connection loss, serialization failure, deadlock and lock timeout all arrive from psycopg as
# OperationalError; a unique violation means a concurrent writer won a race we lost; a stale
# version means the lead changed under us. Each clears up by trying again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    IntegrityError,
    StaleDataError,
    redis.ConnectionError,
    redis.TimeoutError,
    BrokerError,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """True for errors that a later attempt can get past."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT_ERRORS)


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about base·2^(attempt-1), capped, spread over ±50%."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def describe(error: BaseException) -> str:
    """A short description of an error for the event's ``last_error`` (no payload data)."""
    orig = getattr(error, "orig", None)
    name = type(orig).__name__ if orig is not None else type(error).__name__
    return f"{type(error).__name__} ({name})" if orig is not None else name
