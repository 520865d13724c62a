"""``leadgate webhooks``: lead webhooks and outcome callbacks, their delivery logs, and sending
deliveries again."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import click
from sqlalchemy import select

from leadgate.cli.context import admin_session
from leadgate.cli.output import CliError, emit, emit_json, emit_table, say
from models import IngestionConfig, Webhook, WebhookDelivery
from models.webhook import DeliveryStatus
from worker.outbound.redelivery import failed_since, redeliver


def _since(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time", param_hint="--failed-since"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@click.group("webhooks")
def webhooks_group() -> None:
    """Lead webhooks: what is subscribed, what was delivered, and delivering again."""


@webhooks_group.command("list")
@click.option("--org", "organization_id", type=int, default=None, help="Only this organization.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def webhooks_list(organization_id: int | None, as_json: bool) -> None:
    """List webhooks (never their secrets)."""
    with admin_session(read_only=True) as session:
        query = select(Webhook).order_by(Webhook.id)
        if organization_id is not None:
            query = query.where(Webhook.organization_id == organization_id)
        hooks = list(session.scalars(query))
    rows = [
        {
            "id": hook.id,
            "org": hook.organization_id,
            "trigger": hook.trigger.value,
            "format": hook.payload_format.value,
            "disabled": hook.disabled_reason if hook.disabled else "",
            "url": hook.url,
        }
        for hook in hooks
    ]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["ID", "ORG", "TRIGGER", "FORMAT", "DISABLED", "URL"], [list(r.values()) for r in rows]
    )


@webhooks_group.command("deliveries")
@click.argument("webhook_id", type=int)
@click.option("--status", type=click.Choice([status.value for status in DeliveryStatus]))
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array, attempts included.")
def webhooks_deliveries(webhook_id: int, status: str | None, limit: int, as_json: bool) -> None:
    """A webhook's most recent deliveries, newest first."""
    with admin_session(read_only=True) as session:
        if session.get(Webhook, webhook_id) is None:
            raise CliError(f"no webhook {webhook_id}")
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(WebhookDelivery.status == DeliveryStatus(status))
        deliveries = list(session.scalars(query))
    if as_json:
        emit_json(
            [
                {
                    "id": d.id,
                    "message_id": d.message_id,
                    "lead_id": d.lead_id,
                    "trigger": d.trigger_label,
                    "status": d.status.value,
                    "attempts": d.attempts,
                    "created_time": d.created_time.isoformat(),
                }
                for d in deliveries
            ]
        )
        return
    rows = []
    for d in deliveries:
        last = d.attempts[-1] if d.attempts else {}
        answer = last.get("status_code") or last.get("error") or ""
        rows.append([d.id, d.created_time.isoformat(timespec="seconds"), d.lead_id,
                     d.trigger_label, d.status.value, len(d.attempts), answer])  # fmt: skip
    emit_table(["ID", "CREATED", "LEAD", "TRIGGER", "STATUS", "ATTEMPTS", "LAST"], rows)


@webhooks_group.command("callbacks")
@click.argument("config_id", type=click.UUID)
@click.option("--status", type=click.Choice([status.value for status in DeliveryStatus]))
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array, bodies and attempts.")
def webhooks_callbacks(config_id: uuid.UUID, status: str | None, limit: int, as_json: bool) -> None:
    """A config's most recent outcome callbacks, newest first."""
    with admin_session(read_only=True) as session:
        if session.get(IngestionConfig, config_id) is None:
            raise CliError(f"no ingestion config {config_id}")
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.ingestion_config_id == config_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(WebhookDelivery.status == DeliveryStatus(status))
        deliveries = list(session.scalars(query))
    if as_json:
        emit_json(
            [
                {
                    "id": d.id,
                    "message_id": d.message_id,
                    "event_id": str(d.ingestion_event_id),
                    "status": d.status.value,
                    "body": json.loads(d.body),
                    "attempts": d.attempts,
                    "created_time": d.created_time.isoformat(),
                }
                for d in deliveries
            ]
        )
        return
    rows = []
    for d in deliveries:
        last = d.attempts[-1] if d.attempts else {}
        answer = last.get("status_code") or last.get("error") or ""
        reported = json.loads(d.body).get("status")
        rows.append([d.id, d.created_time.isoformat(timespec="seconds"), d.ingestion_event_id,
                     reported, d.status.value, len(d.attempts), answer])  # fmt: skip
    emit_table(["ID", "CREATED", "EVENT", "REPORTS", "STATUS", "ATTEMPTS", "LAST"], rows)


@webhooks_group.command("redeliver")
@click.argument("delivery_ids", nargs=-1, type=int)
@click.option("--failed-since", "since_text", metavar="TIME", help="Every failed delivery since.")
@click.option("--webhook", "webhook_id", type=int, default=None, help="Only this webhook's.")
@click.option("--yes", is_flag=True, help="Do not ask before sending them again.")
def webhooks_redeliver(
    delivery_ids: tuple[int, ...], since_text: str | None, webhook_id: int | None, yes: bool
) -> None:
    """Send finished deliveries again; prints each one queued on stdout.

    Name deliveries, or recover every failed one since a time (--failed-since, optionally of one
    --webhook): the count is shown first, and the workers send them in the background.
    """
    from webhook.broker import enqueue_delivery

    if bool(delivery_ids) == bool(since_text):
        raise click.UsageError("give delivery ids or --failed-since, one of the two")
    if since_text is not None:
        with admin_session(read_only=True) as session:
            candidates = failed_since(session, _since(since_text), webhook_id)
        if not candidates:
            say("nothing to redeliver")
            return
        say(f"{len(candidates)} failed deliveries since {since_text}")
        if not yes:
            click.confirm("send them again?", abort=True, err=True)
    else:
        candidates = list(delivery_ids)
    with admin_session() as session:
        queued = redeliver(session, candidates)
    unsent = 0
    for delivery_id in queued:
        if not enqueue_delivery(delivery_id):
            unsent += 1
        emit(delivery_id)
    say(f"queued {len(queued)} of {len(candidates)} deliveries")
    skipped = len(candidates) - len(queued)
    if skipped:
        say(f"{skipped} were left: unknown, not finished yet, or of a disabled webhook")
    if unsent:
        say(f"{unsent} could not reach the broker; the sweeper sends them once it is reachable")
