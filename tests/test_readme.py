"""README.md says what the HTTP API does: its read endpoints, its headers, its wait maximum."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webhook.openapi_document import openapi_document
from webhook.outcome import MAX_WAIT_SECONDS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
DOCUMENT = openapi_document()


def _generic(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.mark.parametrize(
    "path", sorted(path for path, item in DOCUMENT["paths"].items() if path.startswith("/api/"))
)
def test_every_api_path_is_in_the_readme(path: str) -> None:
    methods = [method.upper() for method in DOCUMENT["paths"][path]]
    mentioned = {
        _generic(found)
        for found in re.findall(r"`(?:GET|POST|PUT|PATCH|DELETE) (/api/[^`?]*)`", README)
    }
    assert _generic(path) in mentioned, f"README names no {methods} {path}"


def test_every_documented_answer_header_is_in_the_readme() -> None:
    headers = {
        name
        for item in DOCUMENT["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for name in response.get("headers", {})
    }
    assert headers, "the document declares no answer headers"
    missing = sorted(name for name in headers if f"`{name}" not in README)
    assert not missing, f"README never mentions {missing}"


def test_the_readme_states_the_wait_maximum_of_the_code() -> None:
    stated = re.findall(r"N at most (\d+) seconds", README)
    assert stated == [f"{MAX_WAIT_SECONDS:g}"]


def test_the_readme_says_a_create_needs_a_phone_number() -> None:
    assert "Creating a lead needs a phone number" in README


def test_the_readme_does_not_promise_the_sela_api() -> None:
    # Only the custom-payload endpoints exist until the standard Sela lead API is built.
    assert "an integration written against that API works here" not in README
