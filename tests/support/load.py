"""A provider-like load generator: several processes posting recorded requests to a web URL.

Each person's requests go to one process, in order, so a person's send order is their receive
order. A request is resent the way a careful provider would: on 429/5xx and on connection errors,
after a short pause, with the same ``Idempotency-Key`` (a resend of a request whose answer was
lost is then answered with the first event instead of making a second one). Every answer is
recorded on the ``SentRequest``; one that never got a 2xx is recorded as not accepted.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from tests.support.invariants import SentRequest

ENDPOINT_PATH = {"create": "", "upsert": "upsert/"}
RESEND_CODES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class LoadPlan:
    """Where to post and how: the web URL, the credentials, the pacing, when to give up."""

    base_url: str
    config_id: str
    token: str
    processes: int = 4
    per_process_rate: float | None = None  # requests per second per process; None: flat out
    give_up_after: float = 120.0  # per request, counting every resend
    max_pause: float = 0.5  # the longest pause between resends, whatever Retry-After says


def _try_once(plan: LoadPlan, request: SentRequest) -> tuple[str, int | None, str | None, float]:
    """One POST; (what happened, status code, event id, seconds to wait before a resend)."""
    url = f"{plan.base_url}/api/lead-ingestion/{plan.config_id}/{ENDPOINT_PATH[request.endpoint]}"
    http_request = urllib.request.Request(
        url,
        data=json.dumps(request.body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Token {plan.token}",
            "Idempotency-Key": request.idempotency_key,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as answer:
            body = json.loads(answer.read() or b"{}")
            return str(answer.status), answer.status, body.get("id"), 0.0
    except urllib.error.HTTPError as error:
        retry_after = float(error.headers.get("Retry-After") or 0.2)
        error.close()
        return str(error.code), error.code, None, retry_after
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None)
        name = type(reason).__name__ if isinstance(reason, BaseException) else type(error).__name__
        return name, None, None, 0.2


def _send(plan: LoadPlan, request: SentRequest) -> SentRequest:
    request.sent_at = time.time()
    start = time.monotonic()
    while True:
        request.tries += 1
        what, code, event_id, wait = _try_once(plan, request)
        request.answers.append(what)
        request.status_code = code
        request.event_id = event_id
        if code is not None and code not in RESEND_CODES:
            break
        if time.monotonic() - start + wait > plan.give_up_after:
            break
        time.sleep(min(wait, plan.max_pause))
    request.seconds = time.monotonic() - start
    return request


def _post_share(args: tuple[LoadPlan, list[SentRequest]]) -> list[SentRequest]:
    plan, share = args
    interval = 1.0 / plan.per_process_rate if plan.per_process_rate else 0.0
    next_at = time.monotonic()
    for request in share:
        if interval:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
        _send(plan, request)
    return share


def _shares(requests: list[SentRequest], processes: int) -> list[list[SentRequest]]:
    shares: list[list[SentRequest]] = [[] for _ in range(processes)]
    for request in requests:
        # A stable hash (not hash(), which is salted per process) keeps a person on one poster.
        shares[zlib.crc32(request.person.encode()) % processes].append(request)
    return shares


def send_now(plan: LoadPlan, requests: list[SentRequest]) -> list[SentRequest]:
    """Post the requests one after another from this process (for small, ordered batches)."""
    return [_send(plan, request) for request in requests]


def post_requests(plan: LoadPlan, requests: list[SentRequest]) -> list[SentRequest]:
    """Post every request from ``plan.processes`` processes; the requests with their answers."""
    shares = [share for share in _shares(requests, plan.processes) if share]
    with multiprocessing.get_context("spawn").Pool(len(shares)) as pool:
        done = pool.map(_post_share, [(plan, share) for share in shares])
    return [request for share in done for request in share]


class BackgroundLoad:
    """``post_requests`` in a background thread, so the test can do faults meanwhile."""

    def __init__(self, plan: LoadPlan, requests: list[SentRequest]) -> None:
        self._executor = ThreadPoolExecutor(1)
        self._future: Future[list[SentRequest]] = self._executor.submit(
            post_requests, plan, requests
        )
        self.started = time.monotonic()
        self.finished = threading.Event()
        self._future.add_done_callback(lambda _: self.finished.set())

    def result(self, timeout: float | None = None) -> list[SentRequest]:
        """Wait for every request to be answered (or given up on); the recorded requests."""
        try:
            return self._future.result(timeout)
        finally:
            self._executor.shutdown(wait=False)
