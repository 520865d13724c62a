"""``leadgate config``: ingestion configs, one per provider endpoint URL."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from common.payloads import FORM_TYPE, JSON_TYPE, PayloadError, parse_body
from common.settings import get_settings
from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.credentials import CredentialOptions
from leadgate.cli.output import emit, emit_json, emit_table, say
from models import IngestionConfig
from models.enums import CUSTOM_ENDPOINTS, MATCH_KEYS, AuthMode, Endpoint
from worker.dry_run import WOULD_FAIL, dry_run_payload
from worker.ingest.mapping import MappingConfigError
from worker.ingest.templates import TemplateNotFound, get_template, template_summaries

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
    except records.AdminError as error:
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
        "max_body_bytes": (max_body_bytes, int),
        "rate_limit_per_second": (rate_limit, float),
        "rate_limit_burst": (rate_burst, int),
    }
    limits: dict[str, int | float | None] = {}
    for column, (value, kind) in given.items():
        if value == CLEAR:
            limits[column] = None
        elif value is not None:
            number = kind(value)
            if kind is int and (number < 1 or number != value):
                raise click.BadParameter(f"{column.replace('_', '-')} must be a whole number >= 1")
            limits[column] = number
    return limits


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


AUTH_MODES = [mode.value for mode in AuthMode]


def _credential_decorators(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option("--auth", "auth", type=click.Choice(AUTH_MODES), default=None,
                         help="How providers authenticate (--open is short for --auth open)."),
            click.option("--payload-key-path", default=None, metavar="PATH",
                         help="payload-key: where the payload carries the key (google_key)."),
            click.option("--payload-key", default=None, metavar="SECRET",
                         envvar="LEADGATE_PAYLOAD_KEY", show_envvar=True,
                         help="payload-key: the shared key (stored as a hash)."),
            click.option("--signature-header", default=None, metavar="NAME",
                         help="signature: the header with the body's HMAC-SHA256."),
            click.option("--signature-encoding", type=click.Choice(["base64", "hex"]),
                         default=None, help="signature: how the digest is written (base64)."),
            click.option("--signature-prefix", default=None, metavar="PREFIX|none",
                         help="signature: text before the digest, e.g. sha256= (none)."),
            click.option("--signing-secret", default=None, metavar="SECRET",
                         envvar="LEADGATE_SIGNING_SECRET", show_envvar=True,
                         help="signature: the HMAC secret (encrypted with LEADGATE_SECRET_KEY)."),
            click.option("--ignore-file-parts/--refuse-file-parts", default=None,
                         help="multipart bodies: drop file parts, or refuse them with 415."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def _credential_options(given: dict[str, Any], defaults: dict[str, Any]) -> CredentialOptions:
    """CredentialOptions from the CLI's values, over a template's defaults; sealed per settings."""
    settings = get_settings()
    names = ("payload_key_path", "payload_key", "signature_header", "signature_encoding",
             "signature_prefix", "signing_secret")  # fmt: skip
    values = {
        name: given[name] if given[name] is not None else defaults.get(name) for name in names
    }
    return CredentialOptions(
        **values,
        secret_keys=settings.secret_keys,
        grace=dt.timedelta(seconds=settings.secret_grace_seconds),
    )


def _auth_mode(auth: str | None, open_auth: bool | None, default: str | None) -> AuthMode | None:
    """The mode --auth names, or --open's; both at once must agree."""
    shorthand = None if open_auth is None else (AuthMode.open if open_auth else AuthMode.token)
    chosen = AuthMode(auth) if auth is not None else None
    if chosen is not None and shorthand is not None and chosen != shorthand:
        raise click.UsageError(
            f"--auth {chosen.value} contradicts --{'open' if open_auth else 'token-auth'}"
        )
    picked = chosen or shorthand
    return picked if picked is not None else (AuthMode(default) if default else None)


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
@_limit_decorators
@_credential_decorators
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
    mode = _auth_mode(auth, open_auth, template_auth.get("mode")) or AuthMode.token
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
        credentials=_credential_options(credentials, template_auth.get("settings", {})),
        ignore_file_parts=(
            ignore_file_parts
            if ignore_file_parts is not None
            else template.get("ignore_file_parts")
        ),
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
@_limit_decorators
@_credential_decorators
def config_update(
    config_id: uuid.UUID,
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
        auth_mode=_auth_mode(auth, open_auth, None),
        active=active,
        lead_type=lead_type_value,
        clear_lead_type=clear_lead_type,
        match_keys=match,
        min_reengagement_days=days_value,
        clear_min_reengagement_days=clear_days,
        limits=limit_options(max_body_bytes, rate_limit, rate_burst),
        credentials=_credential_options(credentials, {}),
        ignore_file_parts=ignore_file_parts,
    )
    with admin_session() as session:
        config = records.get_config(session, config_id)
        changed = records.update_config(config, options)
        version = config.version
    if changed:
        say(f"updated {', '.join(changed)} of config {config_id}; now version {version}")
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
def config_test(
    config_id: uuid.UUID, payload_file: str, endpoint: str, mapping_file: str | None, kind: str
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
            answer = dry_run_payload(session, config, payload, endpoint=endpoint, mapping=mapping)
        except MappingConfigError as error:  # a candidate, or one stored before validation
            raise records.MappingRefused(list(error.problems)) from None
    emit_json(answer)
    if answer["would"] == WOULD_FAIL:
        raise SystemExit(EXIT_WOULD_FAIL)
