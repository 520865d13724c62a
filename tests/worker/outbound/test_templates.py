"""URL templates with {{placeholders}}."""

from __future__ import annotations

import pytest

from worker.outbound.templates import TemplateError, placeholders, render_url

LEAD = {"id": 7, "external_id": "crm/42 x", "metadata": {"us_state": "CA"}, "sms_dnc": True}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("https://crm.example.com/leads/{{id}}/notify", "https://crm.example.com/leads/7/notify"),
        ("https://x.example/{{ metadata.us_state }}", "https://x.example/CA"),
        # A value stays one path segment: it can never add a segment, a host or a query.
        ("https://x.example/l/{{external_id}}", "https://x.example/l/crm%2F42%20x"),
        ("https://x.example/?dnc={{sms_dnc}}", "https://x.example/?dnc=true"),
        ("https://x.example/{{metadata.missing}}/{{nope}}", "https://x.example//"),
        ("https://x.example/plain", "https://x.example/plain"),
    ],
)
def test_render_url(template: str, expected: str) -> None:
    assert render_url(template, LEAD) == expected


@pytest.mark.parametrize(
    "template", ["https://x.example/{{}}", "https://x.example/{{a-b}}", "https://x.example/{{id"]
)
def test_malformed_placeholders_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        placeholders(template)


def test_placeholders_lists_the_paths() -> None:
    assert placeholders("https://x/{{id}}/{{metadata.a}}") == ["id", "metadata.a"]
