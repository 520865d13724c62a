"""Webhook filter conditions: a JMESPath expression over the lead payload, compiled once."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult


class FilterError(ValueError):
    """A filter condition that does not compile; the message quotes the parser's reason."""


@lru_cache(maxsize=1024)
def compile_filter(expression: str) -> ParsedResult:
    """The compiled expression; FilterError when it is not valid JMESPath."""
    try:
        return jmespath.compile(expression)
    except JMESPathError as error:
        raise FilterError(f"not a valid JMESPath expression: {error}") from None


def _truthy(value: Any) -> bool:
    # JMESPath's own notion: false, null, and empty strings, lists and objects are false.
    # (0 is true there, so no ``in`` test: 0 == False in Python.)
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and len(value) == 0)


def passes(expression: str | None, payload: dict[str, Any]) -> bool:
    """True when there is no condition or it is truthy for ``payload``."""
    if not expression:
        return True
    try:
        return _truthy(compile_filter(expression).search(payload))
    except (JMESPathError, TypeError, ValueError):
        # An error at run time (jmespath raises TypeError comparing a string with a number)
        # filters the lead out rather than failing the ingestion that triggered it.
        return False
