"""Imports point one way: operator tools, then the webhook, then the worker, then the ground."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A package may import packages of a lower rank only (and itself); a lazy import inside a
# function counts the same as one at the top of a module.
RANKS = {
    "leadgate": 3,
    "console": 3,
    "webhook": 2,
    "worker": 1,
    "celeryconfig": 0,
    "models": 0,
    "common": 0,
}
# The ground floor stands alone: the shared ground and the schema import none of each other's
# neighbours, and the schema takes its database URL from its caller, never from the settings.
ALLOWED_SIDEWAYS = {"celeryconfig": {"common"}, "models": set(), "common": set()}


def _sources(package: str) -> list[Path]:
    single = ROOT / f"{package}.py"
    return [single] if single.exists() else sorted((ROOT / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(RANKS)


def _wrong_way(package: str) -> list[str]:
    rank = RANKS[package]
    wrong = []
    for path in _sources(package):
        for target in sorted(_imported_packages(path) - {package}):
            allowed = RANKS[target] < rank or (
                RANKS[target] == rank and target in ALLOWED_SIDEWAYS.get(package, set())
            )
            if not allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {target}")
    return wrong


@pytest.mark.parametrize("package", sorted(RANKS))
def test_imports_point_down(package: str) -> None:
    assert _wrong_way(package) == []


def test_the_check_sees_a_wrong_way_import(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text("def late():\n    from leadgate.cli import main\n    return main\n")
    assert _imported_packages(source) == {"leadgate"}
