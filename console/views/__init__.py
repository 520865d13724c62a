"""The console's pages; importing this package attaches every route to the blueprint.

A new page is one more module here and one line in console/navigation.py: the layout's menu is
built from that list.
"""

from console import formatting, navigation, signin  # noqa: F401
from console.views import (  # noqa: F401
    configs,
    editor,
    events,
    health,
    leads,
    overview,
    replays,
    tokens,
    uploads,
    versions,
)
