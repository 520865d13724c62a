"""The events list's query parameters, read into the filter the worker's search defines."""

from __future__ import annotations

import string
from urllib.parse import quote

from flask import request
from sqlalchemy import ColumnElement

from webhook.errors import ApiError
from worker.event_filter_parser import FILTER_NAMES, FilterError, parse_event_filter
from worker.event_search import event_conditions

# The header that carries a stored payload's query string (percent-encoded where needed).
QUERY_STRING_HEADER = "X-Query-String"
# Printable ASCII but whitespace: what a header value may hold as it is.
_HEADER_SAFE = "".join(c for c in string.printable if c not in string.whitespace)


def header_safe(text: str) -> str:
    """``text`` with anything a header cannot carry percent-encoded."""
    return quote(text, safe=_HEADER_SAFE)


def filter_error(error: FilterError) -> ApiError:
    """A filter the parser refused, as the 400 that names it."""
    return ApiError(400, error.detail, {error.field: [error.reason]})


def event_filters() -> list[ColumnElement[bool]]:
    """The request's filters as SQL conditions; a bad one is a 400 that names it."""
    texts = {name: request.args.getlist(name) for name in FILTER_NAMES}
    try:
        return event_conditions(parse_event_filter(texts))
    except FilterError as error:
        raise filter_error(error) from None
