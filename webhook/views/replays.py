"""Replays with a plan: what a replay of a filter's events would do, and replay jobs to run it.

The plan and the jobs come from the replay service (``worker.replay_jobs``), which the CLI
uses too; the filter is the events list's, read by the same parser.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy import select

from models import ReplayJob
from models.replay_job import ReplayJobStatus
from webhook.auth import Caller, authenticate
from webhook.broker import REPLAY_UNSENT, enqueue_replay_job
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from worker.configs import Author
from worker.event_filter_parser import FilterError, parse_event_filter, texts_from_json
from worker.event_search import EventFilter
from worker.replay_jobs import (
    ReplayJobNotFound,
    cancel_replay_job,
    fail_replay_job,
    get_replay_job,
    replay_job_as_dict,
    start_replay_job,
)
from worker.replay_plan import plan_replay, replay_filter

bp = Blueprint("replays", __name__, url_prefix="/api/replays")

_BODY_KEYS = ("filter", "plan")


def _refuse(field: str, reason: str, detail: str | None = None) -> ApiError:
    return ApiError(400, detail or f"{field}: {reason}.", {field: [reason]})


def _read_body() -> tuple[EventFilter, bool]:
    """The request's filter (checked, with the replay's default statuses) and its plan flag."""
    limit: int = current_app.config["MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"The body is larger than {limit} bytes.")
    if not request.is_json:
        raise ApiError(415, "Send the replay as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _refuse("body", "not a JSON object", "The body must be a JSON object.")
    for key in body:
        if key not in _BODY_KEYS:
            raise _refuse(key, f"unknown; the keys are {', '.join(_BODY_KEYS)}")
    plan = body.get("plan", False)
    if not isinstance(plan, bool):
        raise _refuse("plan", "must be true or false")
    try:
        wanted = replay_filter(parse_event_filter(texts_from_json(body.get("filter"))))
    except FilterError as error:
        # Named by where it sits in the body: filter.status, filter.since...
        field = error.field if error.field == "filter" else f"filter.{error.field}"
        raise _refuse(field, error.reason, f"filter.{error.detail}") from None
    return wanted, plan


def _organization(caller: Caller) -> int:
    assert caller.organization_id is not None  # authenticate() always names the organization
    return caller.organization_id


def _own_job(job_id: str) -> ReplayJob:
    session = request_session()
    caller = authenticate(session)
    try:
        # Another organization's job is reported as missing, so ids reveal nothing.
        return get_replay_job(session, uuid.UUID(job_id), _organization(caller))
    except (ValueError, ReplayJobNotFound):
        raise ApiError(404, "No such replay job.") from None


def _job_response(job: ReplayJob, status: int = 200) -> Response:
    response = jsonify(replay_job_as_dict(job))
    response.status_code = status
    return response


@bp.post("/")
def start_replay() -> Response:
    """The plan for replaying the filter's events (``plan``), or a replay job that runs it."""
    session = request_session()
    caller = authenticate(session)
    wanted, plan = _read_body()
    organization_id = _organization(caller)
    if plan:
        return jsonify(plan_replay(session, organization_id, wanted))
    assert caller.token_id is not None  # authenticate() always names the token
    job = start_replay_job(session, organization_id, wanted, Author.token(caller.token_id))
    session.commit()
    # Sent only after the commit, so the worker finds the job it is asked to run.
    if not enqueue_replay_job(job.id):
        fail_replay_job(session, job.id, REPLAY_UNSENT)
        session.commit()
        raise ApiError(503, "The broker is unreachable; retry later.", headers={"Retry-After": "5"})
    response = _job_response(job, 202)
    response.headers["Location"] = url_for("replays.get_replay", job_id=str(job.id))
    return response


@bp.get("/")
def list_replays() -> Response:
    """Replay jobs of the caller's organization, newest first."""
    session = request_session()
    caller = authenticate(session)
    statement = (
        select(ReplayJob)
        .where(ReplayJob.organization_id == _organization(caller))
        .order_by(ReplayJob.seq.desc())
    )
    return jsonify(paginate(session, statement, replay_job_as_dict))


@bp.get("/<job_id>/")
def get_replay(job_id: str) -> Response:
    """One replay job: its status, progress and outcomes so far."""
    return _job_response(_own_job(job_id))


@bp.post("/<job_id>/cancel/")
def cancel_replay(job_id: str) -> Response:
    """Stop a running job before its next chunk; the chunk under way finishes."""
    job = _own_job(job_id)
    session = request_session()
    job = cancel_replay_job(session, job.id, job.organization_id)
    session.commit()
    if job.status not in (ReplayJobStatus.cancelled, ReplayJobStatus.running):
        raise ApiError(409, f"This replay job is {job.status.value}; nothing to cancel.")
    return _job_response(job)
