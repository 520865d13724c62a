"""The anonymous rule: who is not the organization, and what such a party may be told."""

from __future__ import annotations

import re

from models.enums import AuthMode

# Modes in which a request without a token may still post: anonymously (open), or proving
# itself with a provider credential that travels with the body. Such a sender is not the
# organization: neither its answers nor a callback about its events carry stored data.
TOKENLESS_MODES = frozenset({AuthMode.open, AuthMode.payload_key, AuthMode.signature})

# "lead 123", "lead id 123", "lead #123": how an error names the lead that holds a value.
_LEAD_REFERENCE = re.compile(r"\blead(?:\s+id)?\s*#?\s*\d+", re.IGNORECASE)


def without_lead_ids(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Field errors with every mention of another lead's id replaced by "another lead"."""
    return [
        {
            "field": str(error.get("field", "body")),
            "message": _LEAD_REFERENCE.sub("another lead", str(error.get("message", ""))),
        }
        for error in errors
    ]
