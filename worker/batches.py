"""A batch of claimed events: Redis identity locks around one database transaction."""

from __future__ import annotations

from collections.abc import Sequence

from common.settings import get_settings
from worker.database import task_session
from worker.ingest.pipeline import ClaimedEvent, Outcome, batch_identity_keys, process_claims
from worker.locks import identity_locks
from worker.outbound.publish import publish_deliveries


def process_batch(batch: Sequence[ClaimedEvent]) -> list[Outcome | None]:
    """Hold the batch's identity locks in Redis and process it in one transaction.

    Outcomes come in the batch's order, None for events another worker took over. The lead
    webhook deliveries the batch queued are published once it has committed.
    """
    with identity_locks(batch_identity_keys(batch)), task_session() as session:
        outcomes = process_claims(session, batch, keep_history=get_settings().keeps_field_history)
    publish_deliveries(i for outcome in outcomes if outcome for i in outcome.delivery_ids)
    return outcomes
