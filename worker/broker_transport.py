"""kombu's Redis transport with two changes: closed channels fail cleanly, clients are kept.

When the broker connection is lost, kombu closes it and forgets the server's address; its
channels live on in messages still being worked on. Acknowledging such a message after the
worker reconnected, or putting unacknowledged messages back while closing, then asks the
forgotten address for a new client and fails with an ``AttributeError`` (kombu 5.7). Celery
expects connection errors there and handles them (the message is acknowledged or restored
later: the event row guards against running it twice); any other error shuts the worker down.
So this channel reports the closed connection as the connection error it is.

And kombu's Redis channel builds a new client (with its table of response callbacks) for every
command it sends outside the consuming loop: each publish, and twice per message consumed with
late acknowledgement (recording the delivery, then the ack). That was a large share of a
publish's CPU time. A client holds no connection of its own (it borrows one from the channel's
pool per command), so this channel keeps one and uses it for all of them. The webhook publishes
through this transport too (it reads the same ``celeryconfig``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """A Redis channel that raises a connection error once its connection is closed."""

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        """The given client, else this channel's own (made once per pool)."""
        if client is not None:
            yield client
            return
        shared = self._shared_client
        # After a lost connection kombu drops the channel's pool; follow it to the new one.
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._shared_client = self._create_client()  # type: ignore[no-untyped-call]
        yield shared

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection of this channel was closed")
        # kombu's own method carries no annotations.
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[no-untyped-call]
        return params


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel
