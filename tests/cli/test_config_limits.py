"""Endpoint limits through ``leadgate config create/update``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke, only_line


def _mapping(tmp_path: Path) -> str:
    path = tmp_path / "mapping.json"
    path.write_text("{}")
    return str(path)


def test_limits_are_set_shown_and_cleared(invoke: Invoke, campaign_id: int, tmp_path: Path) -> None:
    config_id = only_line(
        invoke(
            "config",
            "create",
            "--campaign",
            str(campaign_id),
            "--mapping",
            _mapping(tmp_path),
            "--max-body-bytes",
            "1000",
            "--rate-limit",
            "2.5",
            "--rate-burst",
            "5",
        )
    )
    shown = json.loads(invoke("config", "show", config_id).stdout)
    assert shown["max_body_bytes"] == 1000
    assert shown["rate_limit_per_second"] == 2.5
    assert shown["rate_limit_burst"] == 5
    invoke("config", "update", config_id, "--rate-limit", "none", "--rate-burst", "none")
    cleared = json.loads(invoke("config", "show", config_id).stdout)
    assert cleared["rate_limit_per_second"] is None and cleared["rate_limit_burst"] is None
    assert cleared["max_body_bytes"] == 1000
    assert cleared["version"] == shown["version"] + 1


def test_bad_limits_are_refused(invoke: Invoke, campaign_id: int, tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    base = ("config", "create", "--campaign", str(campaign_id), "--mapping", mapping)
    assert "positive" in invoke(*base, "--rate-limit", "0", exit_code=2).stderr
    assert "not a number" in invoke(*base, "--max-body-bytes", "big", exit_code=2).stderr
    assert "whole number" in invoke(*base, "--max-body-bytes", "1.5", exit_code=2).stderr
