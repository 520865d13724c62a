"""Two mappings side by side, line by line, as JSON a person reads."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DiffRow:
    """One row of the side-by-side view: left and right text and how they differ."""

    left: str | None
    right: str | None
    change: str  # "same", "changed", "removed", "added"


def _lines(mapping: dict[str, Any]) -> list[str]:
    return json.dumps(mapping, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def side_by_side(old: dict[str, Any], new: dict[str, Any]) -> list[DiffRow]:
    """The rows of ``old`` against ``new`` (keys sorted, so moved keys are not changes)."""
    left, right = _lines(old), _lines(new)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow(line, line, "same") for line in left[i1:i2]]
        elif tag == "delete":
            rows += [DiffRow(line, None, "removed") for line in left[i1:i2]]
        elif tag == "insert":
            rows += [DiffRow(None, line, "added") for line in right[j1:j2]]
        else:
            olds, news = left[i1:i2], right[j1:j2]
            for index in range(max(len(olds), len(news))):
                rows.append(
                    DiffRow(
                        olds[index] if index < len(olds) else None,
                        news[index] if index < len(news) else None,
                        "changed",
                    )
                )
    return rows
