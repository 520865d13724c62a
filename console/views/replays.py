"""Replays: the plan for "all events that match this filter", the jobs that run it, and cancel.

The plan, the jobs and the filter's reading are the replay service's (``worker.replay_plan``,
``worker.replay_jobs``, ``worker.event_filter_parser``), the same the API and the CLI call.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from console.access import caller, db, organization_id
from console.blueprint import bp
from models import ReplayJob
from models.replay_job import ReplayJobStatus
from webhook.broker import REPLAY_UNSENT, enqueue_replay_job
from worker.configs import Author
from worker.event_filter_parser import FILTER_NAMES, FilterError, parse_event_filter
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

# The newest jobs listed on the Replays page.
LISTED_JOBS = 100


def filter_texts(values: MultiDict[str, str]) -> dict[str, list[str]]:
    """The filter's values by name, blanks dropped, as a query string or a form carries them."""
    texts = {name: [value for value in values.getlist(name) if value] for name in FILTER_NAMES}
    return {name: given for name, given in texts.items() if given}


def _wanted(texts: dict[str, list[str]]) -> EventFilter:
    """The replay's filter (failed and dead unless it names one); FilterError names the field."""
    return replay_filter(parse_event_filter(texts))


def own_job(job_id: str) -> ReplayJob:
    """The organization's replay job; 404 for another organization's or none."""
    try:
        return get_replay_job(db(), uuid.UUID(job_id), organization_id())
    except (ValueError, ReplayJobNotFound):
        abort(404)


def job_progress(job: ReplayJob) -> dict[str, Any]:
    """The job as its page and progress bar read it: the API's view plus how far it is."""
    percent = 100 if job.total == 0 else min(100, job.done * 100 // job.total)
    return replay_job_as_dict(job) | {
        "percent": percent,
        "finished": job.status != ReplayJobStatus.running,
        "count_text": f"{job.done} of {job.total} ({percent}%)",
    }


@bp.get("/replays/")
def replays() -> str:
    """The organization's replay jobs, newest first."""
    jobs = db().scalars(
        select(ReplayJob)
        .where(ReplayJob.organization_id == organization_id())
        .order_by(ReplayJob.seq.desc())
        .limit(LISTED_JOBS)
    )
    return render_template("console/replays.html", jobs=[job_progress(job) for job in jobs])


@bp.get("/replays/plan")
def replay_plan() -> tuple[str, int]:
    """What replaying every event this filter matches would do; nothing runs until confirmed."""
    texts = filter_texts(request.args)
    try:
        plan = plan_replay(db(), organization_id(), _wanted(texts))
    except FilterError as error:
        return render_template("console/replay_plan.html", error=error, texts=texts), 400
    return render_template("console/replay_plan.html", plan=plan, texts=texts), 200


@bp.post("/replays/")
def start_replay() -> Response | tuple[str, int]:
    """Start the confirmed replay as a job and show its progress."""
    texts = filter_texts(request.form)
    session = db()
    try:
        wanted = _wanted(texts)
    except FilterError as error:
        return render_template("console/replay_plan.html", error=error, texts=texts), 400
    token_id = caller().token_id
    assert token_id is not None  # a console session is always signed in with a token
    job = start_replay_job(session, organization_id(), wanted, Author.token(token_id))
    session.commit()
    # Sent only after the commit, so the worker finds the job it is asked to run.
    if not enqueue_replay_job(job.id):
        fail_replay_job(session, job.id, REPLAY_UNSENT)
        session.commit()
        flash("The broker is unreachable: the replay did not start. Try again shortly.")
    return redirect(url_for("console.replay_job", job_id=job.id), code=303)


@bp.get("/replays/<job_id>/")
def replay_job(job_id: str) -> str:
    """One job: its filter, progress, outcomes by action and failed field, and cancel."""
    return render_template("console/replay.html", job=job_progress(own_job(job_id)))


@bp.get("/replays/<job_id>/progress.json")
def replay_progress(job_id: str) -> Response:
    """The job's progress as JSON, for the page's progress bar."""
    return jsonify(job_progress(own_job(job_id)))


@bp.post("/replays/<job_id>/cancel")
def cancel_replay(job_id: str) -> Response:
    """Stop the job before its next chunk (the chunk under way finishes)."""
    job = own_job(job_id)
    session = db()
    job = cancel_replay_job(session, job.id, job.organization_id)
    session.commit()
    if job.status == ReplayJobStatus.cancelled:
        flash("Replay cancelled: no further events are replayed.")
    else:
        flash(f"This replay is {job.status.value}; there was nothing to cancel.")
    return redirect(url_for("console.replay_job", job_id=job.id), code=303)
