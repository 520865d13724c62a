"""An organization's blocked identifiers and placeholders: checked, stored, listed, loaded.

One service for the API and the CLI. ``load_hygiene`` gives the worker, the dry run and the
impact report the lists an event of the organization is judged by.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import BlockedIdentifier, Organization
from worker.ingest.emails import normalize_email
from worker.ingest.hygiene import EMAIL, KINDS, PHONE, PLACEHOLDER, Hygiene
from worker.ingest.phones import normalize_phone

_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_MAX_LENGTH = 255


class EntryError(ValueError):
    """An entry that cannot be stored; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DuplicateEntry(EntryError):
    """The organization already has this entry."""


@dataclass(frozen=True)
class Entry:
    """A checked entry: its kind and its value in the form events are compared with."""

    kind: str
    value: str


def checked_entry(kind: object, value: object) -> Entry:
    """The entry normalized (E.164, lower-cased email or "@domain", case-folded placeholder)."""
    if kind not in KINDS:
        raise EntryError("kind", f"expected one of {', '.join(KINDS)}")
    if not isinstance(value, str) or not value.strip():
        raise EntryError("value", "expected non-empty text")
    text = value.strip()
    if len(text) > _MAX_LENGTH:
        raise EntryError("value", f"at most {_MAX_LENGTH} characters are allowed")
    try:
        if kind == PHONE:
            return Entry(PHONE, normalize_phone(text))
        if kind == EMAIL:
            return Entry(EMAIL, _email_entry(text))
    except ValueError as error:
        raise EntryError("value", str(error)) from None
    return Entry(PLACEHOLDER, text.casefold())


def _email_entry(text: str) -> str:
    if not text.startswith("@"):
        return normalize_email(text)
    domain = text[1:].lower()
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{text!r} is not a domain; write an address or @domain.com")
    return f"@{domain}"


def add_entry(session: Session, organization_id: int, entry: Entry) -> BlockedIdentifier:
    """Store the entry for the organization; DuplicateEntry when it is already there."""
    row = BlockedIdentifier(organization_id=organization_id, kind=entry.kind, value=entry.value)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise DuplicateEntry("value", "the organization already has this entry") from None
    return row


def entries_statement(organization_id: int, kind: str | None = None) -> Select[BlockedIdentifier]:
    """The organization's entries (of one kind, if given), oldest first."""
    statement = select(BlockedIdentifier).where(
        BlockedIdentifier.organization_id == organization_id
    )
    if kind is not None:
        statement = statement.where(BlockedIdentifier.kind == kind)
    return statement.order_by(BlockedIdentifier.id)


def own_entry(session: Session, organization_id: int, entry_id: int) -> BlockedIdentifier | None:
    """The entry with this id if it is the organization's; None otherwise."""
    row = session.get(BlockedIdentifier, entry_id)
    return row if row is not None and row.organization_id == organization_id else None


def load_hygiene(session: Session, organization_ids: Iterable[int]) -> dict[int, Hygiene]:
    """Each organization's lists on top of the built-in ones, in one query."""
    wanted = sorted(set(organization_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(
            Organization.id,
            Organization.blocks_reserved_identifiers,
            BlockedIdentifier.kind,
            BlockedIdentifier.value,
        )
        .outerjoin(BlockedIdentifier, BlockedIdentifier.organization_id == Organization.id)
        .where(Organization.id.in_(wanted))
    )
    reserved: dict[int, bool] = {}
    lists: dict[int, dict[str, set[str]]] = {org: {kind: set() for kind in KINDS} for org in wanted}
    for organization_id, blocks_reserved, kind, value in rows:
        reserved[organization_id] = blocks_reserved
        if kind is not None:
            lists[organization_id][kind].add(value)
    return {
        org: Hygiene(
            frozenset(found[PLACEHOLDER]),
            frozenset(found[PHONE]),
            frozenset(found[EMAIL]),
            reserved.get(org, True),
        )
        for org, found in lists.items()
    }


def set_reserved_blocking(session: Session, organization: Organization, blocked: bool) -> None:
    """Block (or allow) the example numbers and domains for the organization's events."""
    organization.blocks_reserved_identifiers = blocked
