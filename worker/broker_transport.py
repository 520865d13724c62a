"""kombu's Redis transport with one fix: a channel that outlived its connection fails cleanly.

When the broker connection is lost, kombu closes it and forgets the server's address; its
channels live on in messages still being worked on. Acknowledging such a message after the
worker reconnected, or putting unacknowledged messages back while closing, then asks the
forgotten address for a new client and fails with an ``AttributeError`` (kombu 5.7). Celery
expects connection errors there and handles them (the message is acknowledged or restored
later: the event row guards against running it twice); any other error shuts the worker down.
So this channel reports the closed connection as the connection error it is.
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """A Redis channel that raises a connection error once its connection is closed."""

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection of this channel was closed")
        # kombu's own method carries no annotations.
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[no-untyped-call]
        return params


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel
