"""What a payload changes on a lead: the update, stale-fill, reengagement and create rules.

The rules work on a lead's stored values as a plain dict keyed by model attribute
(``LeadValues``), so that the decision can compute an event's writes without touching a row;
``write_values`` and ``build_lead`` then put them on the ORM lead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from models import IngestionConfig, Lead
from models.base import utcnow
from models.enums import LeadStatus, StatusReason
from worker.ingest.timezones import timezone_for
from worker.ingest.types import PreparedLead

LeadValues = dict[str, Any]

# JSON field name → model attribute, where they differ.
_ATTRIBUTE = {"representative": "representative_id", "campaign": "campaign_id"}
_STICKY_FLAGS = ("sms_dnc", "call_dnc")
_STATUS_FIELDS = ("status", "status_reason")

# Everything ingestion may write on a lead; the bookkeeping columns (version, last_event_seq,
# modified_time) are the writer's, not a rule's.
STORED_ATTRIBUTES: tuple[str, ...] = (
    "phone_number",
    "email",
    "external_id",
    "us_state",
    "lead_source",
    "lead_metadata",
    "status",
    "status_outcome",
    "status_reason",
    "campaign_id",
    "representative_id",
    "lead_type",
    "sms_dnc",
    "call_dnc",
    "next_call_time",
    "next_call_time_reason",
    "call_schedule_start_time",
    "timezone",
    "received_time",
    "reengagements_count",
    "last_reengagement_time",
)


def attribute_for(field_name: str) -> str:
    """The model attribute of a JSON lead field (``representative`` → ``representative_id``)."""
    return _ATTRIBUTE.get(field_name, field_name)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def lead_values(lead: Lead) -> LeadValues:
    """A lead's stored values, as the rules below read them."""
    return {attribute: getattr(lead, attribute) for attribute in STORED_ATTRIBUTES}


def _with_timezone(values: LeadValues) -> LeadValues:
    zone = timezone_for(values.get("us_state"), values.get("phone_number"))
    if zone is not None:
        values["timezone"] = zone
    metadata = values.get("lead_metadata") or {}
    # The derived zone fills metadata.timezone only when the lead has none: a provider's own
    # zone (or one a person set) is never replaced by ours.
    if values.get("timezone") is not None and "timezone" not in metadata:
        values["lead_metadata"] = {**metadata, "timezone": values["timezone"]}
    return values


def new_lead_values(
    config: IngestionConfig, prepared: PreparedLead, received_time: dt.datetime
) -> tuple[LeadValues, list[dict[str, Any]]]:
    """The values of a lead created from ``prepared``, and warnings about fields it ignored.

    A lead created by ingestion starts NEW / WEBHOOK whatever the payload says; a status or
    reason the payload gave is left out, with a warning.
    """
    defaults = dict(prepared.defaults)
    # Defaults of metadata.KEY rules arrive as one object; the payload's own keys win over them.
    metadata_defaults = defaults.pop("metadata", None) or {}
    values: LeadValues = {attribute: None for attribute in STORED_ATTRIBUTES}
    values.update(
        campaign_id=config.campaign_id,
        lead_type=config.default_lead_type,
        sms_dnc=False,
        call_dnc=False,
        reengagements_count=0,
        received_time=received_time,
    )
    warnings: list[dict[str, Any]] = []
    fixed = {"status": LeadStatus.NEW, "status_reason": StatusReason.WEBHOOK}
    for field_name, value in {**defaults, **prepared.values}.items():
        if field_name in _STATUS_FIELDS:
            if value != fixed[field_name]:
                warnings.append(_ignored_on_create(field_name, value, fixed[field_name]))
            continue
        values[attribute_for(field_name)] = value
    values.update(fixed)
    values["lead_metadata"] = {**metadata_defaults, **prepared.metadata}
    return _with_timezone(values), warnings


def _ignored_on_create(field_name: str, given: Any, kept: Any) -> dict[str, Any]:
    shown = getattr(given, "value", given)
    return {
        "field": field_name,
        "reason": (
            f"the payload's {field_name} {shown} was ignored: a lead created by ingestion "
            f"starts as {kept.value}"
        ),
    }


def merged_values(
    current: LeadValues, prepared: PreparedLead, fill_only: bool, sticky_dnc: bool = True
) -> LeadValues:
    """The lead's values after the update rules merge ``prepared`` into ``current``.

    Present fields overwrite (or, with ``fill_only``, only fill empty ones); DNC flags can be
    set but never cleared by ingestion (``sticky_dnc``; the owner's PATCH may clear them);
    metadata merges key by key; a status change by ingestion records WEBHOOK as its reason
    unless the payload names one.
    """
    values = dict(current)
    for field_name, value in prepared.values.items():
        attribute = attribute_for(field_name)
        if field_name in _STICKY_FLAGS and sticky_dnc:
            if value is True:
                values[attribute] = True
            continue
        if fill_only and not _is_empty(values.get(attribute)):
            continue
        values[attribute] = value
    if values.get("status") != current.get("status") and "status_reason" not in prepared.values:
        values["status_reason"] = StatusReason.WEBHOOK
    metadata = dict(values.get("lead_metadata") or {})
    for key, value in prepared.metadata.items():
        if fill_only and key in metadata:
            continue
        metadata[key] = value
    values["lead_metadata"] = metadata
    return _with_timezone(values)


def reengaged_values(
    current: LeadValues, prepared: PreparedLead, received_time: dt.datetime
) -> LeadValues:
    """The lead's values after a reengagement: counted, back to NEW, the payload merged.

    A status the payload states is kept: a reengagement's NEW never overwrites it.
    """
    values = merged_values(current, prepared, fill_only=False)
    values["reengagements_count"] = (current.get("reengagements_count") or 0) + 1
    values["last_reengagement_time"] = received_time
    values["received_time"] = received_time
    if "status" not in prepared.values:
        values["status"] = LeadStatus.NEW
        values["status_reason"] = StatusReason.REENGAGEMENT
    return values


def changed_values(before: LeadValues, after: LeadValues) -> LeadValues:
    """The attributes whose values differ, with their new values."""
    return {key: value for key, value in after.items() if before.get(key) != value}


def is_reengagement_due(
    current: LeadValues, min_days: int | None, received_time: dt.datetime
) -> bool:
    """True when at least ``min_days`` have passed since the lead's last (re)engagement."""
    if min_days is None:
        return False
    since = current.get("last_reengagement_time") or current["received_time"]
    return bool(received_time - since >= dt.timedelta(days=min_days))


def build_lead(
    organization_id: int, values: LeadValues, event_seq: int, now: dt.datetime | None = None
) -> Lead:
    """A new Lead row holding ``values``."""
    created = now or utcnow()
    return Lead(
        organization_id=organization_id,
        **values,
        created_time=created,
        modified_time=created,
        last_event_seq=event_seq,
    )


def write_values(lead: Lead, changes: LeadValues, event_seq: int | None) -> None:
    """Put ``changes`` on the lead; ``modified_time`` moves only when something changed.

    ``event_seq`` is the event that now counts as the lead's last applied one (None for a
    stale or duplicate event, which must not move it).
    """
    for attribute, value in changes.items():
        setattr(lead, attribute, value)
    if changes:
        lead.modified_time = utcnow()
    if event_seq is not None:
        lead.last_event_seq = max(lead.last_event_seq or 0, event_seq)
