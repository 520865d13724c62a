"""Source-time ordering: per-field last-write times, so a late event never undoes a newer one.

Each lead keeps, for every field an event wrote (a metadata key as ``metadata.KEY``), the time of
that event: its ``event_time`` when the mapping names one, else when it was received. A late
event (older than the lead's last applied one) still sets a field no newer event wrote, and
never overwrites one a newer event did. A field written before times were kept has no time: a
late event only fills it when empty, as before. The same rule holds for every door, since every
door's events are decided here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from worker.ingest.apply import LeadValues

METADATA_ATTRIBUTE = "lead_metadata"
# The time of the newest event applied to the lead, beside the fields' own.
LAST_EVENT = "@event"
FIELD_TIMES_ATTRIBUTE = "field_times"
# Bookkeeping that follows the fields rather than being one.
_NOT_FIELDS = frozenset({"timezone", "received_time", FIELD_TIMES_ATTRIBUTE})

FieldTimes = dict[str, str]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _time(times: FieldTimes, key: str) -> dt.datetime | None:
    text = times.get(key)
    return dt.datetime.fromisoformat(text) if text else None


def is_late(times: FieldTimes, event_time: dt.datetime | None) -> bool | None:
    """True when an event with a source time is older than the lead's last; None: not known."""
    last = _time(times, LAST_EVENT)
    if event_time is None or last is None:
        return None
    return event_time < last


def _may_write(times: FieldTimes, key: str, current: Any, time: dt.datetime) -> bool:
    written = _time(times, key)
    if written is None:
        return _empty(current)  # no time kept: fill only, as a late event always did
    return written <= time


def guard_late(
    current: LeadValues, after: LeadValues, times: FieldTimes, time: dt.datetime
) -> LeadValues:
    """``after`` with every change a newer event's write forbids taken back."""
    guarded = dict(after)
    for attribute, value in after.items():
        if attribute in _NOT_FIELDS or current.get(attribute) == value:
            continue
        if attribute == METADATA_ATTRIBUTE:
            guarded[attribute] = _guard_metadata(
                current.get(attribute) or {}, value or {}, times, time
            )
        elif not _may_write(times, attribute, current.get(attribute), time):
            guarded[attribute] = current.get(attribute)
    return guarded


def _guard_metadata(
    current: dict[str, Any], after: dict[str, Any], times: FieldTimes, time: dt.datetime
) -> dict[str, Any]:
    guarded = dict(after)
    for key, value in after.items():
        if current.get(key) != value and not _may_write(
            times, f"metadata.{key}", current.get(key), time
        ):
            if key in current:
                guarded[key] = current[key]
            else:
                del guarded[key]
    return guarded


def stamped(
    times: FieldTimes, current: LeadValues, changes: LeadValues, time: dt.datetime, latest: bool
) -> FieldTimes:
    """The lead's field times after ``changes`` (written by an event of ``time``).

    ``latest``: the event is the lead's newest applied one, so its time becomes the last event's.
    """
    stamp = time.isoformat()
    updated = dict(times)
    for attribute, value in changes.items():
        if attribute in _NOT_FIELDS:
            continue
        if attribute == METADATA_ATTRIBUTE:
            before = current.get(attribute) or {}
            for key in (value or {}).keys() | before.keys():
                if (value or {}).get(key) != before.get(key):
                    updated[f"metadata.{key}"] = stamp
        else:
            updated[attribute] = stamp
    last = _time(updated, LAST_EVENT)
    if latest and (last is None or last < time):
        updated[LAST_EVENT] = stamp
    return updated
