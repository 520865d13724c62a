"""Schemathesis against /openapi.json, so the document and the code cannot drift apart.

The command line, as a user runs it: ``schemathesis run --checks all`` over every phase
(examples, coverage, fuzzing, stateful) against a live gunicorn with a real token, the real path
parameters and the real worker behind the waiting ingestion answers. No answer may be a 5xx, and
every answer must match the document: a documented status code, content type and headers, a body
that validates against the status code's schema, schema-violating requests refused, `Allow` on
every 405, auth enforced.

Beside it, in-process cases for what the command line cannot be told: ids that do not exist
must each be a 404, and a config over its rate limit must answer 429. Schemathesis's pytest
plugin (``schemathesis.pytest.from_fixture``) does not run on this pytest, so each operation is
a parametrized test that draws cases from the operation's public Hypothesis strategy and
validates them with ``case.call_and_validate()`` (every check that judges one answer).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy.orm import Session

from models.enums import EventStatus
from models.webhook import DeliveryStatus
from tests.support.factories import (
    make_config,
    make_delivery,
    make_event,
    make_lead_type,
    make_replay_job,
    make_tenant,
    make_webhook,
)
from tests.support.leads import make_lead
from tests.support.processes import VENV_BIN, ServiceProcess, start_web
from tests.support.services import ServiceUrls
from webhook.openapi_document import openapi_document

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

# In-process cases per operation and mode.
MAX_EXAMPLES = 50
SEED = 5
# Cases per operation and phase of the command line (about 90 s on 2 cores), and the most it
# may take on a loaded machine; the test's own timeout sits above it so the run is stopped
# cleanly (the server stopped, the output kept) rather than the test killed.
CLI_MAX_EXAMPLES = 25
ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_SECONDS = 480

# Refusals of schema-valid data that only the data can explain, per operation (the document
# declares each): a payload the config's mapping refuses (422 when waiting); a phone_number
# filter that is a string but no valid number (400); a standard lead write whose phone number,
# lead type or metadata the lead rules refuse (400, DRF's validation status); a webhook URL that
# is no http(s) URL or points at a refused address (400); a config whose mapping, campaign or
# credentials the config rules refuse (400); an events filter whose value the filter cannot read
# (400); a custom payload whose free-form query string makes the request line longer than the
# server reads (414, from gunicorn); an upload whose source or filename the upload service
# refuses (400); a blocked identifier whose value is no phone number, address or domain
# (400). Every other operation keeps the defaults.
_DEFAULT_POSITIVE = ["2xx", "401", "403", "404", "409", "429"]
_VALIDATED = [*_DEFAULT_POSITIVE, "400"]
POSITIVE_EXCEPTIONS = {
    "createLead": [*_DEFAULT_POSITIVE, "414", "422"],
    "upsertLead": [*_DEFAULT_POSITIVE, "414", "422"],
    "listLeads": _VALIDATED,
    "createStandardLead": _VALIDATED,
    "updateStandardLead": _VALIDATED,
    "patchStandardLead": _VALIDATED,
    "createWebhook": _VALIDATED,
    "updateWebhook": _VALIDATED,
    "createConfig": _VALIDATED,
    "changeConfig": _VALIDATED,
    "mappingImpact": _VALIDATED,
    "listEvents": _VALIDATED,
    "createUpload": _VALIDATED,
    "startReplay": _VALIDATED,
    "createBlockedIdentifier": _VALIDATED,
}

# The real worker answers well within this; a waiting request never holds the suite for long.
WAIT_SECONDS = "3"

DOCUMENT = openapi_document()
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item]


def _modes(method: str, path: str) -> list[str]:
    """For operations with a path id, ids that do not exist (each must be a 404); for those that
    document a 429, a config over its rate limit."""
    operation = DOCUMENT["paths"][path][method.lower()]
    parameters = operation.get("parameters", [])
    modes = []
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
    # The default lead type lets generated standard creates reach the worker's decision.
    lead_type = make_lead_type(committed_session, tenant, is_default=True)
    # A lead webhook with a failed delivery: the first redelivery is taken, later ones are 409.
    hook = make_webhook(committed_session, tenant.organization_id, "http://127.0.0.1:9/hook")
    delivery = make_delivery(committed_session, hook, lead.id, status=DeliveryStatus.failed)
    # A running replay job: the first cancel takes it, later ones answer it cancelled again.
    replay = make_replay_job(committed_session, tenant)
    committed_session.commit()
    return {
        "token": tenant.token,
        "limited_config_uuid": str(limited.id),
        "path": {
            "config_uuid": str(tenant.config_id),
            "event_id": str(event.id),
            "lead_id": lead.id,
            "lead_type_id": lead_type.id,
            "webhook_id": hook.id,
            "delivery_id": delivery.id,
            "version": 1,  # every config's first mapping version
            "job_id": str(replay.id),
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
            "operations": [
                {
                    "include-operation-id": operation_id,
                    "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
                }
                for operation_id, statuses in POSITIVE_EXCEPTIONS.items()
            ],
        }
    )


def _strategy(operation: Any, mode: str, world: dict[str, Any]) -> Any:
    # Unknown ids are drawn; the rate-limited mode posts to the config with a bucket of one.
    fixed_path = {"config_uuid": world["limited_config_uuid"]} if mode == "rate-limited" else None
    # Waiting is fixed to a few seconds: the document allows up to 30, and a case that waits
    # for an event the worker has long finished proves nothing more than one that waits 3.
    query = {"wait": WAIT_SECONDS} if any(p.name == "wait" for p in operation.query) else None
    prefer = any(p.name == "Prefer" for p in operation.headers)
    return operation.as_strategy(
        GenerationMode.POSITIVE,
        path_parameters=fixed_path,
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
    """Every answer matches the document; unknown ids are a 404, and a config over its rate
    limit answers 429 with Retry-After."""
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


# --- The schemathesis command line against a running service ---------------------------------


def _cli_config(world: dict[str, Any]) -> str:
    """A schemathesis.toml with the fixed values the run must use (the real ids, a short wait)."""
    parameters = {**world["path"], "wait": WAIT_SECONDS, "Prefer": f"wait={WAIT_SECONDS}"}
    lines = [
        f"seed = {SEED}",
        "[generation]",
        "deterministic = true",
        "with-security-parameters = false",
        "[parameters]",
        # JSON's scalars are TOML's: the lead id stays an integer, as the document types it.
        *(f"{name} = {json.dumps(value)}" for name, value in parameters.items()),
    ]
    for operation_id, statuses in POSITIVE_EXCEPTIONS.items():
        lines += [
            "[[operations]]",
            f"include-operation-id = {json.dumps(operation_id)}",
            "[operations.checks.positive_data_acceptance]",
            f"expected-statuses = {json.dumps(statuses)}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(CLI_TIMEOUT_SECONDS + 60)
def test_schemathesis_cli_runs_every_check_and_phase(
    services: ServiceUrls,
    fixture_world: dict[str, Any],
    celery_worker: ServiceProcess,
    tmp_path: Path,
) -> None:
    """``schemathesis run --checks all`` over every phase against a live gunicorn finds nothing."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(_cli_config(fixture_world))
    web = start_web(services.env(), workers=1)
    try:
        command = [
            str(VENV_BIN / "schemathesis"),
            "--config-file",
            str(config),
            "--no-color",
            "run",
            web.extra["url"] + "/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(CLI_MAX_EXAMPLES),
            "--header",
            f"Authorization: Token {fixture_world['token']}",
            "--workers",
            "1",
            "--request-timeout",
            "20",
        ]
        # The hooks module is found from the repository root, whatever the run's directory.
        hooks = {
            "SCHEMATHESIS_HOOKS": "tests.fuzz.schemathesis_hooks",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        result = subprocess.run(
            command,
            cwd=tmp_path,
            env={**os.environ, **hooks},
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as late:
        # On a timeout the captured output may come back as bytes, whatever ``text`` says.
        captured = late.stdout or ""
        output = captured if isinstance(captured, str) else captured.decode(errors="replace")
        pytest.fail(f"schemathesis ran over {CLI_TIMEOUT_SECONDS} s:\n{output[-20000:]}")
    finally:
        web.stop()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
