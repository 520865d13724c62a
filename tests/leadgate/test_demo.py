"""The demo rows are created once and reused; the curl command posts the nested demo lead."""

from __future__ import annotations

import shlex
from pathlib import Path

from sqlalchemy.orm import Session

from leadgate.cli.records import find_token, revoke_token
from leadgate.demo import DEMO_MAPPING, DEMO_PAYLOAD, curl_command, ensure_demo
from models import IngestionConfig
from worker.ingest.mapping import compile_mapping


def test_demo_mapping_compiles() -> None:
    compile_mapping(DEMO_MAPPING)


def test_ensure_demo_is_idempotent(db_session: Session, tmp_path: Path) -> None:
    first = ensure_demo(db_session, tmp_path)
    second = ensure_demo(db_session, tmp_path)

    assert second == first
    config = db_session.get(IngestionConfig, first.config_id)
    assert config is not None
    assert config.mapping == DEMO_MAPPING
    assert config.campaign_id == first.campaign_id
    assert (tmp_path / "demo-token").stat().st_mode & 0o077 == 0


def test_a_revoked_demo_token_is_replaced(db_session: Session, tmp_path: Path) -> None:
    first = ensure_demo(db_session, tmp_path)
    revoke_token(find_token(db_session, first.token))

    second = ensure_demo(db_session, tmp_path)

    assert second.token != first.token
    assert second.config_id == first.config_id


def test_curl_command_posts_the_payload_with_the_token(db_session: Session, tmp_path: Path) -> None:
    demo = ensure_demo(db_session, tmp_path)

    argv = shlex.split(curl_command("http://127.0.0.1:8000", demo))

    assert argv[0] == "curl"
    assert f"http://127.0.0.1:8000/api/lead-ingestion/{demo.config_id}/upsert/?wait=10" in argv
    assert f"Authorization: Token {demo.token}" in argv
    assert argv[argv.index("-d") + 1].startswith('{"lead": ')
    assert DEMO_PAYLOAD["contact"]["phone"] in argv[argv.index("-d") + 1]


def test_an_outdated_demo_config_is_brought_up_to_date(db_session: Session, tmp_path: Path) -> None:
    first = ensure_demo(db_session, tmp_path)
    config = db_session.get(IngestionConfig, first.config_id)
    assert config is not None
    config.mapping = {"fields": {"phone_number": "tel"}}
    config.active = False

    ensure_demo(db_session, tmp_path)

    assert config.mapping == DEMO_MAPPING
    assert config.active is True
