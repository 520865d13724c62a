"""The standard lead API's plumbing: its per-organization config, waiting and answering.

Standard requests (POST /api/leads/, PUT /api/leads/update/, PATCH /api/leads/{id}/) have no
ingestion config of their own. Each organization gets one internal config, made on first use,
so their events share the inbox, claims, batching, sweeper, replay and idempotency index with
the custom doors unchanged (a nullable config would have needed a second idempotency index and
a branch in every one of those). The custom doors answer 404 for it (``webhook.auth``).
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import cast

from flask import Response, request
from sqlalchemy import Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import MATCH_KEYS, AuthMode, Endpoint, EventStatus
from webhook.auth import EndpointConfig
from webhook.errors import error_response
from webhook.outcome import MAX_WAIT_SECONDS, outcome_response, requested_wait
from webhook.serializers import errors_by_field
from worker.ingest.standard import NO_MATCH

STANDARD_CONFIG_NAME = "standard lead API"
_RESPOND_ASYNC = re.compile(r"(?:^|[,;\s])respond-async(?=$|[,;\s])", re.IGNORECASE)

_CONFIGS = cast(Table, IngestionConfig.__table__)
# Config ids never change once made, so a plain dict caches them for the process's life.
_config_ids: dict[int, uuid.UUID] = {}
_config_ids_lock = threading.Lock()


def _standard_config_id(session: Session, organization_id: int) -> uuid.UUID:
    with _config_ids_lock:
        cached = _config_ids.get(organization_id)
    if cached is not None:
        return cached
    now = utcnow()
    session.execute(
        insert(_CONFIGS)
        .values(
            id=uuid.uuid4(),
            organization_id=organization_id,
            campaign_id=None,
            name=STANDARD_CONFIG_NAME,
            mapping={},  # an empty mapping reads Sela's standard format as it is
            auth_mode=AuthMode.token,
            match_keys=list(MATCH_KEYS),
            active=True,
            version=1,
            standard_api=True,
            created_time=now,
            modified_time=now,
        )
        .on_conflict_do_nothing(
            index_elements=["organization_id"], index_where=text("standard_api")
        )
    )
    found = session.scalar(
        select(IngestionConfig.id).where(
            IngestionConfig.organization_id == organization_id, IngestionConfig.standard_api
        )
    )
    assert found is not None  # inserted above, or by a concurrent request
    with _config_ids_lock:
        _config_ids[organization_id] = found
    return found


def standard_config(session: Session, organization_id: int) -> EndpointConfig:
    """The organization's standard-API config, made on first use."""
    return EndpointConfig(
        id=_standard_config_id(session, organization_id),
        organization_id=organization_id,
        auth_mode=AuthMode.token,
        version=1,
        mapping={},
        max_body_bytes=None,
        rate_limit_per_second=None,
        rate_limit_burst=None,
    )


def standard_idempotency_header(endpoint: Endpoint, target_lead_id: int | None) -> str | None:
    """The Idempotency-Key header scoped to the operation, so one key means one operation.

    All standard operations of an organization share its config; without the scope a key
    reused on PATCH /api/leads/7/ and /api/leads/8/ would answer the second with the first.
    """
    header = request.headers.get("Idempotency-Key")
    if header is None or not header.strip():
        return None
    return f"{endpoint.value}:{target_lead_id or ''}:{header.strip()}"


def standard_wait() -> float:
    """Seconds to wait for the outcome: none with ``Prefer: respond-async``, else up to 30."""
    if _RESPOND_ASYNC.search(request.headers.get("Prefer", "")):
        return 0.0
    # Sela's clients expect the lead in the answer: wait by default, as long as allowed.
    return requested_wait() or MAX_WAIT_SECONDS


def standard_outcome(session: Session, event: IngestionEvent) -> Response:
    """The answer for a standard request's event, in DRF's terms.

    201/200 with the lead as the custom doors give it; a validation failure is 400 with the
    errors by field; a PUT or PATCH that found no lead is 404; still running is 202.
    """
    if event.status != EventStatus.failed:
        return outcome_response(session, event)
    if event.last_error == NO_MATCH:
        detail = "No lead of the organization matches."
        response = error_response(404, detail, errors_by_field(event.errors or []))
    else:
        grouped = errors_by_field(event.errors or [])
        fields = ", ".join(sorted(grouped)) or "payload"
        response = error_response(400, f"The lead is invalid: {fields}.", grouped)
    response.headers["Ingestion-Event-Id"] = str(event.id)
    return response
