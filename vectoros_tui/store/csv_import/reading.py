"""Opening a CSV file: binary and encoding checks, the delimiter."""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from vectoros_tui.store.csv_import.results import CsvImportError

_SAMPLE_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t")


_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?); save it as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook; save it as CSV first"),
    (b"%PDF", "a PDF, not a CSV file"),
)
# Excel's "Unicode text" and some CRM exports: UTF-16 with a byte-order mark says so itself.
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def _check_head(head: bytes, name: str) -> None:
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise CsvImportError(f"{name} is {what}")
    if b"\x00" in head:
        raise CsvImportError(f"{name} looks like a binary file, not CSV text")


def _open(
    source: str | os.PathLike[str] | TextIO, encoding: str
) -> tuple[TextIO, str, Callable[[], None]]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        name = str(path)
        if not path.exists():
            raise CsvImportError(f"{name}: no such file")
        if path.is_dir():
            raise CsvImportError(f"{name} is a directory, not a CSV file")
        with path.open("rb") as raw:
            head = raw.read(8192)
        if head.startswith(_UTF16_MARKS) and encoding.lower().replace("_", "-") in (
            "utf-8",
            "utf-8-sig",
        ):
            encoding = "utf-16"  # the mark tells the byte order; Python's codec reads it
        else:
            _check_head(head, name)
        handle = path.open(encoding=encoding, newline="")
        return handle, name, handle.close
    name = str(getattr(source, "name", None) or "the input")
    return source, name, lambda: None


def _decode_error(name: str, encoding: str, line: int | None) -> CsvImportError:
    where = f" (line {line})" if line else ""
    return CsvImportError(
        f"{name} is not {encoding.replace('-sig', '').upper()} text{where}; save it as "
        "'CSV UTF-8', or give its encoding (--encoding cp1252 for Excel's plain CSV)"
    )


def _sniff_delimiter(sample: str) -> str:
    best, best_score = ",", (-1.0, 0)
    for delimiter in _DELIMITERS:
        try:
            records = [
                r
                for r in itertools.islice(
                    csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 30
                )
                if any(c.strip() for c in r)
            ]
        except csv.Error:
            continue
        # The sample may end mid-record; judge by all but its last record.
        if len(records) > 2:
            records = records[:-1]
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        rest = records[1:]
        consistency = 1.0 if not rest else sum(len(r) == width for r in rest) / len(rest)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best
