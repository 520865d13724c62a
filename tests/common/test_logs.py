"""Log lines: JSON with fields, personal data masked whoever logs it."""

from __future__ import annotations

import json
import logging

import pytest

from common.logs import JsonFormatter, MaskingFilter, configure_logging, mask_text


@pytest.mark.parametrize(
    "text",
    [
        "lead +14155552671 updated",
        "phone (415) 555-2671 seen",
        "phone 415.555.2671 seen",
        "phone 4155552671 seen",
        "mail jane.doe@example.com bounced",
        "token lg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg used",
    ],
)
def test_personal_data_is_masked(text: str) -> None:
    masked = mask_text(text)
    for secret in ("4155552671", "555-2671", "555.2671", "jane.doe@", "KlMnOpQrStUv"):
        assert secret not in masked.replace("(415) ", "").replace("415.", ""), masked
    assert masked != text


@pytest.mark.parametrize("text", ["event 3f2a attempt 2", "lead 12345 done", "took 0.25 s"])
def test_ordinary_text_is_untouched(text: str) -> None:
    assert mask_text(text) == text


def test_json_formatter_carries_extra_fields_and_masks() -> None:
    record = logging.makeLogRecord(
        {
            "name": "worker",
            "levelname": "INFO",
            "levelno": 20,
            "msg": "lead %s for %s",
            "args": (7, "a.b@example.com"),
            "event_id": "e-1",
            "attempt": 2,
        }
    )
    MaskingFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "lead 7 for email 'a•••@example.com' (masked)"
    assert line["event_id"] == "e-1" and line["attempt"] == 2
    assert line["level"] == "info" and line["logger"] == "worker"


def test_configure_logging_uses_the_settings_it_is_handed(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    previous_level = root.level
    monkeypatch.setattr(root, "handlers", [])  # restored afterwards, with whatever was there
    # The environment is the settings' business: configure_logging must not read it.
    monkeypatch.setenv("LEADGATE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LEADGATE_LOG_FORMAT", "json")
    try:
        configure_logging("WARNING", "text")
        (handler,) = root.handlers
        assert root.level == logging.WARNING
        assert not isinstance(handler.formatter, JsonFormatter)
        assert any(isinstance(f, MaskingFilter) for f in handler.filters)
    finally:
        root.setLevel(previous_level)
