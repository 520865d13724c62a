"""``leadgate db``: the schema."""

from __future__ import annotations

import click

from leadgate.cli.context import database_url
from leadgate.cli.output import say


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate up to this one.")
def db_upgrade(revision: str) -> None:
    """Apply the migrations (safe to run again; concurrent runs wait for each other)."""
    from models.migrate import upgrade_database

    with database_url() as url:
        upgrade_database(url, revision)
    say(f"database migrated to {revision}")
