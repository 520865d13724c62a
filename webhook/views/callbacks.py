"""A config's provider outcome callbacks: their delivery log, and sending one again.

The callback itself (URL, key) is set through the config (``callback_url``,
``rotate_callback_secret``); its deliveries share the lead webhooks' outbox and log format.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionConfig
from models.webhook import DeliveryStatus, WebhookDelivery
from webhook.auth import authenticate
from webhook.broker import enqueue_delivery
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import enum_arg
from webhook.views.webhooks import BIGINT_MAX, delivery_json
from worker.outbound.redelivery import redeliver

bp = Blueprint("callbacks", __name__, url_prefix="/api/ingestion-configs")


def callback_json(delivery: WebhookDelivery) -> dict[str, Any]:
    """A callback delivery as its log shows it: a delivery, and the event it reports."""
    answer = delivery_json(delivery)
    del answer["webhook"]
    answer["config"] = str(delivery.ingestion_config_id)
    answer["event_id"] = str(delivery.ingestion_event_id)
    return answer


def _own_config(session: Session, config_id: str) -> IngestionConfig:
    caller = authenticate(session)
    try:
        parsed = uuid.UUID(config_id)
    except ValueError:
        raise ApiError(404, "No such ingestion config.") from None
    config = session.get(IngestionConfig, parsed)
    # Another organization's config is reported as missing, so ids reveal nothing.
    if config is None or config.organization_id != caller.organization_id:
        raise ApiError(404, "No such ingestion config.")
    return config


@bp.get("/<config_id>/callbacks/")
def list_callbacks(config_id: str) -> Response:
    """The config's callback deliveries, newest first, with every attempt; ``status`` filters."""
    session = request_session()
    config = _own_config(session, config_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.ingestion_config_id == config.id)
    status = enum_arg("status", DeliveryStatus)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    statement = statement.order_by(WebhookDelivery.id.desc())
    return jsonify(paginate(session, statement, callback_json))


@bp.post("/<config_id>/callbacks/<int:delivery_id>/redeliver/")
def redeliver_callback(config_id: str, delivery_id: int) -> Response:
    """Send a finished callback again: the same message, a fresh round of the schedule."""
    session = request_session()
    config = _own_config(session, config_id)
    found = session.get(WebhookDelivery, delivery_id) if delivery_id <= BIGINT_MAX else None
    if found is None or found.ingestion_config_id != config.id:
        raise ApiError(404, "No such callback delivery.")
    if not redeliver(session, [delivery_id]):
        raise ApiError(409, "The callback is still being sent; only a finished one is redelivered.")
    session.commit()
    # A lost message is published again by the sweeper.
    enqueue_delivery(delivery_id)
    session.refresh(found)
    response = jsonify(callback_json(found))
    response.status_code = 202
    return response
