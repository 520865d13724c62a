"""Logging: JSON lines (or plain text) with personal data masked before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from common.masking import mask_text

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

__all__ = ["JsonFormatter", "MaskingFilter", "configure_logging", "mask_text"]


class MaskingFilter(logging.Filter):
    """Masks personal data in the formatted message of every record.

    A safety net under the rule that code never logs personal data: emails, phone-like digit
    runs and tokens are masked in every message, whoever wrote it (common/masking.py).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its masked text."""
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    """Log to stderr once per process at ``level``, as ``json`` lines or ``text``.

    The caller hands down the validated settings (``Settings.log_level`` / ``log_format``);
    this module never reads the environment itself.
    """
    root = logging.getLogger()
    if any(getattr(handler, "_leadgate", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._leadgate = True  # type: ignore[attr-defined]
    if log_format == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    root.setLevel(level)
