"""``leadgate lead-type``: create (printing the id alone), list, show and update; one default
per organization; a config's default lead type must be one of its organization's."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionConfig, LeadType
from tests.cli.conftest import Invoke, only_line

FIELDS = [{"key": "loan", "label": "Loan", "helpText": "USD", "type": "number", "required": True}]


def _create(invoke: Invoke, organization_id: int, campaign_id: int, *extra: str) -> int:
    args = ["lead-type", "create", "--org", str(organization_id), "--campaign", str(campaign_id)]
    return int(only_line(invoke(*args, *extra)))


def test_create_prints_the_id_and_stores_the_fields(
    invoke: Invoke, organization_id: int, campaign_id: int, engine: Engine, tmp_path: Path
) -> None:
    fields_file = tmp_path / "fields.json"
    fields_file.write_text(json.dumps(FIELDS))

    lead_type_id = _create(
        invoke, organization_id, campaign_id, "--fields", str(fields_file), " Mortgage "
    )

    with Session(engine) as session:
        lead_type = session.get(LeadType, lead_type_id)
        assert lead_type is not None
        assert (lead_type.name, lead_type.campaign_id) == ("Mortgage", campaign_id)
        assert lead_type.lead_metadata_fields == FIELDS and not lead_type.is_default
    shown = json.loads(invoke("lead-type", "show", str(lead_type_id)).stdout)
    assert shown["lead_metadata_fields"] == FIELDS and shown["organization"] == organization_id


def test_one_default_per_organization(
    invoke: Invoke, organization_id: int, campaign_id: int, engine: Engine
) -> None:
    first = _create(invoke, organization_id, campaign_id, "--default", "First")
    second = _create(invoke, organization_id, campaign_id, "--default", "Second")
    with Session(engine) as session:
        defaults = session.scalars(
            select(LeadType.id).where(
                LeadType.organization_id == organization_id, LeadType.is_default
            )
        ).all()
    assert defaults == [second]

    invoke("lead-type", "update", str(first), "--default", "--name", "Renamed")
    listing = invoke("lead-type", "list", "--org", str(organization_id)).stdout.splitlines()
    assert listing[0].split()[:5] == ["ID", "ORG", "CAMPAIGN", "NAME", "DEFAULT"]
    rows = {line.split()[0]: line.split() for line in listing[1:]}
    assert rows[str(first)][3:5] == ["Renamed", "yes"]
    assert rows[str(second)][4] == "no"


def test_bad_fields_and_foreign_campaigns_are_refused(
    invoke: Invoke, organization_id: int, campaign_id: int, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"key": "loan", "type": "money"}]))
    refused = invoke(
        "lead-type", "create", "--org", str(organization_id), "--campaign", str(campaign_id),
        "--fields", str(bad), "X", exit_code=1,
    )  # fmt: skip
    assert "lead_metadata_fields[0].type" in refused.stderr and refused.stdout == ""

    other_org = only_line(invoke("org", "create", "other"))
    foreign = invoke(
        "lead-type", "create", "--org", other_org, "--campaign", str(campaign_id), "X",
        exit_code=1,
    )  # fmt: skip
    assert f"no campaign with id {campaign_id} in organization {other_org}" in foreign.stderr


def test_a_config_default_lead_type_must_be_the_organizations(
    invoke: Invoke, organization_id: int, campaign_id: int, tmp_path: Path
) -> None:
    mapping = tmp_path / "m.json"
    mapping.write_text("{}")
    other_org = only_line(invoke("org", "create", "other"))
    other_campaign = only_line(invoke("campaign", "create", "--org", other_org, "c"))
    theirs = _create(invoke, int(other_org), int(other_campaign), "Theirs")

    refused = invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", str(mapping),
        "--lead-type", str(theirs), exit_code=1,
    )  # fmt: skip
    assert f"no lead type with id {theirs} in organization {organization_id}" in refused.stderr

    config_id = only_line(
        invoke("config", "create", "--campaign", str(campaign_id), "--mapping", str(mapping))
    )
    invoke("config", "update", config_id, "--lead-type", str(theirs), exit_code=1)
    mine = _create(invoke, organization_id, campaign_id, "Mine")
    invoke("config", "update", config_id, "--lead-type", str(mine))
    assert json.loads(invoke("config", "show", config_id).stdout)["lead_type"] == mine


def test_the_standard_api_config_cannot_be_changed(
    invoke: Invoke, organization_id: int, engine: Engine
) -> None:
    with Session(engine) as session:
        config = IngestionConfig(
            organization_id=organization_id, name="standard lead API", standard_api=True
        )
        session.add(config)
        session.commit()
        config_id = str(config.id)
    refused = invoke("config", "update", config_id, "--name", "mine now", exit_code=1)
    assert "standard lead API's own" in refused.stderr
