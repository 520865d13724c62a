"""The console's menu: one entry per page, in order. A new page adds its line here."""

from __future__ import annotations

from typing import Any

from console.blueprint import bp

# (endpoint, label). Replays and uploads join this list when their services exist.
MENU: list[tuple[str, str]] = [
    ("console.overview", "Overview"),
    ("console.events", "Events"),
    ("console.leads", "Leads"),
    ("console.configs", "Configs"),
    ("console.tokens", "Tokens"),
]


@bp.context_processor
def menu() -> dict[str, Any]:
    """The menu, for the layout."""
    return {"menu": MENU}
