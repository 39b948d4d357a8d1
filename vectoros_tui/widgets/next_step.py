"""What a deal's next step needs from its rep: the marks the board's cards, the deal
table's Next column and the editor share, so the three never disagree.

Every mark is a glyph and a word, readable without colour (the colour, from the theme,
only adds to it): a 16-colour or monochrome terminal shows the same warning.
"""

from __future__ import annotations

from datetime import date
from typing import Final, Literal, Protocol

from rich.text import Text

from vectoros_tui.widgets.palette import Palette

NextStepState = Literal["overdue", "missing", "due", "undated", "closed"]

OVERDUE_MARK: Final = "⚑"
MISSING_MARK: Final = "⚐"
# Due dates this close show day and month; beyond, month and year (the column is narrow,
# and "3 Jan" a year off would read as this January).
NEAR_DAYS: Final = 180


class HasNextStep(Protocol):
    """A deal as the store (DealView) or the engine (DealRecord) has it."""

    @property
    def outcome(self) -> str | None: ...
    @property
    def stage(self) -> str: ...
    @property
    def next_step(self) -> str | None: ...
    @property
    def next_step_due(self) -> date | None: ...


def next_step_state(deal: HasNextStep, today: date) -> NextStepState:
    """``overdue`` (its due date has passed) and ``missing`` (nobody said what happens
    next) ask for the rep; a closed deal asks for nothing, whatever it still holds."""
    if deal.outcome is not None or deal.stage == "closed":
        return "closed"
    if deal.next_step_due is not None and deal.next_step_due < today:
        return "overdue"
    if not deal.next_step:
        return "missing"
    return "due" if deal.next_step_due is not None else "undated"


def card_mark(deal: HasNextStep, today: date, palette: Palette) -> Text | None:
    """The line a board card adds when its next step needs the rep (16 columns at most:
    a board column at 80 terminal columns)."""
    state = next_step_state(deal, today)
    if state == "overdue":
        return Text(f"{OVERDUE_MARK} step overdue", style=palette.overdue())
    if state == "missing":
        return Text(f"{MISSING_MARK} no next step", style=palette.ageing())
    return None


def short_due(due: date, today: date) -> str:
    """At most 8 characters: ``3 Jan`` when near, ``Jan 2028`` when not."""
    if abs((due - today).days) <= NEAR_DAYS:
        return f"{due.day} {due:%b}"
    return f"{due:%b %Y}"


def next_cell(deal: HasNextStep, today: date, palette: Palette) -> Text:
    """The deal table's Next column: the due date, ``overdue``, ``missing`` or a dash."""
    state = next_step_state(deal, today)
    if state == "overdue":
        return Text("overdue", style=palette.overdue())
    if state == "missing":
        return Text("missing", style=palette.ageing())
    if deal.next_step_due is None:
        return Text("—", style="dim")
    return Text(short_due(deal.next_step_due, today))


def due_in_words(due: date, today: date) -> str:
    """``today``, ``tomorrow``, ``in 5 days``, ``3 days ago``: how far a due date is."""
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"
