"""One attempt on the wire: check the address, sign, POST with httpx, and report what came back."""

from __future__ import annotations

import datetime as dt
import functools
import ssl
import time
from dataclasses import dataclass

import httpx

from worker.outbound.addresses import UnsafeAddress, check_url
from worker.outbound.signing import standard_headers

TIMEOUT_SECONDS = 15.0
# The delivery log keeps this much of each answer's body.
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "leadgate-webhooks/1"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every send in this process shares.

    Building one loads the CA bundle, about 25 ms of CPU: once per client, that was most of
    what a delivery cost the worker (B7). A context is safe to share between connections.
    """
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class Request:
    """What to send: the delivery's fixed message and the keys that sign it now."""

    url: str
    message_id: str
    body: bytes
    trigger: str
    keys: list[str]


@dataclass(frozen=True)
class Attempt:
    """What one attempt got: a status code and the start of the body, or an error."""

    time: dt.datetime
    duration_ms: int
    status_code: int | None = None
    body: str = ""
    retry_after: str | None = None
    error: str | None = None
    # True when the URL was refused before anything was sent (a forbidden address).
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        """True for a 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_log(self) -> dict[str, object]:
        """The attempt as the delivery log shows it."""
        return {
            "time": self.time.isoformat(),
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "body": self.body,
            "error": self.error,
        }


def _excerpt(response: httpx.Response) -> str:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= RESPONSE_EXCERPT_BYTES:
            break
    return data[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def send(request: Request, allow_private: bool, timeout: float = TIMEOUT_SECONDS) -> Attempt:
    """POST the message once; redirects are not followed, and a refused address sends nothing."""
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - clock) * 1000)

    try:
        # Again at send time: the name may resolve elsewhere than when the webhook was saved.
        check_url(request.url, allow_private, must_resolve=True)
    except UnsafeAddress as refusal:
        return Attempt(started, elapsed(), error=f"refused: {refusal}", refused=True)
    headers = {
        **standard_headers(request.message_id, started, request.body, request.keys),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Leadgate-Trigger": request.trigger,
    }
    try:
        # No proxy from the environment: the connection goes to the host checked above.
        client = httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=tls_context()
        )
        with (
            client,
            client.stream("POST", request.url, content=request.body, headers=headers) as answer,
        ):
            return Attempt(
                started,
                elapsed(),
                status_code=answer.status_code,
                body=_excerpt(answer),
                retry_after=answer.headers.get("Retry-After"),
            )
    except httpx.TimeoutException:
        return Attempt(started, elapsed(), error=f"no answer within {timeout:g} s")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        # The type says enough (connection refused, reset, TLS); the message may quote the URL.
        return Attempt(started, elapsed(), error=f"{type(error).__name__}: could not be sent")
