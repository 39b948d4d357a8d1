"""Printing: readable tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderHook, RenderResult
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

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

    def process_renderables(self, renderables: list[RenderableType]) -> list[RenderableType]:
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
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(json_for_terminal(text) + "\n")


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


def money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def percent(fraction: float | None, digits: int = 0) -> str:
    return "—" if fraction is None else f"{fraction * 100:.{digits}f}%"


def table(
    title: str | None,
    columns: Sequence[str | tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
) -> None:
    """Columns are names, or (name, "right") for numbers."""
    out = Table(title=title, caption=caption, header_style="bold", title_justify="left")
    for column in columns:
        name, justify = (column, "left") if isinstance(column, str) else column
        out.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        out.add_row(*(Text("—" if cell is None else plain(cell)) for cell in row))
    console.print(out)


def short_id(value: object) -> str:
    return str(value)[:8]
