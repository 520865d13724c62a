"""Logging setup and masking of personal data in log lines."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """Log to stderr once per process, at LEADGATE_LOG_LEVEL (INFO by default)."""
    root = logging.getLogger()
    if any(getattr(handler, "_leadgate", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._leadgate = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(os.environ.get("LEADGATE_LOG_LEVEL", "INFO").upper())


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
