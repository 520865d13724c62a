"""Provider templates: a tested mapping and the authentication each lead source supports.

Each template is a data file in this package (``NAME.json``): a title and description, the auth
mode with its non-secret settings (a header name, a key path), what an operator must set up on
the provider's side (``needs``), and the mapping a config starts from.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

_SUFFIX = ".json"


class TemplateNotFound(LookupError):
    """No template has this name; the message lists the names there are."""


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in resources.files(__name__).iterdir():
        if entry.name.endswith(_SUFFIX):
            found[entry.name.removesuffix(_SUFFIX)] = json.loads(entry.read_text("utf-8"))
    return dict(sorted(found.items()))


def template_names() -> list[str]:
    """Every template's name, sorted."""
    return list(_templates())


def get_template(name: str) -> dict[str, Any]:
    """A copy of the named template; TemplateNotFound lists the names there are."""
    template = _templates().get(name)
    if template is None:
        raise TemplateNotFound(
            f"no template named {name!r}; the templates are {', '.join(template_names())}"
        )
    return copy.deepcopy(template) | {"name": name}


def template_summaries() -> list[dict[str, Any]]:
    """Each template as the API lists it: name, title, description, auth and what it needs."""
    return [
        {
            "name": name,
            "title": template["title"],
            "description": template["description"],
            "auth_mode": template["auth"]["mode"],
            "auth_settings": template["auth"]["settings"],
            "needs": template["needs"],
            "idempotency_key": template["mapping"].get("idempotency_key"),
            "mapping": template["mapping"],
        }
        for name, template in ((name, get_template(name)) for name in template_names())
    ]
