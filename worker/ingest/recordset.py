"""Many rows in one INSERT: the rows travel as one jsonb array, ``jsonb_to_recordset`` unpacks it.

A list of dicts given to ``session.execute(insert(Model), rows)`` is sent by psycopg as one
INSERT per row (pipelined, but each parsed, bound and executed on its own), and the ORM's bulk
path walks every row in Python first: in a B2 profile the field history alone took a fifth of
the worker's time that way. Here a batch's rows are one parameter and one statement, whatever
their number; the statement text is built once per table and column list.

The values keep their meaning: a JSON ``null`` (Python None) becomes SQL NULL, as the models'
JSON columns store None (``none_as_null``); datetimes travel in ISO 8601 with their offset and
UUIDs as text, which PostgreSQL reads back into the column's own type.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Integer, Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _quoted(name: str) -> str:
    return _DIALECT.identifier_preparer.quote(name)


def _read_as(table: Table, name: str) -> str:
    column_type = table.c[name].type
    # A foreign key's declared type may be narrower than the key it points at; reading every
    # integer as bigint lets the INSERT's own cast to the column decide, as a bound value would.
    if isinstance(column_type, Integer):
        return "BIGINT"
    return str(column_type.compile(dialect=_DIALECT))


@cache
def _statement(table: Table, columns: tuple[str, ...], conflict: str) -> TextClause:
    names = ", ".join(_quoted(name) for name in columns)
    shape = ", ".join(f"{_quoted(name)} {_read_as(table, name)}" for name in columns)
    # Every name here comes from the table's own definition and the callers' constant clauses;
    # the rows' values travel only as the bound parameter.
    sql = (
        f"INSERT INTO {_quoted(table.name)} ({names}) SELECT {names} "  # noqa: S608
        f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS given({shape}) {conflict}"
    )
    return text(sql)


def insert_recordset(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], conflict: str = ""
) -> None:
    """Insert ``rows`` (all with the same keys) into ``table`` in one statement.

    ``conflict`` is an ``ON CONFLICT ...`` clause in SQL, written against the table's own name
    and ``excluded``; rows are inserted in the order given.
    """
    if not rows:
        return
    statement = _statement(table, tuple(rows[0]), conflict)
    payload = json.dumps(rows, default=_json_default, separators=(",", ":"))
    session.execute(statement, {"rows": payload})
