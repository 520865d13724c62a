"""Outbound lead webhooks and their outbox of deliveries."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class WebhookTrigger(enum.StrEnum):
    """Sela's webhook triggers, all 21; which of them leadgate fires is in ``FIRED_TRIGGERS``."""

    LEAD_CREATED = "LEAD_CREATED"
    LEAD_UPDATED = "LEAD_UPDATED"
    LEAD_CLOSED = "LEAD_CLOSED"
    LEAD_CLOSED_INCOMPLETE = "LEAD_CLOSED_INCOMPLETE"
    LEAD_LOST = "LEAD_LOST"
    LEAD_SCHEDULE_COMPLETED = "LEAD_SCHEDULE_COMPLETED"
    LEAD_LATE_CALLBACK = "LEAD_LATE_CALLBACK"
    LEAD_OUT_OF_TERRITORY = "LEAD_OUT_OF_TERRITORY"
    LEAD_BAD_NUMBER = "LEAD_BAD_NUMBER"
    LEAD_CANCELLED = "LEAD_CANCELLED"
    LEAD_CALLBACK_TO_TRANSFER = "LEAD_CALLBACK_TO_TRANSFER"
    LEAD_BEFORE_REENGAGEMENT = "LEAD_BEFORE_REENGAGEMENT"
    LEAD_REENGAGEMENT = "LEAD_REENGAGEMENT"
    LEAD_FIRST_INBOUND = "LEAD_FIRST_INBOUND"
    CALL_COMPLETE = "CALL_COMPLETE"
    BEFORE_CALLING = "BEFORE_CALLING"
    CALL_FAILED = "CALL_FAILED"
    CALL_ENDED = "CALL_ENDED"
    CALL_TRANSFER_INITIATED = "CALL_TRANSFER_INITIATED"
    SMS_DNC = "SMS_DNC"
    CALL_DNC = "CALL_DNC"


# The triggers ingestion can fire. The others are accepted for a Sela client's sake and never
# fire: they follow calls, chats and schedules, and leadgate places no calls.
FIRED_TRIGGERS = frozenset(
    {
        WebhookTrigger.LEAD_CREATED,
        WebhookTrigger.LEAD_UPDATED,
        WebhookTrigger.LEAD_REENGAGEMENT,
        WebhookTrigger.LEAD_CLOSED,
        WebhookTrigger.LEAD_CLOSED_INCOMPLETE,
        WebhookTrigger.LEAD_LOST,
        WebhookTrigger.LEAD_SCHEDULE_COMPLETED,
        WebhookTrigger.LEAD_OUT_OF_TERRITORY,
        WebhookTrigger.LEAD_BAD_NUMBER,
        WebhookTrigger.LEAD_CANCELLED,
        WebhookTrigger.LEAD_CALLBACK_TO_TRANSFER,
        WebhookTrigger.SMS_DNC,
        WebhookTrigger.CALL_DNC,
    }
)


# What a provider outcome callback's delivery shows as its trigger (``X-Leadgate-Trigger``, the
# delivery log, the metrics' label): a callback follows an event, not a lead trigger.
CALLBACK_TRIGGER = "EVENT_OUTCOME"


class PayloadFormat(enum.StrEnum):
    """What a delivery's body is: Sela's bare lead, or a Standard Webhooks envelope around it."""

    sela = "sela"
    standard = "standard"


class DeliveryStatus(enum.StrEnum):
    """A delivery's place in its life; delivered and failed are terminal."""

    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    failed = "failed"


# Deliveries still to be sent: what the sweeper and the head-of-line check look through. The
# statements that must use the partial indexes state this text as a constant (see
# models/ingestion_event.py for why).
UNFINISHED_DELIVERIES = "status IN ('pending', 'sending')"


def _enum(cls: type, name: str, length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, create_constraint=True, length=length, name=name)


class Webhook(Base):
    """An organization's subscription: POST the lead to ``url`` when ``trigger`` fires."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # May hold placeholders filled from the payload: "https://crm.example.com/l/{{external_id}}"
    url: Mapped[str] = mapped_column(String(2048))
    trigger: Mapped[WebhookTrigger] = mapped_column(
        _enum(WebhookTrigger, "webhook_trigger", length=32)
    )
    # A JMESPath expression over the lead payload; the webhook fires when it is truthy.
    filter_condition: Mapped[str | None] = mapped_column(Text)
    payload_format: Mapped[PayloadFormat] = mapped_column(
        _enum(PayloadFormat, "payload_format"), default=PayloadFormat.sela
    )
    # The signing key, "whsec_" and base64. Kept in plain text: an HMAC needs the key itself.
    secret: Mapped[str] = mapped_column(String(64))
    # After a rotation the old key signs beside the new one until it expires.
    previous_secret: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_time: Mapped[dt.datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    # Why: "the receiver answered 410 Gone", "every delivery failed for 5 days", or an operator's.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The first failed attempt since the last success; None while deliveries succeed.
    failing_since: Mapped[dt.datetime | None]
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One message of the outbox: a lead change to send to one webhook, and its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sweeper's question: which unfinished deliveries are due, or whose sender died?
        Index(
            "ix_webhook_deliveries_status_next_attempt_time",
            "status",
            "next_attempt_time",
            postgresql_where=text(UNFINISHED_DELIVERIES),
        ),
        # Head of line: is an older delivery of this webhook and lead still unfinished?
        Index(
            "ix_webhook_deliveries_webhook_id_lead_id_id_unfinished",
            "webhook_id",
            "lead_id",
            "id",
            postgresql_where=text(UNFINISHED_DELIVERIES),
        ),
        # The delivery log, newest first; and "recover every failed delivery since T".
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        # A provider callback's log, newest first.
        Index(
            "ix_webhook_deliveries_ingestion_config_id_id",
            "ingestion_config_id",
            "id",
            postgresql_where=text("ingestion_config_id IS NOT NULL"),
        ),
        CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        # Every delivery goes to exactly one endpoint: a lead webhook or a config's callback.
        CheckConstraint(
            "(webhook_id IS NULL) <> (ingestion_config_id IS NULL)", name="one_destination"
        ),
    )

    # Creation order: per webhook and lead, deliveries go out in this order.
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The Standard Webhooks "webhook-id", the same on every retry: "msg_2b7f0c..."
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    # A lead webhook's delivery names its webhook; a provider callback names its config and
    # event instead (worker.outbound.callbacks).
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    ingestion_config_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ingestion_configs.id", ondelete="CASCADE")
    )
    # No foreign key: the event's retention must not wait on its callback's log.
    ingestion_event_id: Mapped[uuid.UUID | None]
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    # None for a provider callback.
    trigger: Mapped[WebhookTrigger | None] = mapped_column(
        _enum(WebhookTrigger, "webhook_trigger", length=32)
    )
    # The URL with its placeholders filled when the change happened.
    url: Mapped[str] = mapped_column(String(2048))
    # The exact bytes signed and sent, fixed at the change: a retry never sends another body.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.pending
    )
    attempt_count: Mapped[int] = mapped_column(default=0)
    # [{"time": "...", "status_code": 503, "duration_ms": 12, "body": "first 1 KiB", "error": null}]
    attempts: Mapped[list[Any]] = mapped_column(default=list)
    # When pending: when it is due. When sending: when the sender's lease runs out.
    next_attempt_time: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_time: Mapped[dt.datetime | None]

    @property
    def trigger_label(self) -> str:
        """The trigger's name, or ``EVENT_OUTCOME`` for a provider callback."""
        return self.trigger.value if self.trigger is not None else CALLBACK_TRIGGER
