"""Page-number pagination: ``{count, next, previous, results}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from webhook.query_args import int_arg

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _page_url(page: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(args)}"


def paginate(
    session: Session, statement: Select[Any], render: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``statement`` for the requested page and wrap it with count and links."""
    page = int_arg("page") or 1
    page_size = min(int_arg("page_size") or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    count = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    assert count is not None
    rows = session.scalars(statement.limit(page_size).offset((page - 1) * page_size)).all()
    return {
        "count": count,
        "next": _page_url(page + 1) if page * page_size < count else None,
        "previous": _page_url(page - 1) if page > 1 else None,
        "results": [render(row) for row in rows],
    }
