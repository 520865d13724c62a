"""The drift alarm on a config: raised and cleared as the rule's finding changes, logged once.

The alarm lives on the config row (``drift_alarm``), which the configs API shows and
``/metrics`` reads (``leadgate_config_drift``): every host sees the same state. Raising and
clearing are compare-and-set, so of several workers that see the change only one logs it.
A config with ``hold_on_drift`` is held in the same statement that raises its alarm.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import case, literal, update
from sqlalchemy.orm import Session

from models import IngestionConfig
from models.base import utcnow
from worker.health.drift import DriftFinding
from worker.health.holds import DRIFT

log = logging.getLogger("worker.health")


def raise_alarm(session: Session, config_id: uuid.UUID, finding: DriftFinding) -> bool:
    """Put the finding on the config (and hold it, with hold_on_drift); False if one was up."""
    now = utcnow()
    record: dict[str, Any] = {"raised_time": now.isoformat(), **finding.as_record()}
    config = IngestionConfig
    row = session.execute(
        update(config)
        .where(config.id == config_id, config.drift_alarm.is_(None))
        .values(
            drift_alarm=record,
            held=config.held | config.hold_on_drift,
            held_reason=case(
                (config.held, config.held_reason), (config.hold_on_drift, literal(DRIFT))
            ),
            held_time=case((config.held, config.held_time), (config.hold_on_drift, now)),
        )
        .returning(config.held)
    ).one_or_none()
    if row is None:
        return False
    fields = {
        "config": str(config_id),
        "change": "drift_raised",
        "reasons": list(finding.reasons),
        "paths": [drift.path for drift in finding.paths],
        "failure_share": round(finding.failure_share, 4),
        "held": row.held,
    }
    log.warning(
        "drift alarm on config %s: %s%s",
        config_id,
        ", ".join(finding.reasons),
        "; the config is held" if row.held else "",
        extra=fields,
    )
    return True


def clear_alarm(session: Session, config_id: uuid.UUID) -> bool:
    """Take the alarm off the config (a hold stays until released); False if none was up."""
    config = IngestionConfig
    row = session.execute(
        update(config)
        .where(config.id == config_id, config.drift_alarm.is_not(None))
        .values(drift_alarm=None)
        .returning(config.id)
    ).one_or_none()
    if row is None:
        return False
    log.info(
        "drift alarm on config %s cleared",
        config_id,
        extra={"config": str(config_id), "change": "drift_cleared"},
    )
    return True
