"""Safe test mode on the doors: the ``Leadgate-Test`` header and ``?include_test=``.

A request with ``Leadgate-Test: true`` stores a test-mode event: the worker runs the whole
pipeline for it, into test leads that never match real ones (see worker.ingest.matching). Only
the organization's token may ask for it: a provider credential or an anonymous caller cannot
choose where its payload lands, so the header from one is refused rather than ignored (ignored,
a provider's test payload would silently become a real lead).
"""

from __future__ import annotations

from flask import request

from models import Lead
from webhook.auth import Caller
from webhook.errors import ApiError

TEST_HEADER = "Leadgate-Test"
INCLUDE_TEST = "include_test"

_BOOLEANS = {"true": True, "false": False}


def requested_test_mode(caller: Caller) -> bool:
    """The ``Leadgate-Test`` header's answer (absent: False); 400 naming it when it cannot be."""
    raw = request.headers.get(TEST_HEADER)
    if raw is None:
        return False
    value = _BOOLEANS.get(raw.strip().lower())
    if value is None:
        raise ApiError(
            400,
            f"The {TEST_HEADER} header must be true or false.",
            {TEST_HEADER: [f"expected true or false, got {raw!r}"]},
        )
    if caller.anonymous:
        raise ApiError(
            400,
            f"The {TEST_HEADER} header is for the organization's token only; "
            "a provider credential or an anonymous call cannot send it.",
            {TEST_HEADER: ["only a token caller may send it"]},
        )
    return value


def check_patch_mode(lead: Lead, is_test: bool) -> None:
    """404 when a PATCH's mode is not its lead's: test mode never touches a real lead."""
    if lead.is_test == is_test:
        return
    if lead.is_test:
        detail = f"Lead {lead.id} is a test lead; send {TEST_HEADER}: true to change it."
    else:
        detail = f"No test lead has this id; lead {lead.id} is a real lead."
    raise ApiError(404, detail)


def include_test() -> bool:
    """``?include_test=true|false`` (default false); 400 naming the parameter otherwise."""
    # An empty value is no choice, as with every query parameter of this API.
    given = [value for value in request.args.getlist(INCLUDE_TEST) if value]
    if not given:
        return False
    value = _BOOLEANS.get(given[0].strip().lower()) if len(given) == 1 else None
    if value is None:
        raise ApiError(
            400,
            f"{INCLUDE_TEST} must be true or false.",
            {INCLUDE_TEST: [f"expected true or false, got {', '.join(given)!r}"]},
        )
    return value
