"""Filter conditions: JMESPath over the lead, truthy by JMESPath's rules."""

from __future__ import annotations

import pytest

from worker.outbound.filters import FilterError, compile_filter, passes

LEAD = {"us_state": "CA", "metadata": {"score": 0, "tags": []}, "email": None}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (None, True),
        ("", True),
        ("us_state == 'CA'", True),
        ("us_state == 'NY'", False),
        ("metadata.score", True),  # 0 is true in JMESPath
        ("metadata.tags", False),
        ("email", False),
        ("metadata.missing", False),
        ("contains(['CA', 'NY'], us_state)", True),
        ("metadata.score > `5`", False),
        ("us_state > `5`", False),  # jmespath raises here; the lead is filtered out
    ],
)
def test_passes(expression: str | None, expected: bool) -> None:
    assert passes(expression, LEAD) is expected


def test_an_invalid_expression_is_refused_with_the_reason() -> None:
    with pytest.raises(FilterError, match="not a valid JMESPath expression"):
        compile_filter("us_state ==")
