"""``leadgate run --demo``: a demo organization, token, campaign and config, and a curl to try them.

Idempotent: an organization named "demo" is reused with its campaign and config (whose mapping is
kept equal to DEMO_MAPPING). The plain token is kept in ``LEADGATE_HOME/demo-token`` (readable by
its owner only) so the printed curl keeps working across restarts; a new token is made when that
one is gone or revoked.
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.tokens import hash_token
from leadgate.cli import records
from models import ApiToken, Campaign, IngestionConfig, Organization

DEMO_NAME = "demo"
TOKEN_FILE = "demo-token"  # noqa: S105 - a file name, not a secret

# Nested paths, a fallback list, a constant, a template and typed values.
DEMO_MAPPING: dict[str, Any] = {
    "fields": {
        "external_id": {"from": "lead.id", "type": "string"},
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
        "us_state": "address.state",
        "lead_source": {"value": "leadgate-demo"},
        "call_dnc": {"from": "consent.do_not_call", "type": "boolean", "default": False},
        "metadata.full_name": {"template": "{contact.first_name} {contact.last_name}"},
        "metadata.loan_amount": {"from": "loan.amount", "type": "number"},
        "metadata.submitted_at": {"from": "lead.submitted_at", "type": "datetime"},
    },
    "unmapped": "metadata",
}

DEMO_PAYLOAD: dict[str, Any] = {
    "lead": {"id": "demo-1001", "submitted_at": "2026-01-15T14:05:00Z"},
    "contact": {
        "first_name": "Jane",
        "last_name": "Doe",
        "phone": "(415) 555-2671",
        "email": " Jane.Doe@Example.COM ",
    },
    "address": {"city": "San Francisco", "state": "California"},
    "loan": {"amount": "450000", "purpose": "refinance"},
    "consent": {"do_not_call": "no"},
}


@dataclass(frozen=True)
class Demo:
    """The demo rows and the plain token that authenticates against them."""

    organization_id: int
    campaign_id: int
    config_id: uuid.UUID
    token: str


def _first(session: Session, model: Any, **where: Any) -> Any:
    query = select(model).filter_by(**where).order_by(model.id)
    return session.scalars(query).first()


def ensure_demo(session: Session, home: Path) -> Demo:
    """Find or create the demo organization, campaign, config and token."""
    organization = _first(session, Organization, name=DEMO_NAME)
    if organization is None:
        organization = records.create_organization(session, DEMO_NAME)
        # The demo's payload uses example.com, as documentation should: keep it stored.
        organization.blocks_reserved_identifiers = False
    campaign = _first(session, Campaign, organization_id=organization.id, name=DEMO_NAME)
    if campaign is None:
        campaign = records.create_campaign(session, organization.id, DEMO_NAME)
    config = session.scalars(
        select(IngestionConfig)
        .filter_by(organization_id=organization.id, name=DEMO_NAME)
        .order_by(IngestionConfig.created_time)
    ).first()
    options = records.ConfigOptions(name=DEMO_NAME, mapping=DEMO_MAPPING, active=True)
    if config is None:
        config = records.create_config(session, campaign.id, options)
    else:
        records.update_config(config, options)  # an older release's demo mapping is refreshed
    token = _reusable_token(session, home, organization.id)
    if token is None:
        _, token = records.create_token(session, organization.id, DEMO_NAME)
        _save_token(home, token)
    return Demo(organization.id, campaign.id, config.id, token)


def _reusable_token(session: Session, home: Path, organization_id: int) -> str | None:
    try:
        token = (home / TOKEN_FILE).read_text().strip()
    except OSError:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.organization_id != organization_id or row.revoked_time is not None:
        return None
    return token


def _save_token(home: Path, token: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    path = home / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")


def curl_command(base_url: str, demo: Demo, wait_seconds: int = 10) -> str:
    """A curl command that upserts the nested demo lead and waits for the outcome."""
    url = f"{base_url.rstrip('/')}/api/lead-ingestion/{demo.config_id}/upsert/?wait={wait_seconds}"
    parts = [
        "curl", "-sS", "-i", "-X", "POST", url,
        "-H", f"Authorization: Token {demo.token}",
        "-H", "Content-Type: application/json",
        "-d", json.dumps(DEMO_PAYLOAD),
    ]  # fmt: skip
    return " ".join(shlex.quote(part) for part in parts)
