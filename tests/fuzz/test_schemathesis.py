"""Schemathesis against /openapi.json: every operation, through the WSGI app, with a real token,
real path parameters and the real worker behind the waiting ingestion answers.

No answer may be a 5xx, and every answer must match the document: a documented status code,
content type and headers, and a body that validates against the status code's schema.

Schemathesis's pytest plugin (``schemathesis.pytest.from_fixture``) does not run on this
pytest, so each operation is its own parametrized test that draws cases from the operation's
public Hypothesis strategy and validates them with ``case.call_and_validate()``.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy.orm import Session

from models.enums import EventStatus
from tests.support.factories import make_config, make_event, make_tenant
from tests.support.leads import make_lead
from tests.support.processes import ServiceProcess
from webhook.openapi_document import openapi_document

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

# Cases per operation and mode (23 runs, ~1,600 requests): about 40 s on 2 cores.
MAX_EXAMPLES = 100
SEED = 5

# The body schema of an ingestion payload is "any object": which objects make a valid lead
# depends on the config's mapping, so a schema-valid body may well be refused with 422 (when
# waiting) and a schema-valid phone filter with 400. Every other refusal of valid data still fails.
POSITIVE_STATUSES = ["2xx", "400", "401", "403", "404", "409", "422", "429"]

# The real worker answers well within this; a waiting request never holds the suite for long.
WAIT_SECONDS = "3"

DOCUMENT = openapi_document()
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item]


def _modes(method: str, path: str) -> list[str]:
    """Positive cases always; negative ones where there is something besides ids to break;
    for operations with a path id, ids that do not exist (each must be a 404); and for those
    that document a 429, a config over its rate limit."""
    operation = DOCUMENT["paths"][path][method.lower()]
    parameters = operation.get("parameters", [])
    modes = ["positive"]
    if "requestBody" in operation or any(p["in"] != "path" for p in parameters):
        modes.append("negative")
    if any(p["in"] == "path" for p in parameters):
        modes.append("unknown-ids")
    if "429" in operation["responses"]:
        modes.append("rate-limited")
    return modes


CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode}")
    for method, path in OPERATIONS
    for mode in _modes(method, path)
]


@pytest.fixture
def fixture_world(committed_session: Session) -> dict[str, Any]:
    """A tenant with a lead, a failed event and a rate-limited config: every path parameter.

    The config gives every payload the same phone number, so generated bodies create and then
    update a lead (201 and 200 with the Lead schema) unless their other keys are invalid (422).
    """
    mapping = {"fields": {"phone_number": {"value": "2024561111"}}}
    tenant = make_tenant(committed_session, mapping)
    # The same organization's config with a bucket of one request and a trickle after it.
    limited = make_config(
        committed_session,
        tenant.organization_id,
        tenant.campaign_id,
        mapping,
        rate_limit_per_second=0.001,
        rate_limit_burst=1,
    )
    lead = make_lead(committed_session, tenant)
    event = make_event(committed_session, tenant, status=EventStatus.failed)
    committed_session.commit()
    return {
        "token": tenant.token,
        "limited_config_uuid": str(limited.id),
        "path": {
            "config_uuid": str(tenant.config_id),
            "event_id": str(event.id),
            "lead_id": lead.id,
            "version": 1,  # every config's first mapping version
        },
    }


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                # The token is sent with each call (below), never generated or left out here.
                "with-security-parameters": False,
            },
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        }
    )


def _strategy(operation: Any, mode: str, world: dict[str, Any]) -> Any:
    names = {parameter.name for parameter in operation.path_parameters}
    fixed_path = None if mode == "unknown-ids" else {name: world["path"][name] for name in names}
    if mode == "rate-limited":
        fixed_path = {"config_uuid": world["limited_config_uuid"]}
    # Waiting is fixed to a few seconds: the document allows up to 30, and a case that waits
    # for an event the worker has long finished proves nothing more than one that waits 3.
    query = {"wait": WAIT_SECONDS} if any(p.name == "wait" for p in operation.query) else None
    prefer = any(p.name == "Prefer" for p in operation.headers)
    return operation.as_strategy(
        GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE,
        path_parameters=fixed_path or None,
        query=query,
        headers={"Prefer": f"wait={WAIT_SECONDS}"} if prefer else None,
    )


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms_to_the_document(
    app: Flask,
    fixture_world: dict[str, Any],
    celery_worker: ServiceProcess,
    method: str,
    path: str,
    mode: str,
) -> None:
    """No 5xx, and every answer matches the document; unknown ids are a 404, and a config
    over its rate limit answers 429 with Retry-After."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=_config())
    # Sent with each call rather than generated, so the auth checks know it is a valid token and
    # probe that the operation refuses the same request without it.
    authorization = {"Authorization": f"Token {fixture_world['token']}"}
    operation = schema[path][method]
    real_ids = set(map(str, fixture_world["path"].values()))
    limited: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_strategy(operation, mode, fixture_world))
    def check(case: Any) -> None:
        response = case.call_and_validate(headers=authorization)
        if mode == "unknown-ids" and not real_ids & set(map(str, case.path_parameters.values())):
            assert response.status_code == 404, response.text
        if mode == "rate-limited":
            limited.append(response.status_code)

    check()
    if mode == "rate-limited":
        assert 429 in limited, limited
