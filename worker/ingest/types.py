"""Plain values passed between the stages of the pipeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from worker.ingest.hygiene import BlockedValue


@dataclass(frozen=True)
class FieldError:
    """One invalid field: which field (a lead field name or ``metadata.KEY``) and why."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form stored on the event: ``{"field": ..., "message": ...}``."""
        return {"field": self.field, "message": self.message}


@dataclass
class PreparedLead:
    """A payload mapped, converted and normalized, ready to be matched and applied.

    ``values`` holds only the standard lead fields the payload gave a non-empty value for; a field
    that is absent, null or empty is left out so an update keeps what the lead has.
    """

    values: dict[str, Any] = field(default_factory=dict)
    # Values from ``default`` rules, applied only when a lead is created.
    defaults: dict[str, Any] = field(default_factory=dict)
    # Metadata keys to merge into the lead's metadata, key by key.
    metadata: dict[str, Any] = field(default_factory=dict)
    # A request parameter (SPEC section 5), never stored on the lead.
    min_reengagement_days: int | None = None
    # Consent evidence (the mapping's consent.KEY targets): appended to the lead's records.
    consent: dict[str, Any] = field(default_factory=dict)
    # When the payload says the event happened (the mapping's event_time), if readable.
    event_time: dt.datetime | None = None
    errors: list[FieldError] = field(default_factory=list)
    # Phone numbers and emails the payload gave that hygiene refused: left out of ``values``.
    blocked: list[BlockedValue] = field(default_factory=list)
    # Notes about the payload itself (how its body was read, a field it ignored), recorded on the
    # event ahead of the matcher's warnings whatever the outcome.
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no field is invalid."""
        return not self.errors
