"""Printing: readable tables for people, JSON for scripts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from rich.cells import cell_len
from rich.console import (
    Console,
    ConsoleOptions,
    ConsoleRenderable,
    JustifyMethod,
    RenderableType,
    RenderHook,
    RenderResult,
)
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from vectoros_tui import plain_json
from vectoros_tui.text_safety import is_safe, json_for_terminal, visible


class _Neutralised:
    """A renderable whose text segments have every control character shown as an escape.
    Rich's own control segments (cursor moves of a progress bar) pass untouched."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or is_safe(segment.text, multiline=True):
                yield segment
            else:
                yield Segment(visible(segment.text, multiline=True), segment.style)


class TerminalSafe(RenderHook):
    """The last line of defence for everything printed: stored text is made visible where
    it is formatted (``plain``), and anything that slipped through is neutralised here."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Neutralised(r) for r in renderables]


def _console(**options: Any) -> Console:
    made = Console(highlight=False, **options)
    made.push_render_hook(TerminalSafe())
    return made


console = _console()
errors = _console(stderr=True)


class FilteredStream:
    """Writes to ``stream`` what ``transform`` makes of each piece of text."""

    def __init__(self, stream: Any, transform: Callable[[str], str]) -> None:
        self.stream = stream
        self.transform = transform

    def write(self, text: str) -> int:
        return self.stream.write(self.transform(text))

    def flush(self) -> None:
        self.stream.flush()


def visible_lines(text: str) -> str:
    return visible(text, multiline=True)


def plain(value: object) -> str:
    """Stored text as it may be shown in a terminal: control characters as escapes."""
    return visible(str(value))


def report(label: str, message: str) -> None:
    """An error line on stderr; ``message`` is shown literally (never read as markup)."""
    errors.print(
        Text.assemble((f"{label}: ", "bold red"), visible(message, multiline=True)),
        soft_wrap=True,
    )


def say(template: str, *values: object) -> None:
    """Print ``template`` (trusted markup) with ``values`` inserted literally: user text
    such as a deal titled "Pilot [/phase 2]" must never be read as markup nor drive the
    terminal."""
    console.print(template.format(*(escape(plain(v)) for v in values)))


def print_json(data: Any) -> None:
    sys.stdout.write(json_for_terminal(json_text(data)) + "\n")


def json_text(data: Any) -> str:
    """``data`` as indented JSON, ten times as fast as the standard library and the same
    text, but for a NaN (not JSON: null here) and exponents (1e-7, not 1e-07)."""
    try:
        return plain_json.dumps(data, indent=True).decode()
    except (TypeError, orjson.JSONEncodeError):
        # What orjson refuses (an integer past 64 bits) the standard library writes.
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)


@contextmanager
def progress_bar(label: str, wanted: bool = True) -> Iterator[Callable[[int, int | None], None]]:
    """A transient bar on stderr (only in a terminal); yields ``update(done, total)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        # The label is shown literally: no markup, no format fields (file names have both).
        TextColumn(label.replace("[", "\\[").replace("{", "{{").replace("}", "}}")),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        disable=not (wanted and sys.stderr.isatty()),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def percent(fraction: float | None, digits: int = 0) -> str:
    return "—" if fraction is None else f"{fraction * 100:.{digits}f}%"


def table(
    title: str | None,
    columns: Sequence[str | tuple[str, JustifyMethod]],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
) -> None:
    """Columns are names, or (name, "right") for numbers."""
    out = Table(title=title, caption=caption, header_style="bold", title_justify="left")
    justify: JustifyMethod
    for column in columns:
        name, justify = (column, "left") if isinstance(column, str) else column
        out.add_column(name, justify=justify, overflow="fold")
    for row in rows:
        out.add_row(*(Text("—" if cell is None else plain(cell)) for cell in row))
    console.print(out)


def short_id(value: object) -> str:
    return str(value)[:8]


# --- listings: one line per item, fitted to the terminal ---------------------------------

GAP = 2  # spaces between the columns of a listing


@dataclass(frozen=True)
class Column:
    """A column of :func:`listing`.

    ``rank`` 0 is never dropped; when a terminal is too narrow the highest rank goes
    first. ``shrink`` columns (free text: titles, companies) are shortened with an
    ellipsis down to ``min_width`` before any column is dropped, so a long title does not
    push the stage or the value off the screen, and a narrow terminal still shows titles
    a rep can recognise.
    """

    name: str
    rank: int = 0
    right: bool = False
    shrink: bool = False
    min_width: int = 0


def output_width() -> int | None:
    """The width listings must fit: $COLUMNS when set, else the terminal's; None when
    standard output is not a terminal (a pipe or a file gets every column in full)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if console.is_terminal:
        return console.size.width
    return None


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None
) -> list[tuple[int, int]]:
    """(index, width) of the columns to show so that every line fits in ``width``."""
    natural = [
        max([cell_len(column.name), *(cell_len(row[i]) for row in rows)])
        for i, column in enumerate(columns)
    ]
    kept = list(range(len(columns)))
    if width is None:
        return [(i, natural[i]) for i in kept]

    def floor(i: int) -> int:
        column = columns[i]
        return max(column.min_width, cell_len(column.name)) if column.shrink else natural[i]

    while True:
        widths = {i: natural[i] for i in kept}
        excess = sum(widths.values()) + GAP * (len(kept) - 1) - width
        slack = sum(natural[i] - min(floor(i), natural[i]) for i in kept)
        droppable = [i for i in kept if columns[i].rank > 0]
        if excess <= slack or not droppable:
            break
        kept.remove(max(droppable, key=lambda i: (columns[i].rank, i)))
    floors = {i: min(floor(i), natural[i]) for i in kept}
    _shrink(widths, floors, excess)
    excess = sum(widths.values()) + GAP * (len(kept) - 1) - width
    if excess > 0:
        # Even the essential columns at their narrowest do not fit (a very narrow
        # terminal): the free-text ones give up more, down to one character.
        _shrink(widths, {i: 1 if columns[i].shrink else widths[i] for i in kept}, excess)
    return [(i, widths[i]) for i in kept]


def _shrink(widths: dict[int, int], floors: dict[int, int], excess: int) -> None:
    """Take ``excess`` cells off the widest columns first, none below its floor."""
    while excess > 0:
        candidates = sorted((i for i in widths if widths[i] > floors[i]), key=lambda i: -widths[i])
        if not candidates:
            return
        widest = candidates[0]
        runner_up = widths[candidates[1]] if len(candidates) > 1 else 0
        step = min(excess, widths[widest] - max(runner_up, floors[widest]) or 1)
        widths[widest] -= step
        excess -= step


def _cell(text: str, width: int, column: Column, last: bool, style: str = "") -> Text:
    cell = Text(text, style=style)
    if cell.cell_len > width:
        cell.truncate(width, overflow="ellipsis")
    padding = " " * (width - cell.cell_len)
    if column.right:
        return Text.assemble(padding, cell)
    return cell if last else Text.assemble(cell, padding)


def listing(
    title: str | None,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
) -> None:
    """A list of items, one line each, that never wraps: in a terminal (or with $COLUMNS)
    it fits the width, dropping the highest-ranked columns and shortening free text with
    an ellipsis; otherwise every column is printed in full. ``title`` and ``caption`` are
    shown literally."""
    cells = [["—" if value is None else plain(value) for value in row] for row in rows]
    width = output_width()
    shown = fit_columns(columns, cells, width)
    if title:
        console.print(Text(plain(title), style="bold"), soft_wrap=True)
    lines = [[column.name for column in columns], *cells]
    for number, line in enumerate(lines):
        parts = [
            _cell(line[i], w, columns[i], n == len(shown) - 1, "bold" if number == 0 else "")
            for n, (i, w) in enumerate(shown)
        ]
        out = Text(" " * GAP).join(parts)
        if width is not None and out.cell_len > width:
            out.truncate(width, overflow="ellipsis")
        console.print(out, soft_wrap=True)
    if caption:
        console.print(Text(plain(caption), style="dim"), soft_wrap=True)
