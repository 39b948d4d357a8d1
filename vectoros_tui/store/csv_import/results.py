"""What an import reports: row errors, the plan, the result."""

from __future__ import annotations

from collections import Counter
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
    # The stage name as written, when the problem is a stage no mapping covers.
    unknown_stage: str | None = None

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
        self.unknown_stages = Counter(e.unknown_stage for e in self.errors if e.unknown_stage)
        others = [e for e in self.errors if not e.unknown_stage]
        if not self.unknown_stages:
            super().__init__(f"{_count(others)}; nothing was imported:\n{_listed(others)}")
            return
        message = _stages_message(self.unknown_stages)
        if others:
            message += f"\nAlso {_count(others)}:\n{_listed(others)}"
        super().__init__(message + "\nNothing was imported.")


def _count(errors: list[RowError]) -> str:
    rows = len({e.line for e in errors})
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} {noun} in {rows} row{'s' if rows != 1 else ''}"


def _listed(errors: list[RowError]) -> str:
    listed = "\n".join(f"  {e}" for e in errors[:MAX_LISTED_ERRORS])
    more = len(errors) - MAX_LISTED_ERRORS
    return listed + (f"\n  ... and {more} more" if more > 0 else "")


def _stages_message(unknown: Counter[str]) -> str:
    """Every stage name no mapping covers, with the options that would import the file."""
    names = sorted(unknown, key=lambda name: (-unknown[name], name.lower()))
    counts = ", ".join(
        f'"{name}" ({unknown[name]} row{"s" if unknown[name] != 1 else ""})' for name in names
    )
    options = " ".join(f'--stage-map "{name}=STAGE"' for name in names)
    return (
        f"{len(names)} stage name{'s' if len(names) != 1 else ''} in the file "
        f"{'are' if len(names) != 1 else 'is'} not one VectorOS knows: {counts}.\n"
        f"Map each to prospect, qualified, proposal, negotiation or closed (won, lost) and "
        f"import again with:\n  {options}"
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
    # Owners the file names who were not members yet: "Name <email>" or the email.
    new_members: tuple[str, ...] = ()

    def to_api(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "totalRows": self.total_rows,
            "dryRun": self.dry_run,
            "newMembers": list(self.new_members),
        }
