"""The console's pages; importing this package attaches every route to the blueprint.

A page that comes later (replays, uploads) is one more module here and one line in
console/navigation.py: the layout's menu is built from that list.
"""

from console import formatting, navigation, signin  # noqa: F401
from console.views import configs, editor, events, leads, overview, tokens, versions  # noqa: F401
