"""Signed upload URLs, and the error file's append-after-the-committed-length rule."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest

from tests.support.uploads import SECRET_KEY
from worker.uploads.error_file import FailedRow, append_failed_rows
from worker.uploads.signing import (
    SignatureRefused,
    check_signature,
    sign_upload,
    signing_keys,
)

OTHER_KEY = "b1ZyQ2xY9lT3v0v8m2rP6nWq4uE7sK5jH3gF1dC0aB8="


def test_a_signature_is_valid_for_its_upload_only() -> None:
    upload_id = uuid.uuid4()
    signature = sign_upload(upload_id, (SECRET_KEY,))
    check_signature(signature, upload_id, (SECRET_KEY,))
    with pytest.raises(SignatureRefused):
        check_signature(signature, uuid.uuid4(), (SECRET_KEY,))
    with pytest.raises(SignatureRefused):
        check_signature(signature[:-2] + "xx", upload_id, (SECRET_KEY,))
    with pytest.raises(SignatureRefused):
        check_signature(signature, upload_id, (OTHER_KEY,))


def test_a_signature_made_before_a_key_rotation_still_holds() -> None:
    upload_id = uuid.uuid4()
    signature = sign_upload(upload_id, (SECRET_KEY,))
    check_signature(signature, upload_id, (OTHER_KEY, SECRET_KEY))


def test_without_a_key_nothing_is_signed() -> None:
    with pytest.raises(LookupError, match="no key"):
        sign_upload(uuid.uuid4(), ())


def test_the_upload_dirs_key_is_made_once_and_kept(tmp_path: Path) -> None:
    assert signing_keys((SECRET_KEY,), tmp_path) == (SECRET_KEY,)
    assert not (tmp_path / ".signing-key").exists()
    made = signing_keys((), tmp_path)
    assert signing_keys((), tmp_path) == made and len(made[0]) >= 32
    assert (tmp_path / ".signing-key").stat().st_mode & 0o777 == 0o600


def test_a_redone_chunk_replaces_what_it_wrote_before(tmp_path: Path) -> None:
    path = tmp_path / "errors.csv"
    header = ["phone", "name"]
    first = append_failed_rows(path, 0, header, ";", [FailedRow(1, ["x", "A"], "phone", "bad")])
    append_failed_rows(path, first, header, ";", [FailedRow(3, ["y", "B", "extra"], "row", "3")])
    # The second chunk's progress never committed: it is redone from the first one's length.
    append_failed_rows(path, first, header, ";", [FailedRow(3, ["y", "B", "extra"], "row", "3")])
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows == [
        ["phone", "name", "error_field", "error_message"],
        ["x", "A", "phone", "bad"],
        ["y", "B", "row", "3", "extra"],
    ]
