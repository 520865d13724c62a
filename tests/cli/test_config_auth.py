"""``leadgate config create/update`` with provider authentication: flags, secrets at rest, and
rotation with a grace period."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.encryption import decrypt_secret
from common.settings import get_settings
from common.tokens import hash_token
from models import IngestionConfig
from models.base import utcnow
from models.enums import AuthMode
from tests.cli.conftest import Invoke, only_line
from tests.cli.test_configs import write_json

KEY = "gk-7f3a9c1e5b2d4f60"
SECRET = "tf-signing-secret-123"


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """LEADGATE_SECRET_KEY set for the CLI (settings re-read)."""
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEADGATE_SECRET_KEY", key)
    get_settings.cache_clear()
    yield key
    monkeypatch.delenv("LEADGATE_SECRET_KEY")
    get_settings.cache_clear()


def _config(engine: Engine, config_id: str) -> IngestionConfig:
    with Session(engine, expire_on_commit=False) as session:
        config = session.get(IngestionConfig, uuid.UUID(config_id))
        assert config is not None
        return config


def _create(invoke: Invoke, campaign_id: int, tmp_path: Path, *args: str, exit_code: int = 0):
    mapping = write_json(tmp_path, "m.json", {})
    return invoke(
        "config", "create", "--campaign", str(campaign_id), "--mapping", mapping, *args,
        exit_code=exit_code,
    )  # fmt: skip


def test_payload_key_mode_stores_the_path_and_only_a_hash_of_the_key(
    invoke: Invoke, campaign_id: int, tmp_path: Path, engine: Engine
) -> None:
    result = _create(
        invoke, campaign_id, tmp_path,
        "--auth", "payload-key", "--payload-key-path", "google_key", "--payload-key", KEY,
    )  # fmt: skip

    config = _config(engine, only_line(result))
    assert config.auth_mode is AuthMode.payload_key
    assert config.payload_key_path == "google_key"
    assert config.payload_key_hash == hash_token(KEY)
    assert KEY not in result.output


def test_signature_mode_encrypts_the_secret_with_the_service_key(
    invoke: Invoke, campaign_id: int, tmp_path: Path, engine: Engine, secret_key: str
) -> None:
    result = _create(
        invoke, campaign_id, tmp_path,
        "--auth", "signature", "--signature-header", "X-Hub-Signature-256",
        "--signature-encoding", "hex", "--signature-prefix", "sha256=", "--signing-secret", SECRET,
    )  # fmt: skip

    config = _config(engine, only_line(result))
    assert config.signing_secret is not None
    assert SECRET not in config.signing_secret
    assert decrypt_secret(config.signing_secret, (secret_key,)) == SECRET.encode()
    assert (config.signature_header, config.signature_encoding, config.signature_prefix) == (
        "X-Hub-Signature-256", "hex", "sha256=",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--auth", "payload-key", "--payload-key-path", "google_key"], "needs --payload-key"),
        (["--auth", "payload-key", "--payload-key-path", "k", "--payload-key", "short"],
         "at least 16 characters"),
        (["--auth", "payload-key", "--payload-key-path", "a..b", "--payload-key", KEY],
         "--payload-key-path"),
        (["--auth", "signature", "--signing-secret", SECRET], "needs --signature-header"),
        (["--payload-key", KEY], "do not go with --auth token"),
        (["--auth", "token", "--open"], "contradicts"),
        (["--auth", "signature", "--signature-header", "X-Sig", "--signing-secret", SECRET],
         "LEADGATE_SECRET_KEY is not set"),
    ],
    ids=["no-key", "short-key", "bad-path", "no-header", "key-on-token", "contradiction",
         "no-service-key"],
)  # fmt: skip
def test_incomplete_or_misplaced_credentials_are_refused(
    invoke: Invoke, campaign_id: int, tmp_path: Path, args: list[str], message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("LEADGATE_SECRET_KEY", raising=False)
    get_settings.cache_clear()

    result = _create(
        invoke, campaign_id, tmp_path, *args, exit_code=2 if "contradicts" in message else 1
    )

    assert message in result.output
    assert SECRET not in result.output


def test_a_new_key_or_secret_keeps_the_old_one_for_the_grace_period(
    invoke: Invoke, campaign_id: int, tmp_path: Path, engine: Engine, secret_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("LEADGATE_SECRET_GRACE_HOURS", "2")
    get_settings.cache_clear()
    config_id = only_line(_create(
        invoke, campaign_id, tmp_path,
        "--auth", "payload-key", "--payload-key-path", "google_key", "--payload-key", KEY,
    ))  # fmt: skip

    invoke("config", "update", config_id, "--payload-key", "gk-new-new-new-new-new")

    config = _config(engine, config_id)
    assert config.payload_key_hash == hash_token("gk-new-new-new-new-new")
    assert config.previous_payload_key_hash == hash_token(KEY)
    assert config.previous_secret_expires_time is not None
    left = config.previous_secret_expires_time - utcnow()
    assert dt.timedelta(hours=1, minutes=59) < left <= dt.timedelta(hours=2)
    assert config.version == 2

    invoke(
        "config", "update", config_id, "--auth", "signature", "--signature-header", "X-Sig",
        "--signing-secret", SECRET,
    )  # fmt: skip
    invoke("config", "update", config_id, "--signing-secret", "tf-second-secret")
    rotated = _config(engine, config_id)
    assert rotated.previous_signing_secret is not None
    assert decrypt_secret(rotated.previous_signing_secret, (secret_key,)) == SECRET.encode()
    assert decrypt_secret(rotated.signing_secret or "", (secret_key,)) == b"tf-second-secret"


def test_config_show_names_the_credential_settings_but_no_secret(
    invoke: Invoke, campaign_id: int, tmp_path: Path, secret_key: str
) -> None:
    config_id = only_line(_create(
        invoke, campaign_id, tmp_path,
        "--auth", "signature", "--signature-header", "Typeform-Signature",
        "--signature-prefix", "sha256=", "--signing-secret", SECRET,
    ))  # fmt: skip

    shown = invoke("config", "show", config_id).stdout

    assert '"auth": "signature"' in shown
    assert '"signature_header": "Typeform-Signature"' in shown
    assert '"signature_encoding": "base64"' in shown
    assert SECRET not in shown and "gAAAA" not in shown


def test_config_create_from_a_template_takes_its_mapping_and_auth(
    invoke: Invoke, campaign_id: int, engine: Engine
) -> None:
    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--template", "google-ads",
        "--payload-key", KEY,
    )  # fmt: skip

    config = _config(engine, only_line(result))
    assert config.name == "Google Ads lead form"
    assert config.auth_mode is AuthMode.payload_key
    assert config.payload_key_path == "google_key"
    assert config.mapping["idempotency_key"] == "lead_id"


def test_a_template_with_another_auth_mode_drops_the_templates_settings(
    invoke: Invoke, campaign_id: int, engine: Engine
) -> None:
    result = invoke(
        "config", "create", "--campaign", str(campaign_id), "--template", "typeform", "--open"
    )  # fmt: skip

    config = _config(engine, only_line(result))
    assert config.auth_mode is AuthMode.open
    assert config.signature_header is None


def test_config_create_needs_a_mapping_or_a_template_and_names_the_templates(
    invoke: Invoke, campaign_id: int, tmp_path: Path
) -> None:
    neither = invoke("config", "create", "--campaign", str(campaign_id), exit_code=2)
    unknown = invoke(
        "config", "create", "--campaign", str(campaign_id), "--template", "nope", exit_code=2
    )

    assert "--mapping FILE or --template NAME" in neither.output
    assert "google-ads" in unknown.output


def test_config_templates_lists_them_and_prints_one(invoke: Invoke) -> None:
    listing = invoke("config", "templates").stdout
    one = invoke("config", "templates", "jotform").stdout

    assert "typeform" in listing and "signature" in listing
    assert '"rawRequest": "json"' in one
