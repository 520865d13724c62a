"""Python load generators: closed loop, fixed rate, ordered streams (wrk is in ``bench.wrk``).

The fixed-rate generator is open loop, as wrk2 would be: request ``i`` is due at ``start + i/rate``
whatever happened to earlier ones, and its latency counts from when it was due, so a stalled
server shows up in the percentiles instead of slowing the generator down.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from urllib.parse import urlsplit

from bench.payloads import build_stream


@dataclass(frozen=True)
class Target:
    """Where requests go and how they authenticate."""

    host: str
    port: int
    path: str
    token: str

    @classmethod
    def at(cls, base_url: str, path: str, token: str) -> Target:
        """A target from a base URL (``http://127.0.0.1:PORT``) and a path."""
        parts = urlsplit(base_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 80, path, token)

    @property
    def url(self) -> str:
        """The full URL."""
        return f"http://{self.host}:{self.port}{self.path}"

    def request(self, body: bytes) -> bytes:
        """The raw HTTP/1.1 request that posts ``body``."""
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Token {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


@dataclass(frozen=True)
class BodySource:
    """A deterministic list of payloads, rebuilt in each load process (cheaper than pickling)."""

    count: int
    update_share: float = 0.0
    hot_share: float = 0.0
    seed: int = 6
    run_tag: str = "load"
    first_person: int = 0

    def bodies(self) -> list[bytes]:
        """The payloads, in order."""
        stream = build_stream(
            self.count,
            update_share=self.update_share,
            hot_share=self.hot_share,
            seed=self.seed,
            run_tag=self.run_tag,
            first_person=self.first_person,
        )
        return [event.body for event in stream.events]


@dataclass(frozen=True)
class Answer:
    """What one body posted in order got: every try's status (0: socket error), the event id."""

    statuses: tuple[int, ...]
    event_id: str | None


@dataclass
class LoadResult:
    """What one load run saw."""

    generator: str
    requests: int
    duration_s: float
    ok: int
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    target_rps: float | None = None
    # p99 of how late the generator started requests: large means the generator, not the
    # server, set the pace, and the latencies above are not the server's.
    send_lag_p99_ms: float | None = None
    # Wall-clock (epoch) times of the first request sent and the last answer received.
    started_at: float = 0.0
    ended_at: float = 0.0
    # ``post_in_order`` only: per list of bodies, what each body got, in the list's order.
    answers: list[list[Answer]] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, float | int | str | None]:
        """The result as JSON-ready numbers."""
        return {
            "generator": self.generator,
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "rps": round(self.rps, 1),
            "target_rps": None if self.target_rps is None else round(self.target_rps, 1),
            "ok": self.ok,
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "send_lag_p99_ms": None
            if self.send_lag_p99_ms is None
            else round(self.send_lag_p99_ms, 2),
        }


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    # ceil(share * n) - 1, with room for 0.99 * 100 == 99.00000000000001
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered) - 1e-9) - 1))
    return ordered[rank]


async def exchange_answer(target: Target, data: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """Send one request on a new connection; the answer's status (0 on a socket error) and body."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port), timeout
        )
    except (OSError, TimeoutError):
        return 0, b""
    try:
        writer.write(data)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        return (int(status_line[1]), body) if len(status_line) > 1 else (0, b"")
    except (OSError, TimeoutError, ValueError):
        return 0, b""
    finally:
        writer.close()


async def exchange(target: Target, data: bytes, timeout: float = 30) -> int:
    """Send one request on a new connection; the answer's status, or 0 on a socket error."""
    return (await exchange_answer(target, data, timeout))[0]


def event_id_of(body: bytes) -> str | None:
    """The ``id`` of an accepted answer's JSON body; None when there is none."""
    try:
        value = json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


@dataclass
class _Part:
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # How late the generator itself started each request (open loop only).
    send_lags: list[float] = field(default_factory=list)
    first_send: float = 0.0
    last_answer: float = 0.0
    # Ordered posting only: each body's tries and event id, for the invariant checker.
    answers: list[Answer] = field(default_factory=list)


async def _closed_loop(
    target: Target, bodies: list[bytes], connections: int, duration: float, stride: tuple[int, int]
) -> _Part:
    part = _Part(first_send=time.time())
    deadline = time.monotonic() + duration
    counter = iter(range(stride[0], 1 << 62, stride[1]))

    async def connection() -> None:
        while time.monotonic() < deadline:
            body = bodies[next(counter) % len(bodies)]
            started = time.monotonic()
            part.statuses.append(await exchange(target, target.request(body)))
            part.latencies.append(time.monotonic() - started)

    await asyncio.gather(*(connection() for _ in range(connections)))
    part.last_answer = time.time()
    return part


async def _paced(
    target: Target, bodies: list[bytes], rate: float, duration: float, stride: tuple[int, int]
) -> _Part:
    loop = asyncio.get_running_loop()
    part = _Part(first_send=time.time())
    start = loop.time() + 0.05
    total = int(rate * duration)
    pending: list[asyncio.Task[None]] = []

    async def send(index: int, due: float) -> None:
        body = bodies[(stride[0] + index * stride[1]) % len(bodies)]
        part.send_lags.append(loop.time() - due)
        part.statuses.append(await exchange(target, target.request(body)))
        part.latencies.append(loop.time() - due)

    for index in range(total):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(send(index, due)))
    await asyncio.gather(*pending)
    part.last_answer = time.time()
    return part


def _run_closed(
    target: Target, source: BodySource, connections: int, duration: float, stride: tuple[int, int]
) -> _Part:
    return asyncio.run(_closed_loop(target, source.bodies(), connections, duration, stride))


def _run_paced(
    target: Target, source: BodySource, rate: float, duration: float, stride: tuple[int, int]
) -> _Part:
    return asyncio.run(_paced(target, source.bodies(), rate, duration, stride))


def _combine(generator: str, parts: list[_Part], target_rps: float | None = None) -> LoadResult:
    statuses = [status for part in parts for status in part.statuses]
    latencies = [latency for part in parts for latency in part.latencies]
    lags = [lag for part in parts for lag in part.send_lags]
    started_at = min(part.first_send for part in parts)
    ended_at = max(part.last_answer for part in parts)
    return LoadResult(
        generator=generator,
        requests=len(statuses),
        duration_s=ended_at - started_at,
        ok=sum(1 for status in statuses if 200 <= status < 300),
        non_2xx=sum(1 for status in statuses if status and not 200 <= status < 300),
        socket_errors=statuses.count(0),
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=max(latencies, default=0.0) * 1000,
        target_rps=target_rps,
        send_lag_p99_ms=percentile(lags, 0.99) * 1000 if lags else None,
        started_at=started_at,
        ended_at=ended_at,
    )


def _pool(processes: int) -> ProcessPoolExecutor:
    # Spawned, not forked: the benchmark process has threads (the RSS sampler) and open sockets.
    return ProcessPoolExecutor(processes, mp_context=get_context("spawn"))


def closed_loop(
    target: Target, source: BodySource, connections: int, duration: float, processes: int = 2
) -> LoadResult:
    """Saturation with Python: ``connections`` back-to-back clients spread over processes."""
    per_process = max(1, connections // processes)
    with _pool(processes) as pool:
        futures = [
            pool.submit(_run_closed, target, source, per_process, duration, (n, processes))
            for n in range(processes)
        ]
        return _combine("python", [future.result() for future in futures])


def fixed_rate(
    target: Target, source: BodySource, rate: float, duration: float, processes: int = 2
) -> LoadResult:
    """Open-loop load at ``rate`` requests per second for ``duration`` seconds."""
    share = rate / processes
    with _pool(processes) as pool:
        futures = [
            pool.submit(_run_paced, target, source, share, duration, (n, processes))
            for n in range(processes)
        ]
        return _combine("python-paced", [future.result() for future in futures], rate)


async def _post_in_order(target: Target, bodies: list[bytes], attempts: int = 5) -> _Part:
    part = _Part(first_send=time.time())
    for body in bodies:
        started = time.monotonic()
        statuses: list[int] = []
        status, content = 0, b""
        for attempt in range(attempts):
            status, content = await exchange_answer(target, target.request(body))
            statuses.append(status)
            # A refused connection or a 503 is the server asking us to come back; anything else
            # is an answer to count.
            if status not in (0, 429, 503):
                break
            await asyncio.sleep(0.05 * 2**attempt)
        part.statuses.append(status)
        part.latencies.append(time.monotonic() - started)
        accepted = 200 <= status < 300
        part.answers.append(Answer(tuple(statuses), event_id_of(content) if accepted else None))
    part.last_answer = time.time()
    return part


def _run_in_order(target: Target, bodies: list[bytes]) -> _Part:
    return asyncio.run(_post_in_order(target, bodies))


def post_in_order(target: Target, bodies_per_client: list[list[bytes]]) -> LoadResult:
    """Post every body as fast as possible: one process per list, each list in its order.

    The result's ``answers`` say what each body got, list by list.
    """
    with _pool(len(bodies_per_client)) as pool:
        futures = [pool.submit(_run_in_order, target, bodies) for bodies in bodies_per_client]
        parts = [future.result() for future in futures]
    result = _combine("python-clients", parts)
    result.answers = [part.answers for part in parts]
    return result
