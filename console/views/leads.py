"""Leads: the recent ones (contacts masked) and one lead with the events that touched it."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from console.access import db, organization_id, own_lead
from console.blueprint import bp
from models import IngestionEvent, Lead
from webhook.pagination import paginate
from worker.event_search import EventFilter, event_conditions
from worker.lead_payload import lead_json


@bp.get("/leads/")
def leads() -> str:
    """The organization's leads, most recently changed first; test leads with include_test."""
    statement = (
        select(Lead)
        .where(Lead.organization_id == organization_id())
        .order_by(Lead.modified_time.desc(), Lead.id.desc())
    )
    # As the API's list: test leads only when asked for (a bad value just shows real leads).
    if request.args.get("include_test") != "true":
        statement = statement.where(Lead.is_test.is_(False))
    page = paginate(db(), statement, lambda lead: {"lead": lead})
    return render_template("console/leads.html", page=page)


@bp.get("/leads/<int:lead_id>/")
def lead(lead_id: int) -> str:
    """A lead's fields and metadata, and every event that touched it, oldest first."""
    found = own_lead(lead_id)
    touched = db().scalars(
        select(IngestionEvent)
        .where(
            IngestionEvent.organization_id == organization_id(),
            *event_conditions(EventFilter(lead=found.id)),
        )
        .order_by(IngestionEvent.seq)
    )
    fields = lead_json(found)
    metadata = fields.pop("metadata")
    return render_template(
        "console/lead.html", lead=found, fields=fields, metadata=metadata, events=list(touched)
    )
