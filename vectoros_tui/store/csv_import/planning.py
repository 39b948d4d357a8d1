"""plan_import: read and validate every row; no database is touched."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TextIO

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.stages import UnknownStageError, normalise_stage
from vectoros_tui.store.csv_import.cells import (
    _NEUTRALISED,
    _date_cell,
    _date_order,
    _DateOrder,
    _decimal_comma,
    _fraction_probabilities,
    _money_with_decimal_comma,
    _month_first_in_words,
)
from vectoros_tui.store.csv_import.columns import _map_columns
from vectoros_tui.store.csv_import.reading import (
    _SAMPLE_CHARS,
    _decode_error,
    _open,
    _sniff_delimiter,
)
from vectoros_tui.store.csv_import.results import CsvImportError, ImportPlan, RowError
from vectoros_tui.store.csv_import.vocabulary import (
    _CRM_STAGES,
    _OUTCOME_WORDS,
    MAX_SOURCE_ID,
    OWNER,
    SOURCE_ID,
    _stage_key,
)
from vectoros_tui.store.owners import address_for
from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    EARLIEST_DATE,
    HISTORY_FIELDS,
    NEXT_STEP_FIELDS,
    ValidationError,
    clean_deal,
    parse_calendar_date,
)

PROGRESS_EVERY = 500


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
                if not "".join(cells).strip():
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
    today: date | None = None,
) -> ImportPlan:
    width = len(header)
    today = today or utc_now().date()

    table = [_values(cells, width) for _, cells in records]

    def cell(values: list[str], name: str) -> str:
        index = columns.get(name)
        return "" if index is None else values[index]

    def column_values(name: str) -> list[tuple[int, str]]:
        """The column's distinct non-empty values, each with the first line it is on: how
        a column is read depends on which values it holds, not how often (a file's dates
        and amounts repeat)."""
        if name not in columns:
            return []
        index = columns[name]
        first: dict[str, int] = {}
        for (line, _), values in zip(records, table, strict=True):
            if (value := values[index]) and value not in first:
                first[value] = line
        return [(line, value) for value, line in first.items()]

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
    elif not order.day_first and not order.example_month_first and order.example_either:
        # Nothing in the file says which order it uses: say which one was taken.
        line, example = order.example_either
        warnings.append(
            f"dates are read as month/day/year, as nothing in the file says otherwise "
            f"(line {line}: {example.strip()} is {_month_first_in_words(example)}); "
            "--day-first reads them as day/month/year"
        )
    history_orders = {
        name: _date_order(((ln, v) for ln, v in column_values(name) if v), day_first)
        for name in HISTORY_FIELDS
        if name in columns
    }
    if "stage" not in columns:
        warnings.append(
            "no stage column: deals import as prospect (closed if they have an outcome)"
        )
    if SOURCE_ID not in columns:
        warnings.append("no id column: deals are matched on re-import by title and company")

    def column_of(field_name: str) -> str:
        return header_map.get(field_name, field_name)

    # A column repeats few distinct values (a team's reps, its stages, the days of a few
    # years), so what reading a cell decides is decided once per distinct text.
    stage_of: dict[str, tuple[str, str | None]] = {}  # stage as written -> (stage, unknown)
    outcome_of: dict[str, str] = {}
    owner_problems: dict[str, list[str]] = {}
    close_dates: dict[str, date | str] = {}
    history_cells: dict[tuple[str, str], tuple[datetime | None, date] | str] = {}
    deal_columns = [(f, columns[f]) for f in (*DEAL_FIELDS, *NEXT_STEP_FIELDS) if f in columns]
    rows: list[tuple[str, dict[str, Any]]] = []
    row_lines: list[int] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    total = len(records)
    for done, ((line, cells), values) in enumerate(zip(records, table, strict=True)):
        # ``done`` rows are validated so far
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
        data: dict[str, Any] = {f: values[i] for f, i in deal_columns}
        # Spreadsheets wrap long titles onto several lines; a deal's fields are one line each,
        # so a line break or tab inside a cell reads as a space (other control characters
        # are refused by clean_deal).
        for name, raw in data.items():
            if not raw.isprintable() and _LINE_BREAKS.search(raw):
                data[name] = _LINE_BREAKS.sub(" ", raw)

        if decimal_comma and data.get("value"):
            data["value"] = _money_with_decimal_comma(data["value"])
        if fractions and data.get("probability"):
            try:
                number = float(data["probability"].replace(",", "."))
                if 0 <= number <= 1:
                    data["probability"] = str(round(number * 100))
            except ValueError:
                pass  # clean_deal reports it
        if text := data.get("close_date"):
            close = close_dates.get(text)
            if close is None:
                close = close_dates[text] = _close_date(text, order)
            if isinstance(close, _CellError):
                row_errors.append(RowError(line, column_of("close_date"), f"close_date {close}"))
                data.pop("close_date")
            else:
                data["close_date"] = close
        if (text := data.get("outcome")) is not None:
            outcome = outcome_of.get(text)
            if outcome is None:
                outcome = outcome_of[text] = _OUTCOME_WORDS.get(_stage_key(text), text)
            data["outcome"] = outcome
        unknown_stage = None
        if "stage" in columns:
            text = data["stage"]
            found = stage_of.get(text)
            if found is None:
                key = _stage_key(text)
                stage = stages.get(key) or _CRM_STAGES.get(key) or text
                found = stage_of[text] = (stage, _unknown_stage(stage))
            data["stage"], unknown_stage = found
        else:
            data["stage"] = "closed" if data.get("outcome") else "prospect"

        clean: dict[str, Any] | None = None
        try:
            clean = clean_deal(data, day_first=order.day_first)
        except ValidationError as exc:
            row_errors.extend(
                RowError(
                    line,
                    column_of(e.field),
                    f"{e.field} {e.message}",
                    unknown_stage=unknown_stage if e.field == "stage" else None,
                )
                for e in exc.errors
            )
        history, history_errors = _history(
            {name: values[columns[name]] for name in history_orders},
            history_orders,
            clean,
            line,
            column_of,
            today,
            history_cells,
        )
        row_errors.extend(history_errors)
        if clean is not None:
            clean.update(history)
        if OWNER in columns and (owner := values[columns[OWNER]]):
            problems = owner_problems.get(owner)
            if problems is None:
                try:
                    address_for(owner)
                    problems = owner_problems[owner] = []
                except ValidationError as exc:
                    problems = owner_problems[owner] = [e.message for e in exc.errors]
            row_errors.extend(RowError(line, column_of(OWNER), f"owner {m}") for m in problems)
            if clean is not None and not problems:
                clean[OWNER] = owner

        source_id, derived, id_error = _source_id(
            values, columns, cell, clean, data, line, header_map
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


class _CellError(str):
    """Why a cell cannot be read (what a ValueError said), kept in place of its value."""


def _close_date(text: str, order: _DateOrder) -> date | str:
    """A close-date cell read in its column's order: the day, or the cell ready for
    clean_deal (which names the problem of a date it cannot read), or a _CellError when
    the cell contradicts its column's order."""
    try:
        ready = _date_cell(text, order)
    except ValueError as exc:
        return _CellError(exc)
    try:
        return parse_calendar_date(ready, day_first=order.day_first)
    except ValueError:
        return ready


def _values(cells: list[str], width: int) -> list[str]:
    """A record's cells as read: without surrounding spaces or the quote that neutralises a
    formula; at least as many as the header has columns (missing ones are empty)."""
    values = [c.strip() for c in cells]
    if "'" in "".join(values):  # rare: only then is each cell looked at
        values = [_NEUTRALISED.sub("", v).strip() if v[:1] == "'" else v for v in values]
    if len(values) < width:
        values.extend([""] * (width - len(values)))
    return values


def _unknown_stage(stage: str) -> str | None:
    """The stage as written in the file when no stage, alias or mapping matches it."""
    try:
        normalise_stage(stage)
    except UnknownStageError:
        return stage.strip() or None
    return None


def _exact_moment(text: str) -> datetime | None:
    """A cell holding an ISO timestamp with its UTC offset (as our own export writes) keeps
    its time, so an export imported again changes nothing. A time without an offset is in
    some unknown zone, so only its day counts."""
    if ":" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 in UTC
        return None


def _history_cell(text: str, order: _DateOrder) -> tuple[datetime | None, date] | str:
    """A created or closed date cell: (its exact moment if it gives one, its day), or why
    it cannot be read."""
    moment = _exact_moment(text)
    if moment:
        return moment, moment.date()
    try:
        return None, parse_calendar_date(_date_cell(text, order), day_first=order.day_first)
    except ValueError as exc:
        return str(exc)


def _history(
    raw: dict[str, str],
    orders: dict[str, _DateOrder],
    clean: dict[str, Any] | None,
    line: int,
    column_of: Callable[[str], str],
    today: date,
    cells: dict[tuple[str, str], tuple[datetime | None, date] | str],
) -> tuple[dict[str, datetime], list[RowError]]:
    """A row's created and closed dates (midnight UTC of the day unless the cell gives a
    time), checked against each
    other and the calendar. A closed deal without a closed-date column closed on its close
    date: that is what CRM exports put there once a deal is won or lost. ``cells`` keeps
    how each (field, text) read: the file's other rows repeat them."""
    found: dict[str, datetime] = {}
    errors: list[RowError] = []
    for name, text in raw.items():
        if not text:
            continue
        label = name.replace("_at", " date")
        read = cells.get((name, text))
        if read is None:
            read = cells[name, text] = _history_cell(text, orders[name])
        if isinstance(read, str):
            errors.append(RowError(line, column_of(name), f"{label}: {read}"))
            continue
        moment, day = read
        if not EARLIEST_DATE <= day <= today:
            errors.append(
                RowError(
                    line,
                    column_of(name),
                    f"{label} {day.isoformat()} is not between {EARLIEST_DATE.isoformat()} "
                    f"and today ({today.isoformat()})",
                )
            )
            continue
        found[name] = moment or datetime(day.year, day.month, day.day, tzinfo=UTC)
    if clean is None:
        return found, errors
    if not clean.get("outcome"):
        if "closed_at" in found:
            errors.append(
                RowError(line, column_of("closed_at"), "closed date given for an open deal")
            )
        return found, errors
    if "closed_at" not in found and "closed_at" not in raw and clean.get("close_date"):
        close: date = clean["close_date"]
        if close <= today:
            found["closed_at"] = datetime(close.year, close.month, close.day, tzinfo=UTC)
    created, closed = found.get("created_at"), found.get("closed_at")
    if created and closed and closed < created:
        errors.append(
            RowError(
                line,
                column_of("closed_at" if "closed_at" in raw else "close_date"),
                f"closed on {closed.date().isoformat()}, before it was created "
                f"({created.date().isoformat()})",
            )
        )
    return found, errors


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


_LINE_BREAKS = re.compile(r"[\t\r\n]+")


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
