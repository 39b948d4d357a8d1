"""A deal's timeline in the editor: its activities (done, planned, overdue) and the
changes its history recorded (stage, outcome, value, close date, probability, owner),
newest first. Only activity rows can be edited: the history is what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from vectoros_tui.screens.deal_fields import show_field
from vectoros_tui.store.validation import parse_timestamp
from vectoros_tui.store.views import ActivityView
from vectoros_tui.widgets.next_step import OVERDUE_MARK
from vectoros_tui.widgets.palette import Palette

# How the history's field names read in the Type column.
CHANGE_LABELS = {"close_date": "close date", "probability": "prob."}
# History rows are keyed apart from activities (whose keys are their ids), so e, d and x
# can tell one from the other.
CHANGE_KEY = "change-"


@dataclass(frozen=True)
class Change:
    """One recorded change of a deal field, as DealService.history gives it."""

    field: str
    old: str | None
    new: str | None
    at: datetime

    @classmethod
    def from_history(cls, event: Mapping[str, Any]) -> Change:
        return cls(event["field"], event["from"], event["to"], parse_timestamp(event["changedAt"]))


def change_value(field: str, value: str | None, members: Mapping[str, str]) -> str:
    """A recorded value as a rep reads it (money, a percentage, a member's name)."""
    if field == "outcome":
        return value or "open"
    if field == "owner":
        if value is None:
            return "nobody"
        return members.get(value, "a former member")
    return show_field(field, value)


class ActivityTable(DataTable[str | Text]):
    """The deal's timeline. Its letter keys act only here, where nothing is typed: in
    the form, every letter goes into the field that has focus."""

    HELP_GROUP = "In the activity timeline"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "screen.edit_activity", "Edit activity", id="editor.edit_activity"),
        Binding("d", "screen.mark_activity_done", "Mark done", id="editor.activity_done"),
        Binding("x", "screen.delete_activity", "Delete activity", id="editor.delete_activity"),
    ]

    def show(
        self,
        activities: list[ActivityView],
        changes: list[Change],
        today: date,
        members: Mapping[str, str],
    ) -> None:
        """Every row again, newest first; the cursor stays on the row it was on."""
        keep = self.highlighted_key()
        rows: list[tuple[datetime, str, tuple[str | Text, ...]]] = [
            (item.date, str(item.id), self._activity_row(item, today)) for item in activities
        ]
        rows += [
            (change.at, f"{CHANGE_KEY}{index}", self._change_row(change, members))
            for index, change in enumerate(changes)
        ]
        # Stable: at the same moment, activities stay in the store's order.
        rows.sort(key=lambda row: row[0], reverse=True)
        self.clear()
        for _, key, cells in rows:
            self.add_row(*cells, key=key)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep))

    def _activity_row(self, item: ActivityView, today: date) -> tuple[str | Text, ...]:
        what = Text(overflow="ellipsis", no_wrap=True)
        if not item.done:
            # In words as well as colour: a planned call reads as one in any terminal.
            if item.date.date() < today:
                what.append(f"{OVERDUE_MARK} overdue · ", style=Palette.of(self.app).overdue())
            else:
                what.append("planned · ", style="bold")
        what.append(item.description)
        return (item.date.strftime("%Y-%m-%d"), item.type, what)

    @staticmethod
    def _change_row(change: Change, members: Mapping[str, str]) -> tuple[str | Text, ...]:
        label = CHANGE_LABELS.get(change.field, change.field)
        old = change_value(change.field, change.old, members)
        new = change_value(change.field, change.new, members)
        what = Text(f"{old} → {new}", style="dim", overflow="ellipsis", no_wrap=True)
        return (change.at.strftime("%Y-%m-%d"), Text(label, style="dim italic"), what)

    def highlighted_key(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key is None else str(key)
