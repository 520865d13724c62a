"""``leadgate import FILE --config ID``: the upload flow in one command, with a progress bar.

The file is stored and checked through the same upload service as ``PUT`` on a signed URL (no
URL is needed: the operator's shell is the credential), the import runs in the worker as for
any upload, and this command follows it to the end.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy.orm import Session

from common.settings import load_settings
from leadgate.cli.context import admin_session, database_url
from leadgate.cli.output import CliError, emit, say
from models import IngestionConfig, Upload, UploadStatus
from models.db import get_sessionmaker
from worker.uploads.csv_rows import FileRejected, inspect_file
from worker.uploads.service import (
    UploadRefused,
    accept_file,
    claim_signed_url,
    create_upload,
    fail_upload,
)
from worker.uploads.storage import FileTooLarge, errors_path, receive_file, upload_path

POLL_SECONDS = 0.5
# With no row imported for this long, no worker is taking the upload: say so and stop following.
STALL_SECONDS = 120.0


class RowsPerSecond(ProgressColumn):
    """The import's speed in rows a second."""

    def render(self, task: Task) -> Text:
        """``1,234 rows/s``, or ``? rows/s`` before there is a speed to show."""
        speed = task.speed
        return Text(f"{speed:,.0f} rows/s" if speed is not None else "? rows/s")


def _store(
    session: Session, config_id: uuid.UUID, file: Path, upload_dir: Path, limit: int
) -> Upload:
    config = session.get(IngestionConfig, config_id)
    if config is None or config.standard_api:
        raise CliError(f"no ingestion config {config_id}")
    try:
        upload = create_upload(session, config.organization_id, str(config.id), file.name)
    except UploadRefused as error:
        raise CliError(str(error)) from None
    claim_signed_url(session, upload.id)
    target = upload_path(upload_dir, upload.id)
    try:
        with file.open("rb") as stream:
            received = receive_file(stream, target, limit)
    except FileTooLarge as error:
        fail_upload(session, upload, str(error))
        return upload
    try:
        layout = inspect_file(target)
    except FileRejected as error:
        target.unlink(missing_ok=True)
        fail_upload(session, upload, str(error), received)
        return upload
    accept_file(session, upload, received, layout)
    return upload


def _read(url: str, upload_id: uuid.UUID) -> Upload:
    with get_sessionmaker(url)() as session:
        upload = session.get(Upload, upload_id)
        assert upload is not None
        session.expunge(upload)  # read once, shown after the session is gone
    return upload


def _follow(url: str, upload_id: uuid.UUID, total: int) -> Upload:
    console = Console(file=sys.stderr)
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    last_done, last_move = -1, time.monotonic()
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("rows", total=total)
        while True:
            upload = _read(url, upload_id)
            progress.update(task, completed=upload.rows_done)
            if upload.status in (UploadStatus.done, UploadStatus.failed):
                return upload
            if upload.rows_done != last_done:
                last_done, last_move = upload.rows_done, time.monotonic()
            elif time.monotonic() - last_move > STALL_SECONDS:
                raise CliError(
                    f"upload {upload_id}: no row imported for {STALL_SECONDS:.0f} s; is a worker "
                    "running (leadgate run)? The import resumes when one is"
                )
            time.sleep(POLL_SECONDS)


def _summary(upload: Upload, upload_dir: Path) -> None:
    emit(f"upload {upload.id}: {upload.status.value}")
    if upload.failure_reason:
        emit(f"reason: {upload.failure_reason}")
        return
    emit(f"rows: {upload.rows_done} of {upload.rows_total}, {upload.rows_failed} failed")
    for action, count in sorted(upload.actions.items()):
        emit(f"  {action}: {count}")
    for field, count in sorted(upload.failed_fields.items()):
        emit(f"  failed on {field}: {count}")
    if upload.started_time and upload.finished_time:
        seconds = (upload.finished_time - upload.started_time).total_seconds()
        rate = upload.rows_done / seconds if seconds > 0 else 0.0
        emit(f"time: {seconds:.1f} s ({rate:,.0f} rows/s)")
    if upload.rows_failed:
        emit(f"error file: {errors_path(upload_dir, upload.id)}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--config", "config_id", required=True, type=click.UUID,
              help="The ingestion config whose mapping reads the rows.")  # fmt: skip
def import_command(file: Path, config_id: uuid.UUID) -> None:
    """Import a CSV file of leads through a config, as an upload; show progress and a summary."""
    from webhook.broker import enqueue_upload  # Celery loads only for the commands that publish

    settings = load_settings()
    with admin_session() as session:
        upload = _store(session, config_id, file, settings.upload_dir, settings.upload_max_bytes)
        upload_id, status, total = upload.id, upload.status, upload.rows_total or 0
    with database_url() as url:
        if status == UploadStatus.processing:
            if not enqueue_upload(upload_id):
                say("the broker did not take the import; the sweeper starts it within minutes")
            upload = _follow(url, upload_id, total)
        else:
            upload = _read(url, upload_id)
    _summary(upload, settings.upload_dir)
    if upload.status == UploadStatus.failed:
        raise SystemExit(1)
