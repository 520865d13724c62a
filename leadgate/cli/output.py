"""What the CLI says: results on stdout, everything else on stderr.

The contract scripts rely on: a command that creates something prints its id (or token) alone on
one stdout line; listings and JSON go to stdout; messages, warnings and errors go to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click


class CliError(click.ClickException):
    """An expected failure: printed as ``Error: <message>`` on stderr, exit code 1, no traceback."""


def say(message: str) -> None:
    """A message for the person at the terminal, on stderr."""
    click.echo(message, err=True)


def emit(value: object) -> None:
    """The command's result (an id, a token), alone on one stdout line."""
    click.echo(str(value))


def emit_json(value: Any) -> None:
    """A JSON document on stdout."""
    click.echo(json.dumps(value, indent=2, default=str))


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Rows as aligned columns on stdout, with a header line."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    for row in [list(headers), *cells]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    return str(value)
