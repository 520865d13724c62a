"""The ``leadgate`` command: the root group, error translation and ``main()``."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import click
from sqlalchemy.exc import InterfaceError, OperationalError

from common.logs import configure_logging
from common.settings import SettingsError, load_settings
from leadgate.cli import config_health  # noqa: F401 - adds stats, hold and release to config
from leadgate.cli.admin import campaign_group, org_group, representative_group, token_group
from leadgate.cli.blocked import blocked_group
from leadgate.cli.configs import config_group
from leadgate.cli.context import adopt_running_stack
from leadgate.cli.database import db_group
from leadgate.cli.events import events_group
from leadgate.cli.imports import import_command
from leadgate.cli.lead_types import lead_type_group
from leadgate.cli.leads import lead_group
from leadgate.cli.quarantine import quarantine_group
from leadgate.cli.records import AdminError, ConfigError
from leadgate.cli.replay import replay_command
from leadgate.cli.run import run_command
from leadgate.cli.status import status_command
from leadgate.cli.webhooks import webhooks_group
from leadgate.embedded import EmbeddedStackError


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class LeadgateGroup(click.Group):
    """The root group: expected failures become one clear line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, translating expected errors into ``click.ClickException``."""
        try:
            return super().invoke(ctx)
        except (AdminError, ConfigError) as error:
            raise click.ClickException(str(error)) from None
        except (SettingsError, EmbeddedStackError) as error:
            raise click.ClickException(str(error)) from None
        except (OperationalError, InterfaceError) as error:
            reason = _first_line(error.orig if error.orig is not None else error)
            raise click.ClickException(f"cannot reach the database: {reason}") from None


@click.group(cls=LeadgateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="leadgate")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """leadgate: map any provider's lead payload onto a standard lead and upsert it exactly once.

    With no DATABASE_URL / REDIS_URL set, commands use the embedded PostgreSQL and Redis under
    LEADGATE_HOME (default ./.leadgate): the ones `leadgate run` started, or, for admin commands
    run on their own, a database started for the command's duration.
    """
    if ctx.invoked_subcommand != "run":
        adopt_running_stack()


for group in (
    db_group,
    org_group,
    token_group,
    campaign_group,
    representative_group,
    config_group,
    lead_type_group,
    events_group,
    webhooks_group,
    blocked_group,
    quarantine_group,
    lead_group,
):
    cli.add_command(group)
cli.add_command(run_command)
cli.add_command(replay_command)
cli.add_command(status_command)
cli.add_command(import_command)


def main() -> None:
    """Console-script entry point: validate the settings, set up logging, run the command."""
    # pgserver asks platformdirs for a runtime directory; the fallback it warns about is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
    try:
        settings = load_settings()
    except SettingsError as error:
        # Click's own form for an expected failure: one line on stderr, exit code 1.
        raise SystemExit(f"Error: {error}") from None
    # Here rather than in the group: the handler keeps the stderr it finds, and a test runner
    # that invokes the group swaps stderr for each call.
    configure_logging(settings.log_level, settings.log_format)
    if settings.log_level != "DEBUG":
        # Alembic narrates each plugin and revision at INFO; the commands that migrate say
        # in one line what they did.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    cli(prog_name="leadgate")
