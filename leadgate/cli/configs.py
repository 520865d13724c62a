"""``leadgate config``: ingestion configs, one per provider endpoint URL."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from common.payloads import FORM_TYPE, JSON_TYPE, PayloadError, parse_body
from leadgate.cli import records
from leadgate.cli.callbacks import callback_decorators, callback_options, show_issued_secret
from leadgate.cli.context import admin_session
from leadgate.cli.credentials import auth_mode, credential_decorators, credential_options
from leadgate.cli.output import emit, emit_json, emit_table, say
from models import IngestionConfig
from models.enums import CUSTOM_ENDPOINTS, MATCH_KEYS, AuthMode, Endpoint
from worker.configs import Author, ConfigError, check_limits, get_config, validate_mapping
from worker.dry_run import WOULD_FAIL, dry_run_payload
from worker.ingest.mapping import MappingConfigError
from worker.ingest.templates import TemplateNotFound, get_template, template_summaries
from worker.mapping_impact import (
    DEFAULT_SAMPLE,
    MAX_SAMPLE,
    impact_of_save,
    mapping_impact,
    needs_confirmation,
)
from worker.mapping_versions import get_version, restore_version, version_as_dict, versions_of

CLEAR = "none"


def _optional_count(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> int | str | None:
    """A whole number of at least 0, or ``none`` to clear the value."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == CLEAR:
        return CLEAR
    try:
        number = int(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a whole number or 'none'") from None
    if number < 0:
        raise click.BadParameter(f"{value!r} is negative")
    return number


def _match_keys(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> list[str] | None:
    if value is None:
        return None
    try:
        return records.parse_match_keys(value)
    except records.ConfigError as error:
        raise click.BadParameter(str(error)) from None


def _split_count(value: int | str | None) -> tuple[int | None, bool]:
    """(number, clear) from an OptionalCount value."""
    if value == CLEAR:
        return None, True
    return (value if isinstance(value, int) else None), False


MATCH_HELP = f"Match keys in order, comma separated: {','.join(MATCH_KEYS)}."


def _optional_positive(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> float | str | None:
    """A positive number, or ``none`` to clear the value."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == CLEAR:
        return CLEAR
    try:
        number = float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number or 'none'") from None
    if not number > 0 or number == float("inf"):
        raise click.BadParameter(f"{value!r} must be a positive number")
    return number


def limit_options(
    max_body_bytes: float | str | None,
    rate_limit: float | str | None,
    rate_burst: float | str | None,
) -> dict[str, int | float | None]:
    """The endpoint-limit columns the options name; ``none`` clears one."""
    given = {
        "max_body_bytes": max_body_bytes,
        "rate_limit_per_second": rate_limit,
        "rate_limit_burst": rate_burst,
    }
    limits = {
        column: None if value == CLEAR else float(value)
        for column, value in given.items()
        if value is not None
    }
    try:
        return check_limits(limits)
    except ConfigError as error:
        raise click.BadParameter(str(error)) from None


def _limit_decorators(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option("--max-body-bytes", callback=_optional_positive, metavar="N|none",
                         help="Largest body accepted on this endpoint (default: the service's)."),
            click.option("--rate-limit", callback=_optional_positive, metavar="RPS|none",
                         help="Sustained requests per second; above it answers 429."),
            click.option("--rate-burst", callback=_optional_positive, metavar="N|none",
                         help="Requests allowed at once above the rate (default: the rate)."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


@click.group("config")
def config_group() -> None:
    """Ingestion configs: how payloads posted to one URL are authenticated, mapped and matched."""


@config_group.command("create")
@click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
@click.option(
    "--mapping",
    "mapping_file",
    default=None,
    metavar="FILE",
    help="JSON file with the field mapping (- for stdin); or start from --template.",
)
@click.option(
    "--template",
    "template_name",
    default=None,
    metavar="NAME",
    help="Start from a provider template (see `leadgate config templates`).",
)
@click.option("--name", default=None, help="Config name (default: the mapping file's name).")
@click.option("--open", "open_auth", is_flag=True, default=None, help="Same as --auth open.")
@click.option("--lead-type", type=int, default=None, help="Default lead_type of new leads.")
@click.option("--match", callback=_match_keys, default=None, help=MATCH_HELP)
@click.option("--min-reengagement-days", type=click.IntRange(min=0), default=None)
@click.option("--file-endpoint", type=click.Choice(["create", "upsert"]), default=None,
              help="What a row of an uploaded file does (default upsert).")  # fmt: skip
@click.option("--test/--no-test", "test", default=None,
              help="A test config: its events make test leads (Leadgate-Test: true).")  # fmt: skip
@_limit_decorators
@credential_decorators
def config_create(
    campaign_id: int,
    mapping_file: str | None,
    template_name: str | None,
    name: str | None,
    open_auth: bool | None,
    lead_type: int | None,
    match: list[str] | None,
    min_reengagement_days: int | None,
    max_body_bytes: float | str | None,
    rate_limit: float | str | None,
    rate_burst: float | str | None,
    auth: str | None,
    ignore_file_parts: bool | None,
    file_endpoint: str | None,
    test: bool | None,
    **credentials: str | None,
) -> None:
    """Create an ingestion config (organization from the campaign) and print its UUID."""
    if (mapping_file is None) == (template_name is None):
        raise click.UsageError("give --mapping FILE or --template NAME (one of them)")
    template: dict[str, Any] = {}
    if template_name is not None:
        try:
            template = get_template(template_name)
        except TemplateNotFound as error:
            raise click.BadParameter(str(error), param_hint="--template") from None
    if mapping_file is not None:
        mapping = records.load_json_object(mapping_file, "mapping")
        default_name = Path(mapping_file).stem if mapping_file != "-" else None
    else:
        mapping, default_name = template["mapping"], template["title"]
    template_auth = template.get("auth", {})
    mode = auth_mode(auth, open_auth, template_auth.get("mode")) or AuthMode.token
    if mode.value != template_auth.get("mode"):
        template_auth = {}  # the template's header or key path belong to its own mode only
    options = records.ConfigOptions(
        name=name or default_name,
        mapping=mapping,
        auth_mode=mode,
        lead_type=lead_type,
        match_keys=match,
        min_reengagement_days=min_reengagement_days,
        limits=limit_options(max_body_bytes, rate_limit, rate_burst),
        credentials=credential_options(credentials, template_auth.get("settings", {})),
        ignore_file_parts=(
            ignore_file_parts
            if ignore_file_parts is not None
            else template.get("ignore_file_parts")
        ),
        file_endpoint=file_endpoint,
        test=test,
    )
    with admin_session() as session:
        config = records.create_config(session, campaign_id, options)
        config_id, organization_id = config.id, config.organization_id
    say(
        f"created ingestion config {config_id} ({config.name}, auth {config.auth_mode.value}) "
        f"for campaign {campaign_id} in organization {organization_id}; "
        f"providers post to /api/lead-ingestion/{config_id}/ or .../upsert/"
    )
    emit(config_id)


@config_group.command("templates")
@click.argument("name", required=False)
def config_templates(name: str | None) -> None:
    """List the provider templates, or print one (its mapping and what it needs) as JSON."""
    if name is None:
        rows = [(t["name"], t["auth_mode"], t["title"]) for t in template_summaries()]
        emit_table(("NAME", "AUTH", "PROVIDER"), rows)
        return
    try:
        emit_json(get_template(name))
    except TemplateNotFound as error:
        raise click.BadParameter(str(error), param_hint="NAME") from None


@config_group.command("show")
@click.argument("config_id", type=click.UUID)
def config_show(config_id: uuid.UUID) -> None:
    """Print a config as JSON."""
    with admin_session(read_only=True) as session:
        emit_json(records.config_as_dict(records.get_config(session, config_id)))


@config_group.command("list")
@click.option("--org", "organization_id", type=int, default=None, help="Only this organization.")
def config_list(organization_id: int | None) -> None:
    """List ingestion configs."""
    with admin_session(read_only=True) as session:
        query = select(IngestionConfig).order_by(IngestionConfig.created_time, IngestionConfig.name)
        if organization_id is not None:
            records.get_organization(session, organization_id)
            query = query.where(IngestionConfig.organization_id == organization_id)
        rows = [
            (c.id, c.organization_id, c.campaign_id, c.name, c.auth_mode.value,
             "yes" if c.active else "no", c.version)
            for c in session.scalars(query)
        ]  # fmt: skip
    emit_table(("ID", "ORG", "CAMPAIGN", "NAME", "AUTH", "ACTIVE", "VERSION"), rows)


@config_group.command("update")
@click.argument("config_id", type=click.UUID)
@click.option(
    "--mapping",
    "mapping_file",
    default=None,
    metavar="FILE",
    help="JSON file with the new mapping.",
)
@click.option("--name", default=None, help="New name.")
@click.option("--open/--token-auth", "open_auth", default=None, help="Same as --auth open/token.")
@click.option("--active/--inactive", default=None, help="An inactive config answers 404.")
@click.option(
    "--lead-type", callback=_optional_count, metavar="N|none", help="Default lead_type or none."
)
@click.option("--match", callback=_match_keys, default=None, help=MATCH_HELP)
@click.option(
    "--min-reengagement-days", callback=_optional_count, metavar="N|none", help="Days or none."
)
@click.option("--hold-on-drift/--no-hold-on-drift", default=None,
              help="Hold the config by itself when its drift alarm goes off.")  # fmt: skip
@click.option("--drift-limits", "drift_limits_file", default=None, metavar="FILE|none",
              help='JSON file with the config\'s own drift limits ({"recent_events": 20}), '
                   "or none to use the service's.")  # fmt: skip
@click.option("--message", default=None, help="Why the mapping changed, kept with its version.")
@click.option("--yes", is_flag=True, help="Save a mapping even when events would newly fail.")
@click.option("--sample", type=click.IntRange(1, MAX_SAMPLE), default=DEFAULT_SAMPLE,
              show_default=True, help="Recent events a new mapping is tried on.")  # fmt: skip
@click.option("--file-endpoint", type=click.Choice(["create", "upsert"]), default=None,
              help="What a row of an uploaded file does (default upsert).")  # fmt: skip
@click.option("--test/--no-test", "test", default=None,
              help="A test config: its events make test leads (Leadgate-Test: true).")  # fmt: skip
@_limit_decorators
@credential_decorators
@callback_decorators
def config_update(
    config_id: uuid.UUID,
    hold_on_drift: bool | None,
    drift_limits_file: str | None,
    message: str | None,
    yes: bool,
    sample: int,
    mapping_file: str | None,
    name: str | None,
    open_auth: bool | None,
    active: bool | None,
    lead_type: int | str | None,
    match: list[str] | None,
    min_reengagement_days: int | str | None,
    max_body_bytes: float | str | None,
    rate_limit: float | str | None,
    rate_burst: float | str | None,
    auth: str | None,
    ignore_file_parts: bool | None,
    callback_url: str | None,
    rotate_callback_secret: bool,
    file_endpoint: str | None,
    test: bool | None,
    **credentials: str | None,
) -> None:
    """Change a config; every change bumps its version.

    A new --payload-key or --signing-secret replaces the old one, which stays valid for
    LEADGATE_SECRET_GRACE_HOURS (24 by default) so the provider can be switched over.
    """
    mapping = records.load_json_object(mapping_file, "mapping") if mapping_file else None
    lead_type_value, clear_lead_type = _split_count(lead_type)
    days_value, clear_days = _split_count(min_reengagement_days)
    options = records.ConfigOptions(
        name=name,
        mapping=mapping,
        auth_mode=auth_mode(auth, open_auth, None),
        active=active,
        lead_type=lead_type_value,
        clear_lead_type=clear_lead_type,
        match_keys=match,
        min_reengagement_days=days_value,
        clear_min_reengagement_days=clear_days,
        limits=limit_options(max_body_bytes, rate_limit, rate_burst),
        credentials=credential_options(credentials, {}),
        ignore_file_parts=ignore_file_parts,
        callback=callback_options(callback_url, rotate_callback_secret),
        hold_on_drift=hold_on_drift,
        drift_limits=(
            records.load_json_object(drift_limits_file, "drift limits")
            if drift_limits_file not in (None, CLEAR)
            else None
        ),
        clear_drift_limits=drift_limits_file == CLEAR,
        file_endpoint=file_endpoint,
        test=test,
        message=message,
    )
    with admin_session() as session:
        config = get_config(session, config_id, for_update=True)
        report = impact_of_save(session, config, mapping, sample) if mapping is not None else None
        if report is not None:
            say(report["summary"])
        if needs_confirmation(report) and not yes:
            raise records.AdminError(
                "the new mapping would fail events that succeeded; nothing was saved "
                "(see `leadgate config impact`; pass --yes to save it anyway)"
            )
        changed = records.update_config(config, options)
        version, mapping_version = config.version, config.mapping_version
    if "mapping" in changed:
        say(f"saved the mapping of config {config_id} as mapping version {mapping_version}")
    if changed:
        say(f"updated {', '.join(changed)} of config {config_id}; now version {version}")
        show_issued_secret(options.callback)
    else:
        say(f"nothing to change in config {config_id}; still version {version}")


# `config test` exits with this when the payload would fail, so a script can tell.
EXIT_WOULD_FAIL = 1
PAYLOAD_KINDS = {"json": JSON_TYPE, "form": FORM_TYPE}


def read_payload_file(path: str, kind: str) -> dict[str, Any]:
    """A JSON object or form-encoded payload from a file (``-`` for stdin).

    ``kind`` is ``json``, ``form`` or ``auto``: a body whose first character is ``{`` is JSON,
    anything else a form (``phone_number=...&email=...``), as the webhook would read it.
    """
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise records.AdminError(
            f"cannot read the payload file {path}: {error.strerror or error}"
        ) from None
    if kind == "auto":
        kind = "json" if raw.lstrip().startswith(b"{") else "form"
    try:
        return parse_body(raw, PAYLOAD_KINDS[kind])
    except PayloadError as error:
        raise records.AdminError(f"the payload file {path} ({kind}): {error}") from None


@config_group.command("test")
@click.argument("config_id", type=click.UUID)
@click.argument("payload_file")
@click.option(
    "--endpoint",
    type=click.Choice([member.value for member in CUSTOM_ENDPOINTS]),
    default=Endpoint.upsert.value,
    show_default=True,
    help="Answer as this endpoint would: upsert/ or the create endpoint.",
)
@click.option(
    "--mapping",
    "mapping_file",
    default=None,
    metavar="FILE",
    help="Test this candidate mapping (JSON) instead of the saved one; nothing is saved.",
)
@click.option(
    "--content-type",
    "kind",
    type=click.Choice(["auto", *PAYLOAD_KINDS]),
    default="auto",
    show_default=True,
    help="How to read PAYLOAD_FILE; auto: JSON when it starts with {, else a form.",
)
@click.option(
    "--test-mode",
    is_flag=True,
    help="Answer for a test-mode event (Leadgate-Test: true): only test leads match.",
)
def config_test(
    config_id: uuid.UUID,
    payload_file: str,
    endpoint: str,
    mapping_file: str | None,
    kind: str,
    test_mode: bool,
) -> None:
    """Dry-run a payload file against a config and print what the event would do.

    Prints the dry run's JSON (``would``: create, update, unchanged, duplicate, reengage,
    stale or fail); exits 1 when it would fail.
    """
    payload = read_payload_file(payload_file, kind)
    mapping = records.load_json_object(mapping_file, "mapping") if mapping_file else None
    with admin_session(read_only=True) as session:
        config = records.get_config(session, config_id)
        try:
            answer = dry_run_payload(
                session, config, payload, endpoint=endpoint, mapping=mapping, test=test_mode
            )
        except MappingConfigError as error:  # a candidate, or one stored before validation
            raise records.MappingRefused(list(error.problems)) from None
    emit_json(answer)
    if answer["would"] == WOULD_FAIL:
        raise SystemExit(EXIT_WOULD_FAIL)


@config_group.command("versions")
@click.argument("config_id", type=click.UUID)
@click.argument("number", type=click.IntRange(min=1), required=False)
def config_versions(config_id: uuid.UUID, number: int | None) -> None:
    """List a config's mapping versions, newest first; with NUMBER, print that one as JSON."""
    with admin_session(read_only=True) as session:
        config = records.get_config(session, config_id)
        if number is not None:
            emit_json(version_as_dict(get_version(session, config, number)))
            return
        rows = [
            (v.number, v.saved_time, v.saved_by, v.message)
            for v in session.scalars(versions_of(config))
        ]
    emit_table(("VERSION", "SAVED", "BY", "MESSAGE"), rows)


@config_group.command("restore")
@click.argument("config_id", type=click.UUID)
@click.argument("number", type=click.IntRange(min=1))
@click.option("--message", default=None, help="Why (default: restored version N).")
def config_restore(config_id: uuid.UUID, number: int, message: str | None) -> None:
    """Save mapping version NUMBER again as the config's next version; prints its number."""
    with admin_session() as session:
        config = get_config(session, config_id, for_update=True)
        saved = restore_version(session, config, number, Author.cli_user(), message)
        new_number = saved.number
    say(f"restored mapping version {number} of config {config_id} as version {new_number}")
    emit(new_number)


@config_group.command("impact")
@click.argument("config_id", type=click.UUID)
@click.option("--mapping", "mapping_file", required=True, metavar="FILE",
              help="The candidate mapping (JSON); nothing is saved.")  # fmt: skip
@click.option("--sample", type=click.IntRange(1, MAX_SAMPLE), default=DEFAULT_SAMPLE,
              show_default=True, help="Recent events to try it on.")  # fmt: skip
def config_impact(config_id: uuid.UUID, mapping_file: str, sample: int) -> None:
    """What a candidate mapping would change on the config's recent events (JSON report)."""
    mapping = records.load_json_object(mapping_file, "mapping")
    validate_mapping(mapping)
    with admin_session(read_only=True) as session:
        report = mapping_impact(session, records.get_config(session, config_id), mapping, sample)
    say(report["summary"])
    emit_json(report)
