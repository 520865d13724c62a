"""The console's menu: one entry per page, in order. A new page adds its line here."""

from __future__ import annotations

from typing import Any

from console.blueprint import bp

# (endpoint, label).
MENU: list[tuple[str, str]] = [
    ("console.overview", "Overview"),
    ("console.events", "Events"),
    ("console.replays", "Replays"),
    ("console.leads", "Leads"),
    ("console.configs", "Configs"),
    ("console.uploads", "Uploads"),
    ("console.tokens", "Tokens"),
]


@bp.context_processor
def menu() -> dict[str, Any]:
    """The menu, for the layout."""
    return {"menu": MENU}
