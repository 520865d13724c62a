"""A webhook receiver on loopback for the tests: it verifies every signature it is sent with
the ``standardwebhooks`` library and answers as it is told (fail N times, 410, 429 with
Retry-After, hang, redirect)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a status, extra headers, and a delay before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


OK = Answer(200)
FAIL = Answer(500)
GONE = Answer(410)


def throttled(seconds: int) -> Answer:
    """429 Too Many Requests, asking to come back after ``seconds``."""
    return Answer(429, {"Retry-After": str(seconds)})


def redirect(location: str) -> Answer:
    """302 to ``location`` (which a webhook sender must not follow)."""
    return Answer(302, {"Location": location})


def hang(seconds: float) -> Answer:
    """Answer 200, but only after ``seconds``."""
    return Answer(200, delay=seconds)


@dataclass(frozen=True)
class Received:
    """One request as it arrived, and which of the receiver's secrets verified it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: tuple[int, ...]
    answered: int

    @property
    def message_id(self) -> str:
        """The webhook-id header."""
        return self.headers["webhook-id"]


class Receiver:
    """The server's state: scripts per path, and everything received."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self.received: list[Received] = []
        # Requests whose body ended before its Content-Length: the sender died mid-request
        # (httpx writes the headers and the body in two sends). Like any HTTP server, the
        # receiver drops them unanswered; they are counted, never checked as deliveries.
        self.cut_short = 0
        self.lock = threading.Lock()
        self.url = ""
        # Until this time.monotonic(), every request is answered 500 (an outage).
        self.down_until = 0.0

    def script(self, path: str, *answers: Answer) -> None:
        """Answer the next requests to ``path`` with ``answers`` in turn, then 200."""
        with self.lock:
            self.scripts[path].extend(answers)

    def next_answer(self, path: str) -> Answer:
        if time.monotonic() < self.down_until:
            return FAIL
        with self.lock:
            queue = self.scripts.get(path)
            return queue.popleft() if queue else OK

    def verify(self, headers: dict[str, str], body: bytes) -> tuple[int, ...]:
        """The indexes of the secrets whose signature the request carries."""
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(index)
        return tuple(verified)

    def requests_to(self, path: str) -> list[Received]:
        """What arrived at ``path``, in order."""
        with self.lock:
            return [item for item in self.received if item.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 30) -> list[Received]:
        """Wait until ``count`` requests (to ``path``, if given) have arrived; return them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = [r for r in self.received if path is None or r.path == path]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:
                with receiver.lock:
                    receiver.cut_short += 1
                self.close_connection = True
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = receiver.next_answer(self.path)
            verified = receiver.verify(headers, body)
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, headers, body, verified, answer.status)
                )
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            reply = b'{"received": true}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            # The sender may have given up waiting (a hang test).
            with contextlib.suppress(OSError):
                self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the tests read ``received``

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
