"""The test receiver drops a request its sender did not finish, as any HTTP server would."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.support.receiver import Receiver, running_receiver


def _post_raw(url: str, declared_length: int, body: bytes) -> bytes:
    """Send a POST declaring ``declared_length`` bytes, write ``body``, and stop writing."""
    address = urlsplit(url)
    assert address.hostname is not None and address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        head = (
            f"POST /hook HTTP/1.1\r\nHost: {address.hostname}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared_length}\r\n"
            "webhook-id: msg_1\r\nwebhook-timestamp: 1\r\nwebhook-signature: v1,x\r\n\r\n"
        )
        connection.sendall(head.encode() + body)
        connection.shutdown(socket.SHUT_WR)  # the sender is gone: nothing more will come
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
        return answer


def _wait_until(receiver: Receiver, done: int) -> None:
    deadline = time.monotonic() + 5
    while receiver.cut_short + len(receiver.received) < done and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_body_cut_short_is_dropped_unanswered_and_counted() -> None:
    with running_receiver() as receiver:
        answer = _post_raw(receiver.url, declared_length=40, body=b'{"type": "lead.')
        _wait_until(receiver, 1)
    assert answer == b""
    assert receiver.cut_short == 1
    assert receiver.received == []


def test_a_whole_body_is_received_and_answered() -> None:
    body = b'{"type": "lead.created"}'
    with running_receiver() as receiver:
        answer = _post_raw(receiver.url, declared_length=len(body), body=body)
        _wait_until(receiver, 1)
    assert answer.startswith(b"HTTP/1.0 200") or answer.startswith(b"HTTP/1.1 200")
    assert receiver.cut_short == 0
    assert [request.body for request in receiver.received] == [body]
    assert receiver.received[0].verified_by == ()  # no secret: nothing verified it
