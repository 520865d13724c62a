"""Two mappings side by side: unchanged lines pair up, changes are marked on their side."""

from __future__ import annotations

from console.diff import side_by_side


def test_unchanged_mappings_have_only_same_rows() -> None:
    rows = side_by_side({"fields": {"email": "email"}}, {"fields": {"email": "email"}})
    assert {row.change for row in rows} == {"same"}


def test_a_changed_rule_is_one_changed_row() -> None:
    rows = side_by_side({"fields": {"email": "mail"}}, {"fields": {"email": "email"}})
    changed = [row for row in rows if row.change != "same"]
    assert [(row.left, row.right, row.change) for row in changed] == [
        ('    "email": "mail"', '    "email": "email"', "changed")
    ]


def test_an_added_rule_is_on_the_right_only() -> None:
    rows = side_by_side({"fields": {}}, {"fields": {"email": "email"}})
    added = [row for row in rows if row.change in ("added", "changed")]
    assert added and all(row.right is not None for row in added)
    assert any('"email": "email"' in (row.right or "") for row in added)


def test_key_order_is_not_a_change() -> None:
    old = {"fields": {"a": "x", "b": "y"}}
    new = {"fields": {"b": "y", "a": "x"}}
    assert {row.change for row in side_by_side(old, new)} == {"same"}
