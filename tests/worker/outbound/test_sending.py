"""One attempt on the wire, against a real receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.receiver import FAIL, Receiver, hang, redirect, running_receiver, throttled
from worker.outbound.sending import RESPONSE_EXCERPT_BYTES, Request, send
from worker.outbound.signing import generate_secret

BODY = json.dumps({"id": 1, "phone_number": "+12024561111"}).encode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        running.secrets = [generate_secret()]
        yield running


def _request(receiver: Receiver, path: str = "/hook") -> Request:
    return Request(receiver.url + path, "msg_abc", BODY, "LEAD_CREATED", receiver.secrets)


def test_a_signed_post_with_the_trigger_header(receiver: Receiver) -> None:
    attempt = send(_request(receiver), allow_private=True)

    assert attempt.succeeded and attempt.status_code == 200
    assert attempt.body == '{"received": true}'
    [got] = receiver.received
    assert got.verified_by == (0,)
    assert got.body == BODY
    assert got.headers["x-leadgate-trigger"] == "LEAD_CREATED"
    assert got.headers["webhook-id"] == "msg_abc"
    assert got.headers["content-type"] == "application/json"


def test_a_failure_and_a_429_are_reported_with_their_details(receiver: Receiver) -> None:
    receiver.script("/hook", FAIL, throttled(7))

    failed = send(_request(receiver), allow_private=True)
    limited = send(_request(receiver), allow_private=True)

    assert (failed.status_code, failed.succeeded) == (500, False)
    assert (limited.status_code, limited.retry_after) == (429, "7")


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.script("/hook", redirect(receiver.url + "/elsewhere"))

    attempt = send(_request(receiver), allow_private=True)

    assert attempt.status_code == 302 and not attempt.succeeded
    assert receiver.requests_to("/elsewhere") == []


def test_a_receiver_that_hangs_times_out(receiver: Receiver) -> None:
    receiver.script("/hook", hang(2.0))

    attempt = send(_request(receiver), allow_private=True, timeout=0.3)

    assert attempt.status_code is None
    assert attempt.error == "no answer within 0.3 s"


def test_loopback_is_refused_unless_allowed_and_nothing_is_sent(receiver: Receiver) -> None:
    attempt = send(_request(receiver), allow_private=False)

    assert attempt.refused and attempt.status_code is None
    assert "loopback or private" in (attempt.error or "")
    assert receiver.received == []


def test_a_connection_refused_is_an_error_without_the_url() -> None:
    from tests.support.processes import free_port

    url = f"http://127.0.0.1:{free_port()}/secret-path"
    attempt = send(Request(url, "msg_x", BODY, "LEAD_CREATED", [generate_secret()]), True)

    assert attempt.error == "ConnectError: could not be sent"


def test_only_the_first_kibibyte_of_the_answer_is_kept() -> None:
    assert RESPONSE_EXCERPT_BYTES == 1024
