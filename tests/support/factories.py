"""Factories for rows: an organization with a token, a campaign, an ingestion config, events."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from common.tokens import generate_token, hash_token, visible_prefix
from models import (
    ApiToken,
    Campaign,
    IngestionConfig,
    IngestionEvent,
    LeadType,
    MappingVersion,
    Organization,
    ReplayJob,
    Webhook,
    WebhookDelivery,
)
from models.base import utcnow
from models.enums import MATCH_KEYS, AuthMode, Endpoint, EventStatus
from models.ingestion_event import new_event_id
from models.replay_job import ReplayJobStatus
from models.webhook import DeliveryStatus, PayloadFormat, WebhookTrigger


@dataclass
class Tenant:
    """An organization with one token, one campaign and one config."""

    organization_id: int
    campaign_id: int
    config_id: uuid.UUID
    token: str


def make_token(session: Session, organization_id: int) -> str:
    """Create a token for the organization and return it in plain text."""
    token = generate_token()
    session.add(
        ApiToken(
            organization_id=organization_id,
            prefix=visible_prefix(token),
            token_hash=hash_token(token),
        )
    )
    session.flush()
    return token


def make_config(
    session: Session,
    organization_id: int,
    campaign_id: int,
    mapping: dict[str, Any] | None = None,
    **options: Any,
) -> IngestionConfig:
    """Create an ingestion config (mapping not validated here: tests may want a raw one)."""
    config = IngestionConfig(
        organization_id=organization_id,
        campaign_id=campaign_id,
        name=options.pop("name", "test config"),
        mapping=mapping or {},
        auth_mode=AuthMode(options.pop("auth", "token")),
        match_keys=list(options.pop("match", MATCH_KEYS)),
        default_lead_type=options.pop("lead_type", None),
        min_reengagement_days=options.pop("min_reengagement_days", None),
        **options,
    )
    session.add(config)
    session.flush()
    # As the config service saves one: the mapping it starts with is its version 1.
    session.add(
        MappingVersion(
            config_id=config.id, number=config.mapping_version, mapping=config.mapping,
            saved_by="test",
        )
    )  # fmt: skip
    session.flush()
    return config


def make_tenant(session: Session, mapping: dict[str, Any] | None = None, **options: Any) -> Tenant:
    """Create an organization with a token, a campaign and a config."""
    # The suite's payloads use the numbers and domains reserved for examples (555-01XX,
    # example.com) as real data; the hygiene tests switch blocking them back on.
    organization = Organization(
        name=f"org-{uuid.uuid4().hex[:8]}", blocks_reserved_identifiers=False
    )
    session.add(organization)
    session.flush()
    campaign = Campaign(organization_id=organization.id, name="default")
    session.add(campaign)
    session.flush()
    token = make_token(session, organization.id)
    config = make_config(session, organization.id, campaign.id, mapping, **options)
    return Tenant(organization.id, campaign.id, config.id, token)


def make_lead_type(session: Session, tenant: Tenant, **values: Any) -> LeadType:
    """Add a lead type of the tenant (its campaign, no fields, not the default unless asked)."""
    lead_type = LeadType(
        organization_id=tenant.organization_id,
        campaign_id=values.pop("campaign_id", tenant.campaign_id),
        name=values.pop("name", "Mortgage"),
        lead_metadata_fields=values.pop("fields", []),
        is_default=values.pop("is_default", False),
    )
    session.add(lead_type)
    session.flush()
    return lead_type


def make_event(
    session: Session, tenant: Tenant, body: dict[str, Any] | bytes = b"{}", **values: Any
) -> IngestionEvent:
    """Add a queued JSON upsert event of the tenant's config; ``values`` override any column."""
    raw_body = body if isinstance(body, bytes) else json.dumps(body).encode()
    columns: dict[str, Any] = {
        "config_id": tenant.config_id,
        "organization_id": tenant.organization_id,
        "endpoint": Endpoint.upsert,
        "content_type": "application/json",
        "raw_body": raw_body,
        # No test of a stored row compares digests: a resend is tested through the webhook.
        "body_sha256": "0" * 64,
        "status": EventStatus.queued,
    }
    event = IngestionEvent(**(columns | values))
    session.add(event)
    session.flush()
    return event


# When make_purged_event's raw body was purged: far from any real clock, easy to spot in output.
PURGED_ON = dt.datetime(2031, 5, 6, tzinfo=dt.UTC)


def make_purged_event(session: Session, tenant: Tenant) -> IngestionEvent:
    """Add a done event whose raw body the retention purged on ``PURGED_ON``."""
    return make_event(session, tenant, b"", status=EventStatus.done, raw_body_purged_time=PURGED_ON)


def make_webhook(session: Session, organization_id: int, url: str, **values: Any) -> Webhook:
    """Add a LEAD_CREATED webhook in Sela's format; ``values`` override any column."""
    from worker.outbound.signing import generate_secret

    columns: dict[str, Any] = {
        "organization_id": organization_id,
        "url": url,
        "trigger": WebhookTrigger.LEAD_CREATED,
        "payload_format": PayloadFormat.sela,
        "secret": generate_secret(),
    }
    webhook = Webhook(**(columns | values))
    session.add(webhook)
    session.flush()
    return webhook


def make_delivery(
    session: Session, webhook: Webhook, lead_id: int | None, **values: Any
) -> WebhookDelivery:
    """Add a pending delivery of ``webhook`` for a lead; ``values`` override any column."""
    columns: dict[str, Any] = {
        "message_id": "msg_" + uuid.uuid4().hex,
        "webhook_id": webhook.id,
        "organization_id": webhook.organization_id,
        "lead_id": lead_id,
        "trigger": webhook.trigger,
        "url": webhook.url,
        "body": json.dumps({"id": lead_id}).encode(),
        "status": DeliveryStatus.pending,
    }
    delivery = WebhookDelivery(**(columns | values))
    session.add(delivery)
    session.flush()
    return delivery


def make_events_in_bulk(
    session: Session, tenant: Tenant, bodies: list[dict[str, Any]], **values: Any
) -> None:
    """Insert one JSON upsert event per body in a single bulk INSERT; ``values`` set any column.

    For tests that need thousands of events: no ORM objects, one statement.
    """
    from sqlalchemy import insert

    columns: dict[str, Any] = {
        "config_id": tenant.config_id,
        "organization_id": tenant.organization_id,
        "endpoint": Endpoint.upsert,
        "content_type": "application/json",
        "body_sha256": "0" * 64,
        "status": EventStatus.queued,
    } | values
    rows = [
        columns | {"id": uuid.uuid4(), "raw_body": json.dumps(body).encode()} for body in bodies
    ]
    session.execute(insert(IngestionEvent), rows)


def make_replay_job(session: Session, tenant: Tenant, **values: Any) -> ReplayJob:
    """Add a running replay job of the tenant's config that matched nothing yet."""
    columns: dict[str, Any] = {
        "organization_id": tenant.organization_id,
        "filter": {"config": str(tenant.config_id), "status": ["failed", "dead"]},
        "status": ReplayJobStatus.running,
        "total": 0,
        "done": 0,
        "by_action": {},
        "failed_fields": {},
        "last_seq": 0,
        "started_by": "test",
    }
    job = ReplayJob(**(columns | values))
    session.add(job)
    session.flush()
    return job


def new_event_row(tenant: Tenant, key: str | None = None, body: bytes = b"{}") -> dict[str, object]:
    """The columns the webhook gives ``insert_new_events`` for one new event of ``tenant``."""
    received = utcnow()
    return {
        "id": new_event_id(received),
        "config_id": tenant.config_id,
        "organization_id": tenant.organization_id,
        "endpoint": "upsert",
        "received_time": received,
        "content_type": "application/json",
        "raw_body": body,
        "query_string": "",
        "body_sha256": "0" * 64,
        "idempotency_key": key,
        "is_test": False,
    }
