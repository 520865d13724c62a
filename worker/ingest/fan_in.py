"""Fan-in quarantine: a phone number or email claimed by too many people stops matching.

When more than ``limit`` distinct external ids have given the same phone number or email within
``window``, it belongs to no one in particular (a call centre's line, a shared family inbox, a
provider's filler): it is quarantined in the organization and no longer used to match, so it
cannot merge strangers. It is still stored on the leads that give it. Pure: the claims come in a
``FanIn``, loaded under the identity locks (see ``worker.ingest.fan_in_store``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from common.masking import masked_email, masked_phone

DEFAULT_LIMIT = 5
DEFAULT_WINDOW_DAYS = 30
# The identifiers a crowd can share; an external id is one provider's own, never shared.
FAN_IN_KEYS = ("phone_number", "email")

Identifier = tuple[str, str]  # (key, value): ("phone_number", "+12024561111")
# What the two warnings below say, as a SQL/JSON path regex: counts the events that carry one.
QUARANTINE_WARNING_REGEX = " is (now )?quarantined"


@dataclass(frozen=True)
class FanInRule:
    """How many distinct external ids may claim an identifier within how many days."""

    limit: int = DEFAULT_LIMIT
    window_days: int = DEFAULT_WINDOW_DAYS

    @classmethod
    def of(cls, limit: int | None, window_days: int | None) -> FanInRule:
        """The config's rule; a setting it leaves empty takes the default."""
        return cls(limit or DEFAULT_LIMIT, window_days or DEFAULT_WINDOW_DAYS)


class FanIn:
    """Who claimed the identifiers in play and when, and which are quarantined."""

    def __init__(
        self,
        claims: Iterable[tuple[str, str, str, dt.datetime]] = (),
        quarantined: Iterable[Identifier] = (),
    ) -> None:
        self._claims: dict[Identifier, dict[str, dt.datetime]] = {}
        for key, value, external_id, when in claims:
            self.claim((key, value), external_id, when)
        self._quarantined: set[Identifier] = set(quarantined)

    def claimants(self, identifier: Identifier, since: dt.datetime) -> set[str]:
        """The external ids that claimed the identifier at or after ``since``."""
        found = self._claims.get(identifier, {})
        return {external_id for external_id, when in found.items() if when >= since}

    def is_quarantined(self, identifier: Identifier) -> bool:
        """True when the identifier no longer matches in the organization."""
        return identifier in self._quarantined

    def claim(self, identifier: Identifier, external_id: str, when: dt.datetime) -> None:
        """Record a claim (the latest time of each external id is kept)."""
        known = self._claims.setdefault(identifier, {})
        known[external_id] = max(when, known.get(external_id, when))

    def quarantine(self, identifier: Identifier) -> None:
        """Quarantine the identifier for the events after this one."""
        self._quarantined.add(identifier)


@dataclass
class FanInVerdict:
    """An event's identifiers judged: those it may match with, its claims, new quarantines."""

    match_values: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # (key, value, external id): the claims the event makes when it is applied.
    claims: list[tuple[str, str, str]] = field(default_factory=list)
    # (key, value, distinct claimants): identifiers this event pushes over the limit.
    quarantined: list[tuple[str, str, int]] = field(default_factory=list)


def masked_identifier(key: str, value: str) -> str:
    """A phone number or email as logs, the CLI and the console may show it."""
    return masked_phone(value) if key == "phone_number" else masked_email(value)


def judge_fan_in(
    values: dict[str, Any],
    fan_in: FanIn,
    rule: FanInRule,
    now: dt.datetime,
    claiming: bool = True,
) -> FanInVerdict:
    """Which of the payload's identifiers may match; quarantines the one this claim overfills.

    A test event (``claiming`` False) sees the quarantines there are but claims nothing, so it
    can never quarantine a real customer's number.
    """
    verdict = FanInVerdict(match_values=dict(values))
    external_id = values.get("external_id")
    since = now - dt.timedelta(days=rule.window_days)
    for key in FAN_IN_KEYS:
        value = values.get(key)
        if value is None:
            continue
        identifier = (key, value)
        if fan_in.is_quarantined(identifier):
            del verdict.match_values[key]
            reason = (
                f"{masked_identifier(key, value)} is quarantined (claimed by too many external ids)"
            )
            verdict.warnings.append({"field": key, "reason": f"{reason}; not used to match"})
            continue
        if external_id is None or not claiming:
            continue
        claimants = fan_in.claimants(identifier, since) | {external_id}
        verdict.claims.append((key, value, external_id))
        if len(claimants) > rule.limit:
            del verdict.match_values[key]
            verdict.quarantined.append((key, value, len(claimants)))
            shown = masked_identifier(key, value)
            verdict.warnings.append(
                {
                    "field": key,
                    "reason": (
                        f"{shown} is now quarantined: {len(claimants)} distinct "
                        f"external ids claimed it within {rule.window_days} days (more than "
                        f"{rule.limit}); not used to match"
                    ),
                }
            )
    return verdict
