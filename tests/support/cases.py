"""The shared provider payload cases (``shared/payloads/cases``) and a runner for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.support.api import assert_subset, get_lead, lead_count, post_payload, wait_for_event
from tests.support.factories import Tenant, make_lead_type, make_tenant

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = REPO_ROOT.parent / "shared" / "payloads" / "cases"


def case_files() -> list[Path]:
    """Every case file, sorted by name (empty when shared/ is not beside the repository)."""
    return sorted(CASES_DIR.glob("*.json")) if CASES_DIR.is_dir() else []


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
        answer = post_payload(
            client,
            own.config_id,
            step["post"],
            step["body"],
            tokens[step.get("token", "own")],
            content_type=step.get("content_type", "application/json"),
            headers=step.get("headers"),
            query=step.get("query", ""),
        )
        body = answer.get_json(silent=True) or {}
        if "http" in expect:
            assert answer.status_code == expect["http"], f"{where}: {answer.status_code} {body}"
        if step["post"] == "dry-run":
            event_ids.append(None)
            assert answer.status_code == 200, f"{where}: {body}"
            assert body["would"] == expect["would"], f"{where}: {body}"
            if "lead_ref" in expect:
                assert body["lead_id"] == lead_refs[expect["lead_ref"]], f"{where}: {body}"
            continue
        if answer.status_code != 202:
            event_ids.append(None)
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
