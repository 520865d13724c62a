"""The OpenAPI pieces of safe test mode: the Leadgate-Test header and ?include_test=."""

from __future__ import annotations

from typing import Any

from webhook.test_mode import INCLUDE_TEST, TEST_HEADER

_TRUE_OR_FALSE = {"type": "string", "enum": ["true", "false"]}

# On the doors that store events, and on the dry run.
TEST_HEADER_PARAMETER: dict[str, Any] = {
    "name": TEST_HEADER,
    "in": "header",
    "required": False,
    "schema": _TRUE_OR_FALSE,
    "description": (
        "true: a test-mode event, into a test lead that never matches a real one, is left out "
        "of lists, stats and lead webhooks, and is deleted after LEADGATE_TEST_LEAD_TTL_HOURS. "
        "Token callers only: from a provider credential or an anonymous caller it is a 400, "
        "as is any value other than true or false"
    ),
}

# On the lists and stats that leave test leads and events out by default.
INCLUDE_TEST_PARAMETER: dict[str, Any] = {
    "name": INCLUDE_TEST,
    "in": "query",
    "required": False,
    "allowEmptyValue": True,
    "schema": _TRUE_OR_FALSE,
    "description": "true: count test leads and events too (default false)",
}
