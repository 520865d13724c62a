"""Logging: JSON lines (or plain text) with personal data masked before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# A safety net under the rule that code never logs personal data: emails, phone-like digit runs
# and tokens are masked in every message, whoever wrote it.
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w-])\+?1?[\s.(-]*\d{3}[\s.)-]*\d{3}[\s.-]*\d{2}(\d{2})(?![\w-])")
_TOKEN = re.compile(r"\b(lg_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]+")


def mask_text(text: str) -> str:
    """Mask emails, phone numbers and tokens inside free text."""
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _PHONE.sub(r"***-***-**\1", text)
    return _TOKEN.sub(r"\1…", text)


def mask_phone(phone: str | None) -> str:
    """Keep the last two digits of a phone number: ``+1*******71``."""
    if not phone:
        return "-"
    return phone[:2] + "*" * max(len(phone) - 4, 0) + phone[-2:]


def mask_email(email: str | None) -> str:
    """Keep the first character and the domain: ``j***@example.com``."""
    if not email:
        return "-"
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


class MaskingFilter(logging.Filter):
    """Masks personal data in the formatted message of every record."""

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
