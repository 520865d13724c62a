"""The Celery and kombu internals our code overrides or calls still have the shape it relies on.

worker/broker_transport.py subclasses kombu's Redis channel, worker/celery_app.py overrides
Celery's consumer, and webhook/broker.py publishes through Celery's message-building code. None
of that is public API, so pyproject.toml bounds celery and kombu at the versions tested; before
raising a bound, run this file: each failure names the API that moved and the code that uses it.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

import celery
import kombu
import pytest
import redis
from celery.worker.consumer import Consumer
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.transport import redis as kombu_redis
from packaging.requirements import Requirement

from tests.support.processes import REPO_ROOT
from tests.support.services import ServiceUrls
from webhook.broker import PROCESS_EVENT_TASK
from worker.broker_transport import Transport
from worker.celery_app import app

VERSIONS = f"celery {celery.__version__}, kombu {kombu.__version__}"


def _moved(api: str, user: str, what: str) -> str:
    return (
        f"{api} changed shape ({VERSIONS}): {what}. {user} relies on it; adapt that code before "
        "raising the celery/kombu upper bound in pyproject.toml."
    )


def _parameters(function: Callable[..., Any]) -> list[str]:
    """Named parameters only: a name swallowed by ``**kwargs`` would be silently ignored."""
    return [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


# (the private API, who relies on it, the function, the parameters it must name, in order)
OVERRIDDEN = [
    (
        "kombu.transport.redis.Channel.conn_or_acquire",
        "worker/broker_transport.py (Channel.conn_or_acquire overrides it)",
        kombu_redis.Channel.conn_or_acquire,
        ["self", "client"],
    ),
    (
        "kombu.transport.redis.Channel._connparams",
        "worker/broker_transport.py (Channel._connparams overrides it)",
        kombu_redis.Channel._connparams,
        ["self", "asynchronous"],
    ),
    (
        "celery.worker.consumer.Consumer.ensure_connected",
        "worker/celery_app.py (ReconnectingConsumer.ensure_connected overrides it)",
        Consumer.ensure_connected,
        ["self", "conn"],
    ),
]


@pytest.mark.parametrize(
    ("api", "user", "function", "expected"), OVERRIDDEN, ids=[row[0] for row in OVERRIDDEN]
)
def test_an_overridden_method_keeps_its_signature(
    api: str, user: str, function: Callable[..., Any], expected: list[str]
) -> None:
    found = _parameters(function)
    assert found == expected, _moved(api, user, f"parameters {found}, expected {expected}")


def test_the_redis_channel_still_yields_its_client_from_a_context_manager() -> None:
    # Our override is a @contextmanager; kombu's callers use it in a with statement.
    api = "kombu.transport.redis.Channel.conn_or_acquire"
    wrapped = getattr(kombu_redis.Channel.conn_or_acquire, "__wrapped__", None)
    assert wrapped is not None and inspect.isgeneratorfunction(wrapped), _moved(
        api, "worker/broker_transport.py", "no longer a generator-based context manager"
    )


def test_the_reconnect_interval_still_reaches_kombus_ensure_connection() -> None:
    expected = ["interval_start", "interval_step", "interval_max"]
    found = _parameters(Connection._ensure_connection)
    assert set(expected) <= set(found), _moved(
        "kombu.Connection.ensure_connection (through _ensure_connection)",
        "worker/celery_app.py (ReconnectingConsumer)",
        f"parameters {found} lack some of {expected}",
    )


@pytest.fixture
def channel(services: ServiceUrls) -> Iterator[Any]:
    """A channel of our Redis transport on the test Redis."""
    with Connection(services.redis_url, transport=Transport) as connection:
        yield connection.default_channel


def test_a_redis_channel_still_has_what_our_transport_reads(channel: Any) -> None:
    user = "worker/broker_transport.py"
    assert issubclass(Transport, kombu_redis.Transport) and Transport.Channel is not (
        kombu_redis.Transport.Channel
    ), _moved("kombu.transport.redis.Transport.Channel", user, "our channel is not used")
    assert channel.connection.client is not None, _moved(
        "kombu.transport.redis.Channel.connection.client", user, "missing on an open channel"
    )
    assert isinstance(channel.pool, redis.ConnectionPool), _moved(
        "kombu.transport.redis.Channel.pool", user, f"is {type(channel.pool).__name__}"
    )
    client = channel._create_client()
    assert isinstance(client, redis.Redis) and client.connection_pool is channel.pool, _moved(
        "kombu.transport.redis.Channel._create_client()", user, "no Redis client on .pool"
    )


def test_the_message_building_calls_of_the_webhook_publisher_still_fit() -> None:
    user = "webhook/broker.py (Publisher)"
    amqp = app.amqp
    route_parameters = _parameters(amqp.router.route)
    assert route_parameters[:5] == ["options", "name", "args", "kwargs", "task_type"], _moved(
        "celery.app.routes.Router.route", user, f"parameters {route_parameters}"
    )
    route = amqp.router.route({}, PROCESS_EVENT_TASK, None, None, None)
    assert isinstance(route.get("queue"), Queue), _moved(
        "celery.app.routes.Router.route", user, f"returned {route!r}, without a kombu Queue"
    )
    create = ["task_id", "name", "args", "kwargs", "reply_to", "create_sent_event", "argsrepr"]
    create += ["kwargsrepr", "ignore_result"]
    missing = sorted(set(create) - set(_parameters(amqp.create_task_message)))
    assert not missing, _moved("celery.app.amqp.AMQP.create_task_message", user, f"no {missing}")
    send = ["producer", "name", "message", "retry", "declare", *route]
    missing = sorted(set(send) - set(_parameters(amqp.send_task_message)))
    assert not missing, _moved("celery.app.amqp.AMQP.send_task_message", user, f"no {missing}")
    message = amqp.create_task_message(
        "0", PROCESS_EVENT_TASK, ["x"], {}, reply_to=app.thread_oid, create_sent_event=False,
        argsrepr="['x']", kwargsrepr="{}", ignore_result=None,
    )  # fmt: skip
    assert getattr(message, "_fields", None) == ("headers", "properties", "body", "sent_event"), (
        _moved("celery.app.amqp.AMQP.create_task_message", user, f"returned {message!r}")
    )
    for name in ("thread_oid", "producer_or_acquire"):
        assert hasattr(app, name), _moved(f"celery.Celery.{name}", user, "missing")
    assert "task_send_sent_event" in app.conf, _moved(
        "celery's task_send_sent_event setting", user, "missing"
    )


@pytest.mark.parametrize("package", ["celery", "kombu"])
def test_the_installed_version_is_inside_the_upper_bound_in_pyproject(package: str) -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    (requirement,) = [
        Requirement(line)
        for line in project["project"]["dependencies"]
        if Requirement(line).name == package
    ]
    assert any(spec.operator in ("<", "<=") for spec in requirement.specifier), (
        f"pyproject.toml must bound {package} from above: we override its private APIs"
    )
    assert version(package) in requirement.specifier, (
        f"{package} {version(package)} is installed, outside {requirement}"
    )
