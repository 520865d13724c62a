"""A batch of claimed events: Redis identity locks around one database transaction."""

from __future__ import annotations

from collections.abc import Sequence

from common.settings import get_settings
from worker.database import task_session
from worker.ingest.pipeline import ClaimedEvent, Outcome, batch_identity_keys, process_claims
from worker.leases import attempt_name, named_attempt_has_ended
from worker.locks import identity_locks
from worker.outbound.publish import publish_deliveries


def process_batch(batch: Sequence[ClaimedEvent]) -> list[Outcome | None]:
    """Hold the batch's identity locks in Redis and process it in one transaction.

    Outcomes come in the batch's order, None for events another worker took over. The lead
    webhook deliveries the batch queued are published once it has committed.
    """
    first, _ = batch[0]
    locks = identity_locks(
        batch_identity_keys(batch),
        # Named after one of its events' attempts: should this worker die holding them, the
        # next attempt on any of its persons sees that attempt ended and takes the locks over.
        holder=attempt_name(first.event_id, first.attempt),
        holder_gone=named_attempt_has_ended,
    )
    with locks, task_session() as session:
        outcomes = process_claims(session, batch, keep_history=get_settings().keeps_field_history)
    publish_deliveries(i for outcome in outcomes if outcome for i in outcome.delivery_ids)
    return outcomes
