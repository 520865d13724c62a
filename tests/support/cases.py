"""The shared provider payload cases (``shared/payloads/cases``) and a runner for them.

Beside the custom doors' ``post`` values (create, upsert, dry-run), a step may send to the
standard lead API: ``leads.create``, ``leads.update``, ``leads.patch`` (with ``"target"``, the
``lead_ref`` of the lead to change) and ``leads.bulk`` (the step's body is one item). Those are
answered once processed: ``http`` checks that answer, ``lead_action`` its Lead-Action header, and
the other expectations the event the answer names (Ingestion-Event-Id, or the item's event).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.support.api import assert_subset, get_lead, lead_count, post_payload, wait_for_event
from tests.support.factories import Tenant, make_lead_type, make_tenant

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = REPO_ROOT.parent / "shared" / "payloads" / "cases"
# Cases of the standard lead API, in the same format with its own ``post`` values.
STANDARD_CASES_DIR = REPO_ROOT / "tests" / "webhook" / "standard_cases"
# ``post`` values of the standard lead API: the method and path each is sent to.
STANDARD_POSTS = {
    "leads.create": ("POST", "/api/leads/"),
    "leads.bulk": ("POST", "/api/leads/bulk-create/"),
    "leads.update": ("PUT", "/api/leads/update/"),
    "leads.patch": ("PATCH", "/api/leads/{target}/"),
}


def case_files() -> list[Path]:
    """Every case file, sorted by name (empty when shared/ is not beside the repository)."""
    return sorted(CASES_DIR.glob("*.json")) if CASES_DIR.is_dir() else []


def standard_case_files() -> list[Path]:
    """The standard lead API's case files, kept in this repository."""
    return sorted(STANDARD_CASES_DIR.glob("*.json"))


def _send_standard(
    client: FlaskClient, step: dict[str, Any], token: str | None, lead_refs: dict[str, int]
) -> tuple[TestResponse, str | None]:
    """Send a standard-API step; its answer and the event it names (one item for a bulk)."""
    method, path = STANDARD_POSTS[step["post"]]
    if "{target}" in path:
        path = path.format(target=lead_refs[step["target"]])
    body = {"leads": [step["body"]]} if step["post"] == "leads.bulk" else step["body"]
    headers = dict(step.get("headers") or {})
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    answer = client.open(path, method=method, data=json.dumps(body), headers=headers,
                         content_type="application/json")  # fmt: skip
    if step["post"] == "leads.bulk" and answer.status_code in (200, 202):
        return answer, answer.get_json()["results"][0]["event"]
    return answer, answer.headers.get("Ingestion-Event-Id")


def tenant_for_case(session: Session, case: dict[str, Any]) -> Tenant:
    """An organization of the case's own, with its config."""
    config = case["config"]
    options: dict[str, Any] = {"auth": config.get("auth", "token")}
    for key in ("lead_type", "match", "min_reengagement_days"):
        if key in config:
            options[key] = config[key]
    tenant = make_tenant(session, config["mapping"], **options)
    _give_lead_types(session, tenant, case)
    session.commit()
    return tenant


def _give_lead_types(session: Session, tenant: Tenant, case: dict[str, Any]) -> None:
    """Make each ``lead_type`` number a step's body names a lead type of the case's organization.

    A payload's lead_type must be one of its organization's. Lead type ids are the database's,
    so a case's number is a name: it is replaced, in the body and the expected lead, by the id
    of a lead type made for it. (A config's default lead type is left as it is: a config saved
    before lead types existed keeps working with the number it has.)
    """
    made: dict[int, int] = {}
    for step in case["steps"]:
        body = step.get("body")
        number = body.get("lead_type") if isinstance(body, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            continue
        if number not in made:
            made[number] = make_lead_type(session, tenant, name=f"case type {number}").id
        body["lead_type"] = made[number]
        expected = step["expect"].get("lead", {})
        if expected.get("lead_type") == number:
            expected["lead_type"] = made[number]


def run_case(client: FlaskClient, case: dict[str, Any], own: Tenant, other: Tenant) -> None:
    """Run every step of a case and check each expectation."""
    tokens = {"own": own.token, "none": None, "other-org": other.token}
    lead_refs: dict[str, int] = {}
    event_ids: list[str | None] = []
    for index, step in enumerate(case["steps"]):
        where = f"{case['name']} step {index}"
        expect = step["expect"]
        token = tokens[step.get("token", "own")]
        if step["post"] in STANDARD_POSTS:
            answer, standard_event = _send_standard(client, step, token, lead_refs)
        else:
            answer = post_payload(
                client,
                own.config_id,
                step["post"],
                step["body"],
                token,
                content_type=step.get("content_type", "application/json"),
                headers=step.get("headers"),
                query=step.get("query", ""),
            )
        body = answer.get_json(silent=True) or {}
        if "http" in expect:
            assert answer.status_code == expect["http"], f"{where}: {answer.status_code} {body}"
        if "lead_action" in expect:
            assert answer.headers.get("Lead-Action") == expect["lead_action"], f"{where}: {body}"
        if step["post"] in STANDARD_POSTS:
            # Answered once the event is done (or failed): follow the event it names.
            if standard_event is None:
                event_ids.append(None)
                continue
            body = {"id": standard_event}
        elif answer.status_code != 202:
            event_ids.append(None)
            continue
        if step["post"] == "dry-run":
            event_ids.append(None)
            assert answer.status_code == 200, f"{where}: {body}"
            assert body["would"] == expect["would"], f"{where}: {body}"
            if "lead_ref" in expect:
                assert body["lead_id"] == lead_refs[expect["lead_ref"]], f"{where}: {body}"
            continue
        event_ids.append(body["id"])
        if "same_event_as" in expect:
            assert body["id"] == event_ids[expect["same_event_as"]], f"{where}: {body}"
        event = wait_for_event(client, own.token, body["id"])
        if "status" in expect:
            assert event["status"] == expect["status"], f"{where}: {event}"
        if "action" in expect:
            assert event["action"] == expect["action"], f"{where}: {event}"
        if "errors" in expect:
            fields = sorted({error["field"] for error in event["errors"]})
            assert fields == sorted(expect["errors"]), f"{where}: {event['errors']}"
        if "lead_ref" in expect:
            ref = expect["lead_ref"]
            if ref in lead_refs:
                assert event["lead_id"] == lead_refs[ref], f"{where}: {event}"
            else:
                assert event["lead_id"] not in lead_refs.values(), f"{where}: {event}"
                lead_refs[ref] = event["lead_id"]
        if "lead" in expect:
            assert event["lead_id"] is not None, f"{where}: {event}"
            assert_subset(expect["lead"], get_lead(client, own.token, event["lead_id"]), where)
    final = case.get("final", {})
    if "lead_count" in final:
        assert lead_count(client, own.token) == final["lead_count"], case["name"]


def load_case(path: Path) -> dict[str, Any]:
    """Read one case file."""
    case: dict[str, Any] = json.loads(path.read_text())
    return case
