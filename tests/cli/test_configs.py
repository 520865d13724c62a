"""``leadgate config``: create, show, list, update and test, with the mapping validated on save."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionConfig, Lead
from models.enums import AuthMode, EventAction, EventStatus
from tests.cli.conftest import Invoke, only_line
from tests.support.factories import make_event, make_tenant
from tests.support.leads import make_lead

NESTED_MAPPING: dict[str, Any] = {
    "fields": {
        "external_id": {"from": "lead.id", "type": "string"},
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
        "metadata.full_name": {"template": "{contact.first} {contact.last}"},
    }
}


def write_json(directory: Path, name: str, value: Any) -> str:
    path = directory / name
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return str(path)


def _lead_type(invoke: Invoke, organization_id: int, campaign_id: int) -> str:
    return only_line(
        invoke("lead-type", "create", "--org", str(organization_id), "--campaign",
               str(campaign_id), "Mortgage")
    )  # fmt: skip


def configs_in_campaign(engine: Engine, campaign_id: int) -> list[IngestionConfig]:
    with Session(engine) as session:
        query = select(IngestionConfig).where(IngestionConfig.campaign_id == campaign_id)
        return list(session.scalars(query))


def test_config_create_prints_only_the_uuid_and_stores_the_options(
    invoke: Invoke, campaign_id: int, organization_id: int, engine: Engine, tmp_path: Path
) -> None:
    mapping_file = write_json(tmp_path, "acme.json", NESTED_MAPPING)
    lead_type = _lead_type(invoke, organization_id, campaign_id)

    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", mapping_file,
        "--open", "--lead-type", lead_type, "--match", "email,phone_number",
        "--min-reengagement-days", "30",
    )  # fmt: skip

    config_id = uuid.UUID(only_line(result))
    with Session(engine) as session:
        config = session.get(IngestionConfig, config_id)
        assert config is not None
        assert config.organization_id == organization_id
        assert config.campaign_id == campaign_id
        assert config.name == "acme"
        assert config.mapping == NESTED_MAPPING
        assert config.auth_mode is AuthMode.open
        assert config.default_lead_type == int(lead_type)
        assert config.match_keys == ["email", "phone_number"]
        assert config.min_reengagement_days == 30
        assert config.active and config.version == 1


def test_config_create_defaults(invoke: Invoke, campaign_id: int, tmp_path: Path) -> None:
    mapping_file = write_json(tmp_path, "m.json", {})

    config_id = only_line(
        invoke("config", "create", "--campaign", str(campaign_id), "--mapping", mapping_file,
               "--name", "standard format")
    )  # fmt: skip

    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["name"] == "standard format"
    assert shown["auth"] == "token"
    assert shown["match"] == ["external_id", "phone_number", "email"]
    assert shown["lead_type"] is None
    assert shown["min_reengagement_days"] is None


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        pytest.param({"email": "contact.[email"}, "fields.email", id="bad-jmespath"),
        pytest.param({"favorite_color": "profile.color"}, "fields.favorite_color", id="bad-target"),
        pytest.param(
            {"metadata.loan": {"from": "loan.amount", "type": "money"}},
            "fields.metadata.loan",
            id="bad-type",
        ),
    ],
)
def test_config_create_refuses_a_broken_mapping(
    invoke: Invoke, campaign_id: int, engine: Engine, tmp_path: Path, fields: dict[str, Any],
    rule: str,
) -> None:  # fmt: skip
    mapping = {"fields": {"phone_number": "contact.phone", **fields}}
    mapping_file = write_json(tmp_path, "broken.json", mapping)

    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", mapping_file, exit_code=1
    )

    assert result.stdout == ""
    assert rule in result.stderr
    assert "fields.phone_number" not in result.stderr
    assert "Traceback" not in result.stderr
    assert configs_in_campaign(engine, campaign_id) == []


def test_every_problem_of_a_mapping_is_reported(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    mapping = {
        "fields": {
            "email": "contact.[email",
            "favorite_color": "x",
            "metadata.loan": {"from": "loan", "type": "money"},
        }
    }
    mapping_file = write_json(tmp_path, "broken.json", mapping)

    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", mapping_file, exit_code=1
    )

    for rule in ("fields.email", "fields.favorite_color", "fields.metadata.loan"):
        assert rule in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "cannot read the mapping file", id="missing"),
        pytest.param("{not json", "is not valid JSON", id="not-json"),
        pytest.param("[1, 2]", "must hold a JSON object", id="not-an-object"),
    ],
)
def test_config_create_refuses_a_bad_file(
    invoke: Invoke, campaign_id: int, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "mapping.json"
    if content is not None:
        path.write_text(content)

    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", str(path), exit_code=1
    )

    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_config_create_refuses_unknown_match_keys(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    mapping_file = write_json(tmp_path, "m.json", {})

    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", mapping_file,
        "--match", "email,zip", exit_code=2,
    )  # fmt: skip

    assert "unknown match key zip" in result.stderr


def test_config_create_with_an_unknown_campaign(invoke: Invoke, tmp_path: Path) -> None:
    mapping_file = write_json(tmp_path, "m.json", {})

    result = invoke("config", "create", "--campaign", "987654", "--mapping", mapping_file,
                    exit_code=1)  # fmt: skip

    assert "no campaign with id 987654" in result.stderr


def _create(
    invoke: Invoke, campaign_id: int, tmp_path: Path, mapping: dict[str, Any] | None = None
) -> str:
    mapping_file = write_json(tmp_path, "m.json", NESTED_MAPPING if mapping is None else mapping)
    return only_line(
        invoke("config", "create", "--campaign", str(campaign_id), "--mapping", mapping_file)
    )


def test_config_update_bumps_the_version(
    invoke: Invoke, campaign_id: int, organization_id: int, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)
    new_mapping = write_json(tmp_path, "new.json", {"fields": {"phone_number": "tel"}})
    lead_type = _lead_type(invoke, organization_id, campaign_id)

    result = invoke(
        "config", "update", config_id, "--mapping", new_mapping, "--inactive", "--open",
        "--lead-type", lead_type, "--match", "phone_number", "--min-reengagement-days", "14",
    )  # fmt: skip

    assert result.stdout == ""
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["version"] == 2
    assert shown["mapping"] == {"fields": {"phone_number": "tel"}}
    assert shown["active"] is False
    assert shown["auth"] == "open"
    assert shown["lead_type"] == int(lead_type)
    assert shown["match"] == ["phone_number"]
    assert shown["min_reengagement_days"] == 14

    invoke("config", "update", config_id, "--lead-type", "none", "--min-reengagement-days", "none")
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["version"] == 3
    assert shown["lead_type"] is None
    assert shown["min_reengagement_days"] is None


def test_config_update_without_a_change_keeps_the_version(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)

    result = invoke("config", "update", config_id, "--active", "--token-auth")

    assert "nothing to change" in result.stderr
    assert json.loads(invoke("config", "show", config_id).stdout)["version"] == 1


def test_config_update_refuses_a_broken_mapping_and_changes_nothing(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)
    broken = write_json(tmp_path, "broken.json", {"fields": {"email": {"from": "a", "type": "x"}}})

    result = invoke("config", "update", config_id, "--mapping", broken, "--inactive", exit_code=1)

    assert "fields.email" in result.stderr
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["version"] == 1
    assert shown["active"] is True
    assert shown["mapping"] == NESTED_MAPPING


def test_config_list_filters_by_organization(
    invoke: Invoke, campaign_id: int, organization_id: int, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)

    listing = invoke("config", "list", "--org", str(organization_id)).stdout.splitlines()

    assert listing[0].split()[:2] == ["ID", "ORG"]
    assert [line.split()[0] for line in listing[1:]] == [config_id]


def test_config_test_prints_the_dry_run(invoke: Invoke, campaign_id: int, tmp_path: Path) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)
    payload = {
        "lead": {"id": 42},
        "contact": {"phone": "(415) 555-2671", "email": "A@Example.com", "first": "Jo",
                    "last": "Ng"},
    }  # fmt: skip
    payload_file = write_json(tmp_path, "payload.json", payload)

    answer = json.loads(invoke("config", "test", config_id, payload_file).stdout)

    assert answer["would"] == "create"
    assert answer["errors"] == []
    assert answer["lead"]["phone_number"] == "+14155552671"
    assert answer["lead"]["external_id"] == "42"
    assert answer["lead"]["metadata"]["full_name"] == "Jo Ng"


def test_config_test_reports_invalid_fields(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)

    result = invoke(
        "config", "test", config_id, "-", stdin='{"contact": {"phone": "123"}}', exit_code=1
    )
    answer = json.loads(result.stdout)

    assert answer["would"] == "fail"
    assert [error["field"] for error in answer["errors"]] == ["phone_number"]


def test_config_test_reads_form_files(invoke: Invoke, campaign_id: int, tmp_path: Path) -> None:
    config_id = _create(invoke, campaign_id, tmp_path, {"fields": {}})
    form = write_json(tmp_path, "lead.form", "phone_number=%28415%29+555-2671&email=A%40b.co")

    answer = json.loads(invoke("config", "test", config_id, form).stdout)
    forced = invoke("config", "test", config_id, form, "--content-type", "json", exit_code=1)

    assert answer["would"] == "create"
    assert answer["lead"]["phone_number"] == "+14155552671"
    assert answer["lead"]["email"] == "a@b.co"
    assert "not valid JSON" in forced.stderr


def test_config_test_tries_a_candidate_mapping_without_saving_it(
    invoke: Invoke, campaign_id: int, engine: Engine, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)
    payload_file = write_json(tmp_path, "flat.json", {"tel": "(415) 555-2671"})
    candidate = write_json(tmp_path, "flat-mapping.json", {"fields": {"phone_number": "tel"}})

    with_saved = invoke("config", "test", config_id, payload_file, exit_code=1)
    with_candidate = invoke("config", "test", config_id, payload_file, "--mapping", candidate)

    assert json.loads(with_saved.stdout)["would"] == "fail"
    assert json.loads(with_candidate.stdout)["lead"]["phone_number"] == "+14155552671"
    with Session(engine) as session:
        config = session.get(IngestionConfig, uuid.UUID(config_id))
        assert config is not None and config.mapping == NESTED_MAPPING
    broken = write_json(tmp_path, "broken.json", {"fields": {"email": "a.[b"}})
    refused = invoke("config", "test", config_id, payload_file, "--mapping", broken, exit_code=1)
    assert "fields.email" in refused.stderr


def test_config_test_answers_for_the_create_endpoint(
    invoke: Invoke, campaign_id: int, organization_id: int, engine: Engine, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path, {"fields": {}})
    with Session(engine) as session:
        lead = Lead(
            organization_id=organization_id,
            campaign_id=campaign_id,
            phone_number="+14155552671",
            lead_metadata={},
        )
        session.add(lead)
        session.commit()
        lead_id = lead.id
    payload_file = write_json(tmp_path, "p.json", {"phone_number": "4155552671"})

    as_create = invoke("config", "test", config_id, payload_file, "--endpoint", "create")
    as_upsert = invoke("config", "test", config_id, payload_file)
    bad = invoke("config", "test", config_id, payload_file, "--endpoint", "delete", exit_code=2)

    assert json.loads(as_create.stdout)["would"] == "duplicate"
    assert json.loads(as_create.stdout)["lead_id"] == lead_id
    assert json.loads(as_upsert.stdout)["would"] == "update"
    assert "delete" in bad.stderr


def test_unknown_config_ids_are_clear_errors(invoke: Invoke, tmp_path: Path) -> None:
    unknown = str(uuid.uuid4())
    payload_file = write_json(tmp_path, "p.json", {})
    for args in (("show", unknown), ("update", unknown, "--inactive"),
                 ("test", unknown, payload_file)):  # fmt: skip
        result = invoke("config", *args, exit_code=1)
        assert f"no ingestion config with id {unknown}" in result.stderr

    result = invoke("config", "show", "not-a-uuid", exit_code=2)
    assert "not-a-uuid" in result.stderr


def test_nothing_is_saved_for_a_refused_config(
    invoke: Invoke, campaign_id: int, engine: Engine, tmp_path: Path
) -> None:
    broken = write_json(tmp_path, "broken.json", {"fields": {"email": "a.[b"}})
    with Session(engine) as session:
        before = session.scalar(select(func.count()).select_from(IngestionConfig))

    invoke("config", "create", "--campaign", str(campaign_id), "--mapping", broken, exit_code=1)

    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(IngestionConfig)) == before


def test_mapping_versions_are_listed_shown_and_restored(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    config_id = _create(invoke, campaign_id, tmp_path)
    new_mapping = write_json(tmp_path, "new.json", {"fields": {"phone_number": "tel"}})
    saved = invoke(
        "config", "update", config_id, "--mapping", new_mapping, "--message", "provider renamed"
    )
    assert "mapping version 2" in saved.stderr

    listing = invoke("config", "versions", config_id).stdout.splitlines()
    assert [line.split()[0] for line in listing] == ["VERSION", "2", "1"]
    assert "provider renamed" in listing[1] and " cli" in listing[1]
    first = json.loads(invoke("config", "versions", config_id, "1").stdout)
    assert first["mapping"] == NESTED_MAPPING

    assert only_line(invoke("config", "restore", config_id, "1")) == "3"
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["mapping"] == NESTED_MAPPING and shown["mapping_version"] == 3
    refused = invoke("config", "restore", config_id, "3", exit_code=1)
    assert "nothing to restore" in refused.stderr
    assert (
        "no mapping version 8" in invoke("config", "versions", config_id, "8", exit_code=1).stderr
    )


def test_a_mapping_that_would_fail_events_needs_yes(
    invoke: Invoke, committed_session: Session, tmp_path: Path
) -> None:
    tenant = make_tenant(committed_session, {"fields": {"phone_number": "contact.phone"}})
    lead = make_lead(committed_session, tenant, phone_number="+12024561111")
    make_event(
        committed_session, tenant, {"contact": {"phone": "2024561111"}},
        status=EventStatus.done, action=EventAction.created, lead_id=lead.id, mapping_version=1,
    )  # fmt: skip
    committed_session.commit()
    config_id = str(tenant.config_id)
    mobile = write_json(tmp_path, "mobile.json", {"fields": {"phone_number": "contact.mobile"}})

    report = json.loads(invoke("config", "impact", config_id, "--mapping", mobile).stdout)
    assert report["new_failures"] == 1

    refused = invoke("config", "update", config_id, "--mapping", mobile, exit_code=1)
    assert "1 would now fail (phone_number: " in refused.stderr
    assert "--yes" in refused.stderr
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["mapping_version"] == 1

    invoke("config", "update", config_id, "--mapping", mobile, "--yes")
    assert json.loads(invoke("config", "show", config_id).stdout)["mapping_version"] == 2
