"""Printing: readable tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def report(label: str, message: str) -> None:
    """An error line on stderr; ``message`` is shown literally (never read as markup)."""
    errors.print(Text.assemble((f"{label}: ", "bold red"), message), soft_wrap=True)


def say(template: str, *values: object) -> None:
    """Print ``template`` (trusted markup) with ``values`` inserted literally: user text
    such as a deal titled "Pilot [/phase 2]" must never be read as markup."""
    console.print(template.format(*(escape(str(v)) for v in values)))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


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
        out.add_row(*(Text("—" if cell is None else str(cell)) for cell in row))
    console.print(out)


def short_id(value: object) -> str:
    return str(value)[:8]
