"""The provider-facing endpoints: create, upsert and dry run."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from common.metrics import INGEST_REQUESTS
from common.payloads import CONTROL_PARAMETERS
from models import IngestionConfig
from models.enums import CUSTOM_ENDPOINTS, Endpoint
from webhook.auth import (
    Caller,
    EndpointConfig,
    authorize_ingestion,
    authorize_owner,
    body_check,
    load_config,
    provider_payload,
)
from webhook.broker import wake_config
from webhook.db import release_connection, request_session
from webhook.errors import ApiError
from webhook.group_commit import Ticket, group_committer
from webhook.idempotency import idempotency_key
from webhook.inbox import store_event
from webhook.outcome import accepted_response, outcome_response, requested_wait, wait_for_terminal
from webhook.rate_limit import check_rate_limit
from webhook.request_body import read_payload
from webhook.test_mode import requested_test_mode

bp = Blueprint("ingest", __name__, url_prefix="/api/lead-ingestion")


@bp.after_request
def _count_request(response: Response) -> Response:
    # Only configs that exist get their own label, so random UUIDs cannot grow the series.
    config = g.get("config_label", "unknown")
    endpoint = (request.endpoint or "unknown").rsplit(".", 1)[-1]
    INGEST_REQUESTS.labels(config, endpoint, str(response.status_code)).inc()
    return response


def _body_limit(config: EndpointConfig) -> int:
    default: int = current_app.config["MAX_BODY_BYTES"]
    return config.max_body_bytes or default


def _ingest(config_id: str, endpoint: Endpoint) -> Response:
    # Announced from the start, so a batch being collected waits for this request's row.
    with group_committer().arriving() as ticket:
        return _ingest_with(config_id, endpoint, ticket)


def _ingest_with(config_id: str, endpoint: Endpoint, ticket: Ticket) -> Response:
    # Every statement here stands alone (see store_event), so none needs a BEGIN and a COMMIT
    # round trip of its own: the event is durable once its INSERT returns.
    session = request_session(autocommit=True)
    config = load_config(session, config_id)
    g.config_label = str(config.id)
    caller = authorize_ingestion(session, config)
    is_test = requested_test_mode(caller)
    check_rate_limit(config)
    wait = requested_wait()
    incoming = read_payload(
        _body_limit(config),
        refuse_files=not config.ignore_file_parts,
        verify_raw=body_check(config, caller),
    )
    incoming = provider_payload(config, caller, incoming)
    stored = store_event(
        session,
        config,
        endpoint,
        incoming.raw_body,
        incoming.content_type,
        incoming.query_string,
        idempotency_key(
            request.headers.get("Idempotency-Key"),
            (config.mapping or {}).get("idempotency_key"),
            incoming.payload,
        ),
        ticket=ticket,
        is_test=is_test,
    )
    # The INSERT committed on its own; this ends the session's transaction and hands the
    # connection back to the pool before the publish. Wake a worker only after the event is
    # committed: the worker must find it. One wake-up drains a batch of the config's events;
    # a batch's leader has sent it already for the events of its batch.
    release_connection(session)
    if stored.created and not stored.woken:
        wake_config(config.id, stored.event_id)
    if wait <= 0 and stored.created:
        return accepted_response(stored.event_id)
    event = wait_for_terminal(session, stored.event_id, wait)
    # A resend without waiting is answered like the first post was: the event, as it stands.
    response = (
        outcome_response(session, event, anonymous=caller.anonymous)
        if wait > 0
        else accepted_response(event)
    )
    if not stored.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/<config_id>/")
def create(config_id: str) -> Response:
    """Create a lead (duplicate and reengagement rules apply)."""
    return _ingest(config_id, Endpoint.create)


@bp.post("/<config_id>/upsert/")
def upsert(config_id: str) -> Response:
    """Create or update a lead by the config's match keys."""
    return _ingest(config_id, Endpoint.upsert)


@bp.post("/<config_id>/dry-run/")
def dry_run(config_id: str) -> Response:
    """What an upsert (or, with ``?endpoint=create``, a create) would do; writes nothing."""
    from worker.dry_run import dry_run_payload  # the one place the webhook runs mapping code

    session = request_session()
    endpoint = load_config(session, config_id)
    g.config_label = str(endpoint.id)
    # It reads stored leads: for the config's owners only.
    is_test = requested_test_mode(authorize_owner(session, endpoint))
    check_rate_limit(endpoint)
    which = _dry_run_endpoint()
    incoming = read_payload(
        _body_limit(endpoint),
        CONTROL_PARAMETERS | {_DRY_RUN_ENDPOINT},
        refuse_files=not endpoint.ignore_file_parts,
    )
    # The owner's token stands in for the provider's credential; a payload key is still dropped.
    incoming = provider_payload(endpoint, Caller(endpoint.organization_id), incoming)
    config = session.get(IngestionConfig, endpoint.id)
    if config is None:
        raise ApiError(404, "No such ingestion endpoint.")
    answer = dry_run_payload(session, config, incoming.payload, endpoint=which, test=is_test)
    session.rollback()
    return jsonify(answer)


# The dry run's own query parameter: which endpoint to answer for; not payload data.
_DRY_RUN_ENDPOINT = "endpoint"


def _dry_run_endpoint() -> str:
    """``?endpoint=create|upsert`` (default upsert); 400 naming the parameter otherwise."""
    # An empty value is no choice, as with every query parameter of this API.
    given = [value for value in request.args.getlist(_DRY_RUN_ENDPOINT) if value]
    if not given:
        return Endpoint.upsert.value
    if len(given) > 1 or given[0] not in {member.value for member in CUSTOM_ENDPOINTS}:
        raise ApiError(
            400,
            "endpoint must be create or upsert.",
            {_DRY_RUN_ENDPOINT: [f"expected create or upsert, got {', '.join(given)!r}"]},
        )
    return given[0]
