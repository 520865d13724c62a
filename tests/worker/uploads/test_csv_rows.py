"""Reading uploaded CSVs: delimiters, header checks, offsets that resume mid-file, row objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.uploads.csv_rows import (
    FileRejected,
    inspect_file,
    read_rows,
    row_object,
    row_problem,
    sniff_delimiter,
)


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        (b"phone,email\r\n1,a\r\n2,b\r\n", ","),
        (b"phone;email\r\n1;a\r\n2;b\r\n", ";"),
        (b"phone\temail\r\n1\ta\r\n", "\t"),
        (b'phone;name\r\n1;"a; b"\r\n', ";"),  # the sniffer gives up; the header decides
        (b"phone\r\n1\r\n", ","),  # one column
    ],
)
def test_the_delimiter_is_sniffed(sample: bytes, delimiter: str) -> None:
    assert sniff_delimiter(sample) == delimiter


def _file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    return path


def test_a_bom_is_skipped_and_rows_are_counted(tmp_path: Path) -> None:
    path = _file(tmp_path, b'\xef\xbb\xbfphone,note\r\n1,"two\r\nlines"\r\n2,x\r\n')
    layout = inspect_file(path)
    assert layout.header == ["phone", "note"]
    assert layout.rows_total == 2
    assert layout.data_offset == len(b"\xef\xbb\xbfphone,note\r\n")


def test_rows_resume_from_the_offset_after_the_last_one_read(tmp_path: Path) -> None:
    path = _file(tmp_path, b'phone,note\n1,"a\nb"\n2,c\n3,d\n')
    layout = inspect_file(path)
    first = read_rows(path, ",", layout.data_offset, 1, 2)
    assert [(row.number, row.values) for row in first] == [(1, ["1", "a\nb"]), (2, ["2", "c"])]
    rest = read_rows(path, ",", first[-1].end_offset, 3, 2)
    assert [(row.number, row.values) for row in rest] == [(3, ["3", "d"])]
    assert read_rows(path, ",", rest[-1].end_offset, 4, 2) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\n", "no header row"),
        (b"+1 415 555 0100,x\n", "no header row"),
        (b"a@example.com,x\n", "no header row"),
        (b"phone,\n1,2\n", "column 2 of the header row has no name"),
        (b"phone,Phone,phone\n", "twice"),
        (b"phone\n\xff\n", "line 2 is not UTF-8"),
    ],
)
def test_files_that_cannot_be_imported_say_why(tmp_path: Path, content: bytes, words: str) -> None:
    with pytest.raises(FileRejected, match=words):
        inspect_file(_file(tmp_path, content))


def test_a_row_object_leaves_out_empty_cells_and_the_error_files_columns() -> None:
    header = ["phone", "email", "error_field", "error_message"]
    assert row_object(header, ["1", "", "phone", "bad"]) == {"phone": "1"}
    assert row_object(header, ["1"]) == {"phone": "1"}


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ([], "the row is empty"),
        (["", " "], "the row is empty"),
        (["1", "2", "3"], "3 fields but the header has 2 columns"),
        (["1"], None),
        (["1", "2"], None),
    ],
)
def test_row_problems(values: list[str], problem: str | None) -> None:
    found = row_problem(["a", "b"], values)
    assert found == problem if problem is None else problem in (found or "")
