"""Lead webhooks of the caller's organization, their secrets, and their delivery log."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery
from webhook.auth import authenticate
from webhook.broker import enqueue_delivery
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX, enum_arg
from worker.lead_payload import iso
from worker.outbound.redelivery import redeliver
from worker.outbound.signing import ROTATION_OVERLAP, generate_secret
from worker.outbound.validation import webhook_values

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")

# A webhook's settings fit in far less; a larger body is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024
DEFAULT_DISABLED_REASON = "disabled through the API"
# Delivery ids are PostgreSQL bigint; a larger one names no delivery.
BIGINT_MAX = 2**63 - 1


def webhook_json(hook: Webhook, secret: str | None = None) -> dict[str, Any]:
    """A webhook as the API returns it; ``secret`` only in the answer that created it."""
    body: dict[str, Any] = {
        "id": hook.id,
        "url": hook.url,
        "trigger": hook.trigger.value,
        "filter_condition": hook.filter_condition,
        "payload_format": hook.payload_format.value,
        "disabled": hook.disabled,
        "disabled_reason": hook.disabled_reason,
        "previous_secret_expires_time": iso(hook.previous_secret_expires_time),
        "created_time": iso(hook.created_time),
        "modified_time": iso(hook.modified_time),
    }
    if secret is not None:
        body["secret"] = secret
    return body


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    """A delivery and its attempts, as the delivery log shows them."""
    return {
        "id": delivery.id,
        "webhook": delivery.webhook_id,
        "message_id": delivery.message_id,
        "lead_id": delivery.lead_id,
        "trigger": delivery.trigger_label,
        "url": delivery.url,
        "status": delivery.status.value,
        "attempt_count": delivery.attempt_count,
        "attempts": delivery.attempts or [],
        "next_attempt_time": iso(delivery.next_attempt_time),
        "created_time": iso(delivery.created_time),
        "finished_time": iso(delivery.finished_time),
    }


def _body() -> Any:
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise ApiError(413, f"The body is larger than the limit of {MAX_BODY_BYTES} bytes.")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"The body is larger than the limit of {MAX_BODY_BYTES} bytes.")
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.", {"body": ["not valid JSON"]}) from None


def _values(partial: bool) -> dict[str, Any]:
    allow_private = bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False))
    values, errors = webhook_values(_body(), allow_private, partial)
    if errors:
        raise ApiError(400, "The webhook is not valid.", errors)
    return values


def _own_webhook(session: Session, webhook_id: int) -> Webhook:
    caller = authenticate(session)
    hook = session.get(Webhook, webhook_id) if webhook_id <= DATABASE_INT_MAX else None
    # Another organization's webhook is reported as missing, so ids reveal nothing.
    if hook is None or hook.organization_id != caller.organization_id:
        raise ApiError(404, "No such webhook.")
    return hook


def _apply(hook: Webhook, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(hook, name, value)
    if "disabled" in values and not hook.disabled:
        # Enabled again: its failures so far no longer count towards disabling it.
        hook.failing_since = None
    if not hook.disabled:
        hook.disabled_reason = None  # a reason belongs to a disabled webhook only
    elif not hook.disabled_reason:
        hook.disabled_reason = DEFAULT_DISABLED_REASON


@bp.post("/")
def create_webhook() -> Response:
    """Create a webhook; the answer carries its signing secret, once."""
    session = request_session()
    caller = authenticate(session)
    values = _values(partial=False)
    secret = generate_secret()
    hook = Webhook(organization_id=caller.organization_id, secret=secret)
    _apply(hook, values)
    session.add(hook)
    session.commit()
    response = jsonify(webhook_json(hook, secret))
    response.status_code = 201
    return response


@bp.get("/")
def list_webhooks() -> Response:
    """The caller's organization's webhooks, oldest first."""
    session = request_session()
    caller = authenticate(session)
    statement = (
        select(Webhook)
        .where(Webhook.organization_id == caller.organization_id)
        .order_by(Webhook.id)
    )
    return jsonify(paginate(session, statement, webhook_json))


@bp.get("/<int:webhook_id>/")
def get_webhook(webhook_id: int) -> Response:
    """One webhook (never its secret)."""
    return jsonify(webhook_json(_own_webhook(request_session(), webhook_id)))


@bp.patch("/<int:webhook_id>/")
def patch_webhook(webhook_id: int) -> Response:
    """Change some of a webhook's fields; ``disabled: false`` enables it again."""
    session = request_session()
    hook = _own_webhook(session, webhook_id)
    _apply(hook, _values(partial=True))
    hook.modified_time = utcnow()
    session.commit()
    return jsonify(webhook_json(hook))


@bp.delete("/<int:webhook_id>/")
def delete_webhook(webhook_id: int) -> Response:
    """Delete a webhook and its delivery log; deliveries not yet sent are dropped."""
    session = request_session()
    session.delete(_own_webhook(session, webhook_id))
    session.commit()
    return Response(status=204)


@bp.post("/<int:webhook_id>/rotate-secret/")
def rotate_secret(webhook_id: int) -> Response:
    """A new signing secret, shown once; the old one signs beside it for 24 hours."""
    session = request_session()
    hook = _own_webhook(session, webhook_id)
    secret = generate_secret()
    now = utcnow()
    hook.previous_secret = hook.secret
    hook.previous_secret_expires_time = now + ROTATION_OVERLAP
    hook.secret = secret
    hook.modified_time = now
    session.commit()
    return jsonify(webhook_json(hook, secret))


@bp.get("/<int:webhook_id>/deliveries/")
def list_deliveries(webhook_id: int) -> Response:
    """The webhook's deliveries, newest first, with every attempt; ``status`` filters."""
    session = request_session()
    hook = _own_webhook(session, webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    status = enum_arg("status", DeliveryStatus)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    statement = statement.order_by(WebhookDelivery.id.desc())
    return jsonify(paginate(session, statement, delivery_json))


@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/")
def redeliver_delivery(webhook_id: int, delivery_id: int) -> Response:
    """Send a finished delivery again: the same message, a fresh round of the schedule."""
    session = request_session()
    hook = _own_webhook(session, webhook_id)
    found = session.get(WebhookDelivery, delivery_id) if delivery_id <= BIGINT_MAX else None
    if found is None or found.webhook_id != hook.id:
        raise ApiError(404, "No such delivery.")
    if hook.disabled:
        raise ApiError(409, "The webhook is disabled; enable it before redelivering.")
    if not redeliver(session, [delivery_id]):
        raise ApiError(409, "The delivery is still being sent; only a finished one is redelivered.")
    session.commit()
    # A lost message is published again by the sweeper.
    enqueue_delivery(delivery_id)
    session.refresh(found)
    response = jsonify(delivery_json(found))
    response.status_code = 202
    return response
