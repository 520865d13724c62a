"""The config service: one set of rules for the CLI and the HTTP API; mappings versioned."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionConfig, MappingVersion
from tests.support.factories import make_tenant
from worker.configs import (
    Author,
    ConfigError,
    ConfigOptions,
    MappingRefused,
    check_limits,
    create_config,
    update_config,
)
from worker.mapping_versions import get_version, restore_version, versions_of

PHONE = {"fields": {"phone_number": "contact.phone"}}
MOBILE = {"fields": {"phone_number": "contact.mobile"}}
TOKEN = Author("token 7")


def _versions(session: Session, config: IngestionConfig) -> list[tuple[int, dict[str, Any]]]:
    return [(v.number, v.mapping) for v in session.scalars(versions_of(config))]


def _new(session: Session, **options: Any) -> IngestionConfig:
    tenant = make_tenant(session)
    return create_config(session, tenant.campaign_id, ConfigOptions(**options), TOKEN)


def test_a_new_config_saves_its_mapping_as_version_1(db_session: Session) -> None:
    config = _new(db_session, mapping=PHONE, message="first")
    [version] = db_session.scalars(versions_of(config))
    assert (version.number, version.mapping, version.saved_by) == (1, PHONE, "token 7")
    assert version.message == "first" and config.mapping_version == 1


def test_each_mapping_change_is_the_next_version_and_other_changes_are_not(
    db_session: Session,
) -> None:
    config = _new(db_session, mapping=PHONE)
    assert update_config(config, ConfigOptions(name="renamed"), TOKEN) == ["name"]
    assert update_config(config, ConfigOptions(mapping=PHONE), TOKEN) == []
    changed = update_config(config, ConfigOptions(mapping=MOBILE, message="renamed field"), TOKEN)
    assert changed == ["mapping"]
    assert config.mapping_version == 2
    assert _versions(db_session, config) == [(2, MOBILE), (1, PHONE)]
    assert get_version(db_session, config, 2).message == "renamed field"


def test_a_restore_is_a_new_version_with_the_old_mapping(db_session: Session) -> None:
    config = _new(db_session, mapping=PHONE)
    update_config(config, ConfigOptions(mapping=MOBILE), TOKEN)
    restored = restore_version(db_session, config, 1, TOKEN)
    assert (restored.number, restored.mapping, restored.message) == (3, PHONE, "restored version 1")
    assert config.mapping == PHONE and config.mapping_version == 3
    with pytest.raises(ConfigError, match="nothing to restore"):
        restore_version(db_session, config, 3, TOKEN)
    with pytest.raises(ConfigError, match="no mapping version 9"):
        restore_version(db_session, config, 9, TOKEN)


def test_a_refused_change_writes_nothing(db_session: Session) -> None:
    config = _new(db_session, mapping=PHONE)
    bad = ConfigOptions(
        name="kept?", mapping={"fields": {"phone_number": {"from": "a", "value": 1}}}
    )
    with pytest.raises(MappingRefused) as refused:
        update_config(config, bad, TOKEN)
    assert any("exactly one of from, value, template" in p for p in refused.value.problems)
    assert config.name != "kept?" and config.mapping_version == 1
    count = db_session.scalars(
        select(MappingVersion).where(MappingVersion.config_id == config.id)
    ).all()
    assert len(count) == 1


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"name": " "}, "name", "must not be empty"),
        ({"name": "a\x00b"}, "name", "without NUL"),
        ({"match_keys": ["email", "zip"]}, "match", "unknown match key zip"),
        ({"match_keys": ["email", "email"]}, "match", "names a key twice"),
        ({"lead_type": 2**31}, "lead_type", "whole number from 0"),
        ({"min_reengagement_days": -1}, "min_reengagement_days", "whole number from 0"),
        ({"limits": {"max_body_bytes": 0}}, "max_body_bytes", "positive"),
        ({"limits": {"rate_limit_burst": 1.5}}, "rate_limit_burst", "whole number"),
        ({"limits": {"rate_limit_per_second": float("inf")}}, "rate_limit_per_second", "positive"),
        ({"mapping": {"fields": {"email": "a\x00"}}}, "mapping", "NUL"),
        ({"message": "x" * 1001, "mapping": MOBILE}, "message", "at most 1000"),
    ],
)
def test_refusals_name_the_field(
    db_session: Session, options: dict[str, Any], field: str, words: str
) -> None:
    config = _new(db_session, mapping=PHONE)
    with pytest.raises(ConfigError) as refused:
        update_config(config, ConfigOptions(**options), TOKEN)
    assert refused.value.field == field
    assert words in str(refused.value)


def test_a_campaign_of_another_organization_is_not_found(db_session: Session) -> None:
    mine, theirs = make_tenant(db_session), make_tenant(db_session)
    with pytest.raises(ConfigError, match=f"no campaign with id {theirs.campaign_id}"):
        create_config(db_session, theirs.campaign_id, ConfigOptions(), TOKEN, mine.organization_id)


def test_limits_are_converted_to_their_column_types() -> None:
    assert check_limits({"max_body_bytes": 2048.0, "rate_limit_per_second": 5}) == {
        "max_body_bytes": 2048,
        "rate_limit_per_second": 5.0,
    }
