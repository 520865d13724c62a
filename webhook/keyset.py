"""Keyset (cursor) pagination on a descending integer key: ``{count, next, previous, results}``.

Offsets over millions of rows read and throw away every row before the page; a cursor names
the key where the page starts, so each page costs an index range scan of its own size.
``count`` is exact up to ``EXACT_COUNT_LIMIT`` matching rows; past it, counting them all would
cost as much as the offsets did, so it is PostgreSQL's planner estimate and the answer carries
``Count-Is-Estimate: true``. A first page that holds every match is its own count. When the
planner expects ``SURE_ESTIMATE`` rows or more, the estimate is given without counting up to the
limit first. Each process keeps a statement's estimate, and the finding that it matched more
than the limit, for ``ESTIMATE_TTL_SECONDS``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlalchemy.sql.visitors import InternalTraversal

from webhook.cache import TtlCache
from webhook.errors import ApiError
from webhook.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from webhook.query_args import int_arg, text_arg

EXACT_COUNT_LIMIT = 10_000
# A planner's estimate this far past the limit is taken as it is, without counting first.
SURE_ESTIMATE = 10 * EXACT_COUNT_LIMIT
ESTIMATE_HEADER = "Count-Is-Estimate"
# The planner's estimate moves with ANALYZE and the table's growth, not from one request to the
# next: a list's is kept for a minute. Planning it was a third of an unfiltered list's time on a
# partitioned inbox, and it only decides whether to count (far past the limit) or what to say
# past the limit, where an estimate is all the answer claims to be.
ESTIMATE_TTL_SECONDS = 60.0
_estimates: TtlCache[Hashable, int] = TtlCache(ttl=ESTIMATE_TTL_SECONDS, max_entries=1024)
_past_limit: TtlCache[Hashable, bool] = TtlCache(ttl=ESTIMATE_TTL_SECONDS, max_entries=1024)
_FORWARD, _BACKWARD = "n", "p"


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``, with the statement's parameters bound as usual."""

    # Keyed by its statement, so SQLAlchemy's compiled cache serves it as it serves the
    # statement: compiling the events list's query afresh took 2-3 ms of a list request's CPU.
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]
    # Its one column (the plan) is none of the statement's: a cached EXPLAIN's result has no
    # statement columns to map by, only the position the plan is read from.
    _all_selected_columns: tuple[()] = ()

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain)
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


@dataclass(frozen=True)
class Page:
    """A page as the API answers it, and whether its count is an estimate."""

    body: dict[str, Any]
    count_is_estimate: bool


def _cursor(direction: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}{key}".encode()).decode().rstrip("=")


def _read_cursor() -> tuple[str, int] | None:
    raw = text_arg("cursor")
    if raw is None:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        direction, key = text[:1], int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        direction, key = "", 0
    if direction not in (_FORWARD, _BACKWARD) or not 0 <= key < 2**63:
        raise ApiError(400, "cursor is not one this API gave.", {"cursor": ["unknown cursor"]})
    return direction, key


def _url(cursor: str) -> str:
    args = request.args.to_dict(flat=False)
    args["cursor"] = [cursor]
    return f"{request.base_url}?{urlencode(args, doseq=True)}"


def _statement_key(session: Session, statement: Select[Any]) -> Hashable | None:
    """What a kept estimate is of: the database, the statement's shape and its values."""
    key = statement._generate_cache_key()
    if key is None:
        return None
    values = tuple(repr(parameter.effective_value) for parameter in key.bindparams)
    return str(session.connection().engine.url), key.key, values


def _count(session: Session, statement: Select[Any]) -> tuple[int, bool]:
    unordered = statement.order_by(None)
    key = _statement_key(session, unordered)

    def planned_rows() -> int:
        plan = session.execute(_Explain(unordered)).scalar_one()
        return int(plan[0]["Plan"]["Plan Rows"])

    # Planning costs a fraction of a millisecond; counting even the limit's rows of a filter no
    # index covers reads the inbox's partitions. Far past the limit, the estimate is the answer.
    estimate = (planned_rows() if key is None else _estimates.get_or_load(key, planned_rows)) or 0
    if estimate > SURE_ESTIMATE:
        return estimate, True
    # Counting to the limit is the one cost of a list that grows with it (7 ms at 10,001 rows);
    # a list found past it stays past it for a minute, answered with the estimate it gets anyway.
    if key is None or not _past_limit.get(key):
        bounded = unordered.limit(EXACT_COUNT_LIMIT + 1).subquery()
        exact = session.scalar(select(func.count()).select_from(bounded)) or 0
        if exact <= EXACT_COUNT_LIMIT:
            return exact, False
        if key is not None:
            _past_limit.put(key, True)
    # The planner may guess low; there are more than the limit, that much is known.
    return max(estimate, EXACT_COUNT_LIMIT + 1), True


def keyset_page(
    session: Session,
    statement: Select[Any],
    key: InstrumentedAttribute[int],
    key_of: Callable[[Any], int],
    render: Callable[[Any], dict[str, Any]],
) -> Page:
    """One page of ``statement`` in descending ``key`` order, at the request's ``cursor``."""
    size = min(int_arg("page_size") or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    # A client written for page numbers must not read page 1 again and again as page 2, 3...
    if (int_arg("page") or 1) > 1:
        raise ApiError(
            400,
            "This list is paged by cursor: follow next and previous.",
            {"page": ["use the cursor in next and previous"]},
        )
    cursor = _read_cursor()
    if cursor is not None and cursor[0] == _BACKWARD:
        rows = list(
            session.scalars(statement.where(key > cursor[1]).order_by(key.asc()).limit(size + 1))
        )
        more_before, rows = len(rows) > size, rows[:size][::-1]
        more_after = True
    else:
        paged = statement if cursor is None else statement.where(key < cursor[1])
        rows = list(session.scalars(paged.order_by(key.desc()).limit(size + 1)))
        more_after, rows = len(rows) > size, rows[:size]
        more_before = cursor is not None
    if cursor is None and not more_after:
        # A first page that holds every match has counted them.
        count, estimated = len(rows), False
    else:
        count, estimated = _count(session, statement)
    body = {
        "count": count,
        "next": _url(_cursor(_FORWARD, key_of(rows[-1]))) if rows and more_after else None,
        "previous": _url(_cursor(_BACKWARD, key_of(rows[0]))) if rows and more_before else None,
        "results": [render(row) for row in rows],
    }
    return Page(body, estimated)
