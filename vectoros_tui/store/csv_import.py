"""Import deals from CSV exports of other CRMs: plan (read + validate), then apply.

``plan_import`` reads the whole file, maps its columns to deal fields and validates every
row with :func:`~vectoros_tui.store.validation.clean_deal`; it touches no database.
``apply_import`` writes a plan in ONE transaction (``DealService.upsert_many``), or
nothing at all when any row of the file is invalid.

Reading rules, decided per file so one odd cell cannot change how the others are read:

* Encoding is UTF-8; a byte-order mark is ignored. The delimiter is ``,``, ``;`` or tab,
  whichever splits the first lines into the most, consistently sized, columns.
* Blank lines and rows whose cells are all empty are skipped (spreadsheets leave them).
* Columns are found from common header names (case, spaces, underscores, hyphens and a
  trailing ``(...)`` such as ``Probability (%)`` do not matter); ``mapping`` overrides that.
* Probability: if every non-empty value lies within 0..1, at least one is a fraction and
  none carries ``%``, the column holds fractions (HubSpot's ``0.6``) and is multiplied by
  100 and rounded. Otherwise values are whole percentages (``60`` or ``60%``).
* Money: ``$1,200.50``, ``1 200`` and ``€3,000`` are read as usual. If some value of the
  column is unmistakably written with a decimal comma (``1.200,50``, ``99,5``) and none
  with a decimal point, the whole column is read that way, so ``1.200`` is 1200 there.
* Dates: ISO, ``2026/12/31``, ``Dec 31 2026``, ``31 Dec 2026`` and slash/dot/dash dates
  with a four-digit year; a time of day is ignored. Slash dates are month-first unless
  ``day_first`` is set or some date of the column can only be day-first (``31/12/2026``)
  and none can only be month-first. A column mixing both orders is an error.
* Stages: the five stages, the aliases of :mod:`vectoros_tui.engine.stages`, the default
  stages of Salesforce, HubSpot and Pipedrive (:data:`CRM_STAGE_ALIASES`) and anything in
  ``stage_map``. Without a stage column a deal is ``prospect``, or ``closed`` when it has
  an outcome.
* A cell that starts with ``'`` followed by ``= + - @``, tab or carriage return loses the
  quote: that is how exports (ours included) neutralise spreadsheet formulas.
* Source id (what makes re-imports update instead of duplicate): the id column when there
  is one (``source_id`` preferred over ``id``); otherwise ``csv:`` plus a hash of the
  normalised title and company, so re-importing an updated export (new stage, value or
  close date) updates the same deals. Two rows of one file with the same source id are an
  error naming both lines.
* Updates: an existing deal changes only in the fields the file has columns for
  (:func:`merge_into`); a new deal gets defaults for the others.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlmodel import col, select

from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.tables import Deal, Workspace
from vectoros_tui.store.validation import DEAL_FIELDS, ValidationError, clean_deal
from vectoros_tui.store.views import DealView

if TYPE_CHECKING:
    from vectoros_tui.store.store import Store

__all__ = [
    "COLUMN_ALIASES",
    "CRM_STAGE_ALIASES",
    "IMPORT_FIELDS",
    "CsvImportError",
    "ImportFileError",
    "ImportPlan",
    "ImportResult",
    "RowError",
    "apply_import",
    "derived_source_id",
    "merge_into",
    "plan_import",
]

SOURCE_ID = "source_id"
IMPORT_FIELDS = (*DEAL_FIELDS, SOURCE_ID)
MAX_SOURCE_ID = 200
MAX_LISTED_ERRORS = 20
PROGRESS_EVERY = 500
_SAMPLE_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t")

# field -> header names, most specific first (the first one present wins).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    SOURCE_ID: (
        "source id",
        "external id",
        "crm id",
        "record id",
        "deal id",
        "opportunity id",
        "id",
    ),
    "title": (
        "title",
        "deal name",
        "opportunity name",
        "deal",
        "opportunity",
        "name",
        "subject",
    ),
    "company": (
        "company",
        "account name",
        "account",
        "company name",
        "associated company",
        "organization",
        "organisation",
        "customer",
    ),
    "value": (
        "value",
        "amount",
        "deal value",
        "deal amount",
        "close value",
        "revenue",
        "arr",
        "acv",
        "price",
    ),
    "stage": ("stage", "deal stage", "pipeline stage", "status"),
    "probability": (
        "probability",
        "prob",
        "win probability",
        "deal probability",
        "likelihood",
        "confidence",
        "%",
    ),
    "contact_name": (
        "contact name",
        "contact",
        "primary contact",
        "associated contact",
        "owner contact",
    ),
    "contact_email": ("contact email", "email", "e-mail", "primary contact email"),
    "close_date": (
        "close date",
        "closedate",
        "expected close date",
        "expected close",
        "close",
        "due date",
    ),
    "outcome": ("outcome", "result", "won/lost"),
    "lost_reason": ("lost reason", "loss reason", "reason lost", "closed lost reason"),
}

# Default stages of common CRMs -> our stage or alias. Keys are compared after
# lower-casing and dropping everything but letters and digits ("Id. Decision Makers").
CRM_STAGE_ALIASES: dict[str, str] = {
    # Salesforce
    "prospecting": "prospect",
    "needs analysis": "qualified",
    "id. decision makers": "qualified",
    "value proposition": "proposal",
    "perception analysis": "proposal",
    "proposal/price quote": "proposal",
    "negotiation/review": "negotiation",
    # HubSpot (labels and internal names)
    "appointment scheduled": "prospect",
    "appointmentscheduled": "prospect",
    "qualified to buy": "qualified",
    "qualifiedtobuy": "qualified",
    "presentation scheduled": "proposal",
    "presentationscheduled": "proposal",
    "decision maker bought-in": "negotiation",
    "decisionmakerboughtin": "negotiation",
    "contract sent": "negotiation",
    "contractsent": "negotiation",
    "closedwon": "won",
    "closedlost": "lost",
    # Pipedrive
    "lead in": "prospect",
    "contact made": "prospect",
    "demo scheduled": "qualified",
    "proposal made": "proposal",
    "negotiations started": "negotiation",
}

_OUTCOME_WORDS = {
    "won": "won",
    "win": "won",
    "closedwon": "won",
    "lost": "lost",
    "loss": "lost",
    "closedlost": "lost",
    "open": "",
    "none": "",
    "pending": "",
    "active": "",
    "inprogress": "",
}

_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_TIME_SUFFIX = re.compile(
    r"^(?P<date>.+?)[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?"
    r"\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?$"
)
_MONEY_SYMBOLS = re.compile(r"[\s$€£¥_]|usd|eur|gbp|chf", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+),\d{1,2}$|^-?\d{1,3}(?:\.\d{3}){2,}$")
_DECIMAL_POINT = re.compile(r"^-?[\d,]*\d\.(?:\d{1,2}|\d{4,})$|^-?\d{1,3}(?:,\d{3}){2,}$")


def _key(text: str) -> str:
    """Header names compare without case, spaces, underscores, hyphens or a (suffix)."""
    text = text.strip().lstrip("\ufeff").lower()
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", text)
    return re.sub(r"[\s_\-]+", "", bare or text)


def _stage_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


_CRM_STAGES = {_stage_key(k): v for k, v in CRM_STAGE_ALIASES.items()}


# --- results and errors -----------------------------------------------------------------


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


# --- reading the file --------------------------------------------------------------------


_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?); save it as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook; save it as CSV first"),
    (b"%PDF", "a PDF, not a CSV file"),
    (b"\xff\xfe", "UTF-16 text; save it as 'CSV UTF-8'"),
    (b"\xfe\xff", "UTF-16 text; save it as 'CSV UTF-8'"),
)


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
            _check_head(raw.read(8192), name)
        handle = path.open(encoding=encoding, newline="")
        return handle, name, handle.close
    name = str(getattr(source, "name", None) or "the input")
    return source, name, lambda: None


def _decode_error(name: str, encoding: str, line: int | None) -> CsvImportError:
    where = f" (line {line})" if line else ""
    return CsvImportError(
        f"{name} is not {encoding.replace('-sig', '').upper()} text{where}; save it as "
        "'CSV UTF-8' (or give its encoding, e.g. cp1252)"
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


# --- mapping columns -----------------------------------------------------------------------


def _match_column(columns: list[str], wanted: str) -> list[int]:
    exact = [i for i, c in enumerate(columns) if c == wanted]
    if exact:
        return exact
    key = _key(wanted)
    return [i for i, c in enumerate(columns) if c and _key(c) == key]


def _map_columns(
    columns: list[str], mapping: Mapping[str, str | None] | None
) -> tuple[dict[str, int], list[str]]:
    available = ", ".join(f'"{c}"' for c in columns if c) or "(none)"
    chosen: dict[str, int] = {}
    skipped: set[str] = set()
    for raw_field, column in (mapping or {}).items():
        name = raw_field.strip().lower().replace("-", "_").replace(" ", "_")
        name = {"id": SOURCE_ID}.get(name, name)
        if name not in IMPORT_FIELDS:
            raise CsvImportError(
                f"--map {raw_field}=...: {raw_field!r} is not a deal field; use one of "
                f"{', '.join(IMPORT_FIELDS)}"
            )
        if column is None or not str(column).strip():
            skipped.add(name)  # field=  means: do not import this field
            continue
        found = _match_column(columns, str(column).strip())
        if not found:
            raise CsvImportError(
                f"--map {raw_field}={column}: the file has no column {column!r}; "
                f"its columns are {available}"
            )
        if len(found) > 1:
            raise CsvImportError(
                f"--map {raw_field}={column}: {len(found)} columns are named {column!r}; "
                "rename one of them"
            )
        chosen[name] = found[0]

    taken = set(chosen.values())
    keys = [_key(c) if c else "" for c in columns]
    for name, aliases in COLUMN_ALIASES.items():
        if name in chosen or name in skipped:
            continue
        for alias in aliases:
            hits = [i for i, k in enumerate(keys) if k == _key(alias) and i not in taken]
            if len(hits) > 1:
                raise CsvImportError(
                    f"{len(hits)} columns could be the {name} ("
                    + ", ".join(f'"{columns[i]}"' for i in hits)
                    + f"); choose one with --map {name}=COLUMN"
                )
            if hits:
                chosen[name] = hits[0]
                taken.add(hits[0])
                break
    if "title" not in chosen:
        raise CsvImportError(
            f"no title column found (looked for {', '.join(COLUMN_ALIASES['title'])}); "
            f"its columns are {available}; choose one with --map title=COLUMN"
        )
    ignored = [c for i, c in enumerate(columns) if c and i not in set(chosen.values())]
    return chosen, ignored


# --- per-column decisions ------------------------------------------------------------------


def _fraction_probabilities(values: Iterable[str]) -> bool:
    fractional = False
    for text in values:
        if not text:
            continue
        if text.endswith("%"):
            return False
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            continue
        if not 0 <= number <= 1:
            return False
        fractional = fractional or 0 < number < 1
    return fractional


def _decimal_comma(values: Iterable[str]) -> bool:
    comma = point = False
    for text in values:
        bare = _MONEY_SYMBOLS.sub("", text)
        comma = comma or bool(_DECIMAL_COMMA.match(bare))
        point = point or bool(_DECIMAL_POINT.match(bare))
    return comma and not point


def _money_with_decimal_comma(text: str) -> str:
    bare = _MONEY_SYMBOLS.sub("", text)
    return bare.replace(".", "").replace(",", ".")


def _strip_time(text: str) -> str:
    found = _TIME_SUFFIX.match(text)
    return found.group("date") if found else text


@dataclass
class _DateOrder:
    day_first: bool
    example_day_first: tuple[int, str] | None = None
    example_month_first: tuple[int, str] | None = None


def _date_order(cells: Iterable[tuple[int, str]], day_first: bool) -> _DateOrder:
    order = _DateOrder(day_first)
    for line, raw in cells:
        text = _strip_time(raw)
        found = _SLASH_DATE.match(text)
        if not found:
            continue
        first, second = int(found.group(1)), int(found.group(2))
        if first > 12 and second <= 12 and order.example_day_first is None:
            order.example_day_first = (line, raw)
        if second > 12 and first <= 12 and order.example_month_first is None:
            order.example_month_first = (line, raw)
    if order.example_day_first and not order.example_month_first:
        order.day_first = True
    return order


def _date_cell(raw: str, order: _DateOrder) -> str:
    """The cell, ready for parse_calendar_date; ValueError when its order contradicts."""
    text = _strip_time(raw)
    found = _SLASH_DATE.match(text)
    if not found:
        return text
    first, second, year = found.groups()
    if order.day_first and int(second) > 12 and int(first) <= 12:
        raise ValueError(f"{raw!r} is not a day/month/year date, as the other dates are")
    if not order.day_first and int(first) > 12 and int(second) <= 12:
        line, example = order.example_month_first or (0, "")
        raise ValueError(
            f"{raw!r} is day/month/year but other dates are month/day/year "
            f"(line {line}: {example}); make them consistent"
        )
    return f"{first}/{second}/{year}"


# --- planning ---------------------------------------------------------------------------


def plan_import(
    source: str | os.PathLike[str] | TextIO,
    *,
    mapping: Mapping[str, str | None] | None = None,
    stage_map: Mapping[str, str] | None = None,
    day_first: bool = False,
    encoding: str = "utf-8-sig",
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportPlan:
    """Read and validate a CSV file of deals; see the module docstring for the rules.

    ``source`` is a path or an open text stream. ``mapping`` is ``{field: column}``
    (``--map value=close_value``; an empty column skips the field). ``stage_map`` is
    ``{"Demo Scheduled": "qualified", ...}`` for a CRM's own stage names. ``progress`` is
    called with ``(rows validated, total rows)`` every 500 rows and at the end.

    Raises :class:`CsvImportError` when the file as a whole is unusable; problems with
    individual rows are collected in ``ImportPlan.errors`` instead.
    """
    stages = _check_stage_map(stage_map)
    handle, name, close = _open(source, encoding)
    try:
        try:
            sample = handle.read(_SAMPLE_CHARS)
            if isinstance(sample, bytes):
                raise TypeError("plan_import needs a path or a text stream, not a binary one")
            if sample and not sample.endswith(("\n", "\r")):
                sample += handle.readline()
        except UnicodeDecodeError:
            raise _decode_error(name, encoding, None) from None
        sample = sample.removeprefix("\ufeff")
        if "\x00" in sample:
            raise CsvImportError(f"{name} looks like a binary file, not CSV text")
        if not sample.strip():
            raise CsvImportError(f"{name} is empty; expected a header row and deals")
        delimiter = _sniff_delimiter(sample)
        lines = itertools.chain(io.StringIO(sample, newline=""), handle)
        records: list[tuple[int, list[str]]] = []
        header: list[str] | None = None
        reader = csv.reader(lines, delimiter=delimiter)
        previous = 0  # the record starts on the line after the previous one ended
        try:
            for cells in reader:
                start, previous = previous + 1, reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if header is None:
                    header = [c.strip().lstrip("\ufeff") for c in cells]
                    continue
                records.append((start, cells))
        except UnicodeDecodeError:
            raise _decode_error(name, encoding, reader.line_num + 1) from None
        except csv.Error as exc:
            raise CsvImportError(
                f"{name}: cannot read line {reader.line_num} as CSV: {exc}"
            ) from None
    finally:
        close()

    if header is None or not any(header):
        raise CsvImportError(f"{name} is empty; expected a header row and deals")
    if not records:
        raise CsvImportError(f"{name} has a header row but no deals")
    columns, ignored = _map_columns(header, mapping)
    header_map = {f: header[i] for f, i in columns.items()}
    return _validate(
        records,
        header,
        columns,
        header_map,
        ignored,
        delimiter,
        stages,
        day_first,
        progress,
    )


def _check_stage_map(stage_map: Mapping[str, str] | None) -> dict[str, str]:
    stages: dict[str, str] = {}
    for crm_stage, ours in (stage_map or {}).items():
        try:
            normalise_stage(ours)
        except UnknownStageError as exc:
            raise CsvImportError(f"stage map {crm_stage!r} -> {ours!r}: {exc}") from None
        stages[_stage_key(crm_stage)] = ours
    return stages


def _validate(
    records: list[tuple[int, list[str]]],
    header: list[str],
    columns: dict[str, int],
    header_map: dict[str, str],
    ignored: list[str],
    delimiter: str,
    stages: dict[str, str],
    day_first: bool,
    progress: Callable[[int, int | None], None] | None,
) -> ImportPlan:
    width = len(header)

    def cell(cells: list[str], name: str) -> str:
        index = columns.get(name)
        if index is None or index >= len(cells):
            return ""
        return _NEUTRALISED.sub("", cells[index].strip()).strip()

    def column_values(name: str) -> list[tuple[int, str]]:
        if name not in columns:
            return []
        return [(line, cell(cells, name)) for line, cells in records]

    warnings: list[str] = []
    fractions = _fraction_probabilities(v for _, v in column_values("probability"))
    if fractions:
        warnings.append(
            f'probabilities in "{header_map["probability"]}" are fractions; 0.6 is read as 60%'
        )
    decimal_comma = _decimal_comma(v for _, v in column_values("value"))
    if decimal_comma:
        warnings.append(
            f'amounts in "{header_map["value"]}" use a decimal comma; 1.200,50 is read as 1200.5'
        )
    order = _date_order(((ln, v) for ln, v in column_values("close_date") if v), day_first)
    if order.day_first and not day_first and order.example_day_first:
        line, example = order.example_day_first
        warnings.append(
            f"dates are read as day/month/year (line {line} has {example}); 03/04/2026 is 3 April"
        )
    if "stage" not in columns:
        warnings.append(
            "no stage column: deals import as prospect (closed if they have an outcome)"
        )
    if SOURCE_ID not in columns:
        warnings.append("no id column: deals are matched on re-import by title and company")

    def column_of(field_name: str) -> str:
        return header_map.get(field_name, field_name)

    rows: list[tuple[str, dict[str, Any]]] = []
    row_lines: list[int] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    total = len(records)
    for done, (line, cells) in enumerate(records):  # ``done`` rows are validated so far
        if progress is not None and done and done % PROGRESS_EVERY == 0:
            progress(done, total)
        row_errors: list[RowError] = []
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            # The values are shifted, so errors about its fields would only mislead.
            errors.append(
                RowError(
                    line,
                    "",
                    f"has {len(cells)} values but the header has {width} columns "
                    "(a value containing the delimiter that is not in quotes?)",
                )
            )
            continue
        data: dict[str, Any] = {f: cell(cells, f) for f in DEAL_FIELDS if f in columns}

        if decimal_comma and data.get("value"):
            data["value"] = _money_with_decimal_comma(data["value"])
        if fractions and data.get("probability"):
            try:
                number = float(data["probability"].replace(",", "."))
                if 0 <= number <= 1:
                    data["probability"] = str(round(number * 100))
            except ValueError:
                pass  # clean_deal reports it
        if data.get("close_date"):
            try:
                data["close_date"] = _date_cell(data["close_date"], order)
            except ValueError as exc:
                row_errors.append(RowError(line, column_of("close_date"), f"close_date {exc}"))
                data.pop("close_date")
        if data.get("outcome") is not None:
            word = _stage_key(data["outcome"])
            data["outcome"] = _OUTCOME_WORDS.get(word, data["outcome"])
        if "stage" in columns:
            key = _stage_key(data["stage"])
            data["stage"] = stages.get(key) or _CRM_STAGES.get(key) or data["stage"]
        else:
            data["stage"] = "closed" if data.get("outcome") else "prospect"

        clean: dict[str, Any] | None = None
        try:
            clean = clean_deal(data, day_first=order.day_first)
        except ValidationError as exc:
            row_errors.extend(
                RowError(line, column_of(e.field), f"{e.field} {e.message}") for e in exc.errors
            )

        source_id, derived, id_error = _source_id(
            cells, columns, cell, clean, data, line, header_map
        )
        if id_error:
            row_errors.append(id_error)
        if source_id is not None:
            first = seen.get(source_id)
            if first is None:
                seen[source_id] = line
            else:
                row_errors.append(
                    _duplicate_error(line, first, source_id, derived, header_map, data)
                )
        errors.extend(row_errors)
        if clean is not None and source_id is not None and not row_errors:
            rows.append((source_id, clean))
            row_lines.append(line)
    if progress is not None:
        progress(total, total)
    return ImportPlan(
        rows=rows,
        header_map=header_map,
        errors=errors,
        total_rows=total,
        ignored_columns=ignored,
        delimiter=delimiter,
        warnings=warnings,
        lines=row_lines,
    )


def derived_source_id(title: str, company: str | None) -> str:
    """The source id of a row without an id column: stable for the same title + company."""
    norm = (
        " ".join(title.casefold().split()) + "\x1f" + " ".join((company or "").casefold().split())
    )
    return "csv:" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:20]


def _source_id(
    cells: list[str],
    columns: dict[str, int],
    cell: Callable[[list[str], str], str],
    clean: dict[str, Any] | None,
    data: dict[str, Any],
    line: int,
    header_map: dict[str, str],
) -> tuple[str | None, bool, RowError | None]:
    """(source id, whether it was derived from the content, error)."""
    if SOURCE_ID in columns:
        value = cell(cells, SOURCE_ID)
        if len(value) > MAX_SOURCE_ID:
            return (
                None,
                False,
                RowError(
                    line,
                    header_map[SOURCE_ID],
                    f"id is too long ({len(value)} characters, at most {MAX_SOURCE_ID})",
                ),
            )
        if value:
            return value, False, None
    title = clean["title"] if clean else (data.get("title") or "").strip()
    if not title:
        return None, True, None  # clean_deal already reported the empty title
    company = clean["company"] if clean else (data.get("company") or "").strip() or None
    return derived_source_id(title, company), True, None


def _duplicate_error(
    line: int,
    first: int,
    source_id: str,
    derived: bool,
    header_map: dict[str, str],
    data: dict[str, Any],
) -> RowError:
    if not derived:
        return RowError(
            line,
            header_map[SOURCE_ID],
            f"id {source_id!r} is also on line {first}; lines {first} and {line} "
            "cannot both be that deal",
        )
    company = data.get("company") or ""
    return RowError(
        line,
        header_map["title"],
        f"lines {first} and {line} have the same title and company "
        f"({data.get('title', '')!r}, {company!r}) and no id, so they would be one deal; "
        "add an id column or make the titles distinct",
    )


# --- applying -----------------------------------------------------------------------------


def _existing(
    store: Store, workspace_id: uuid.UUID, source_ids: list[str]
) -> tuple[dict[str, DealView], dict[str, DealView]]:
    """Deals matching the plan: by source id, and (for ids that are deal UUIDs of deals
    without a source id, as our exports write) by id."""
    by_source: dict[str, DealView] = {}
    by_uuid: dict[str, DealView] = {}
    uuids: dict[uuid.UUID, str] = {}
    for sid in source_ids:
        try:
            uuids[uuid.UUID(sid)] = sid
        except ValueError:
            continue
    with store.db.read() as session:
        if session.get(Workspace, workspace_id) is None:
            raise NotFoundError(f"workspace {workspace_id} does not exist")
        for chunk in _chunks(source_ids, 500):
            for row in session.exec(
                select(Deal).where(
                    Deal.workspace_id == workspace_id, col(Deal.source_id).in_(chunk)
                )
            ).all():
                by_source[row.source_id] = DealView.from_row(row)
        for chunk in _chunks(list(uuids), 500):
            for row in session.exec(
                select(Deal).where(
                    Deal.workspace_id == workspace_id,
                    col(Deal.id).in_(chunk),
                    col(Deal.source_id).is_(None),
                )
            ).all():
                sid = uuids[row.id]
                if sid not in by_source:
                    by_uuid[sid] = DealView.from_row(row)
    return by_source, by_uuid


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_import(
    store: Store, workspace_id: uuid.UUID, plan: ImportPlan, *, dry_run: bool = False
) -> ImportResult:
    """Write a plan: every row or, if the file had any error, nothing.

    Raises :class:`ImportFileError` listing the plan's errors before touching the
    database. With ``dry_run`` nothing is written and the counts say what would happen.

    New deals get every field from the file. Existing deals (same source id) change only
    in the fields the file has a column for (see :func:`merge_into`), so importing a file
    of, say, titles and emails does not reset stages. Rows whose source id is the id of a
    deal of this workspace without a source id (``vectoros export`` writes those) update
    that deal instead of creating a copy.
    """
    if plan.errors:
        raise ImportFileError(plan.errors)
    source_ids = [sid for sid, _ in plan.rows]
    by_source, by_uuid = _existing(store, workspace_id, source_ids)
    present = {f for f in plan.header_map if f in DEAL_FIELDS}
    lines = plan.lines if len(plan.lines) == len(plan.rows) else [0] * len(plan.rows)
    rows: list[tuple[str, dict[str, Any]]] = []
    errors: list[RowError] = []
    created = updated = unchanged = 0
    for (sid, clean), line in zip(plan.rows, lines, strict=True):
        current = by_source.get(sid) or by_uuid.get(sid)
        if current is None:
            rows.append((sid, clean))
            created += 1
            continue
        before = current.editable_fields()
        try:
            final = merge_into(before, clean, present)
        except ValidationError as exc:
            errors.extend(
                RowError(
                    line,
                    plan.header_map.get(e.field, e.field),
                    f"{e.field} {e.message} (with the deal's stored fields)",
                )
                for e in exc.errors
            )
            continue
        rows.append((sid, clean))
        if any(before.get(k) != v for k, v in final.items()):
            updated += 1
        else:
            unchanged += 1
    if errors:
        raise ImportFileError(errors)
    if dry_run:
        return ImportResult(created, updated, unchanged, plan.total_rows, dry_run=True)
    # The merge runs again inside the write transaction, against the state stored then.
    counts = store.deals.upsert_many(
        workspace_id, rows, merge=lambda stored, row: merge_into(stored, row, present)
    )
    return ImportResult(counts["created"], counts["updated"], counts["unchanged"], plan.total_rows)


def merge_into(
    current: Mapping[str, Any], clean: Mapping[str, Any], present: set[str]
) -> dict[str, Any]:
    """An existing deal's fields updated with a row's, for the fields in ``present``.

    A stage column decides the outcome too (``Proposal`` reopens a won deal). Without
    one, a won/lost outcome closes the deal and an empty one keeps the stored outcome.
    A deal that is not lost loses its lost reason; a deal whose outcome changes without
    a probability column gets the usual probability (won 100, lost 0, else the stage's).
    Raises ``ValidationError`` if the result is not a valid deal.
    """
    merged = dict(current)
    for name in present:
        merged[name] = clean[name]
    if "stage" in present:
        merged["outcome"] = clean["outcome"]
    elif "outcome" in present:
        if clean["outcome"]:
            merged["stage"] = "closed"
        else:
            merged["outcome"] = current["outcome"]
    if merged["outcome"] != "lost" and "lost_reason" not in present:
        merged["lost_reason"] = None
    if "probability" not in present and merged["outcome"] != current["outcome"]:
        merged["probability"] = None
    return clean_deal(merged)
