"""What an import reports: row errors, the plan, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LISTED_ERRORS = 20


@dataclass(frozen=True)
class RowError:
    """A problem with one cell (or row) of the file.

    ``line`` is the physical line where the row starts (the header is line 1); ``column``
    is the CSV column's name, or the deal field's name when no column holds it.
    """

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.column:
            return f"line {self.line}: {self.message}"
        return f'line {self.line}, column "{self.column}": {self.message}'


class CsvImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, empty, no title column, bad
    mapping). Nothing was written."""


class ImportFileError(CsvImportError):
    """Some rows are invalid; ``errors`` lists every one. Nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = list(errors)
        rows = len({e.line for e in self.errors})
        listed = "\n".join(f"  {e}" for e in self.errors[:MAX_LISTED_ERRORS])
        more = len(self.errors) - MAX_LISTED_ERRORS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        noun = "error" if len(self.errors) == 1 else "errors"
        row_noun = "row" if rows == 1 else "rows"
        super().__init__(
            f"{len(self.errors)} {noun} in {rows} {row_noun}; nothing was imported:\n{listed}{tail}"
        )


@dataclass
class ImportPlan:
    """A validated file, ready for :func:`apply_import`.

    ``rows`` holds ``(source_id, cleaned fields)`` for every valid row (``lines`` their
    line numbers); ``errors`` every problem found (a plan with errors cannot be applied).
    ``header_map`` maps deal field (and ``source_id``) to the column read for it;
    ``ignored_columns`` are the columns not read at all. ``warnings`` say how ambiguous
    things were read.
    """

    rows: list[tuple[str, dict[str, Any]]]
    header_map: dict[str, str]
    errors: list[RowError]
    total_rows: int
    ignored_columns: list[str] = field(default_factory=list)
    delimiter: str = ","
    warnings: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the file line of each of ``rows``

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    total_rows: int
    dry_run: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "totalRows": self.total_rows,
            "dryRun": self.dry_run,
        }
