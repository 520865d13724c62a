"""Who is signed in, and the organization's own rows by id (another organization's is a 404)."""

from __future__ import annotations

import uuid

from flask import abort, g
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.ingestion_event import find_event
from webhook.auth import Caller
from webhook.db import request_session
from worker.configs import ConfigError, get_config


def caller() -> Caller:
    """The signed-in caller (set by the sign-in check before every page)."""
    signed_in: Caller = g.console_caller
    return signed_in


def organization_id() -> int:
    """The signed-in organization."""
    organization = caller().organization_id
    assert organization is not None
    return organization


def db() -> Session:
    """The request's database session (the API's, closed at teardown)."""
    return request_session()


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def own_event(event_id: str) -> IngestionEvent:
    """The organization's event with this id; 404 for another organization's or none."""
    event = find_event(db(), _uuid_or_404(event_id))
    if event is None or event.organization_id != organization_id():
        abort(404)
    return event


def own_config(config_id: str, for_update: bool = False) -> IngestionConfig:
    """The organization's config with this id; 404 for another organization's or none."""
    try:
        return get_config(db(), _uuid_or_404(config_id), organization_id(), for_update)
    except ConfigError:
        abort(404)


def own_lead(lead_id: int) -> Lead:
    """The organization's lead with this id; 404 for another organization's or none."""
    lead = db().get(Lead, lead_id) if 0 < lead_id < 2**63 else None
    if lead is None or lead.organization_id != organization_id():
        abort(404)
    return lead
