"""The deal table: one page of deals at a time, so 100k deals cost what 100 do."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from vectoros_tui.engine.health import DealHealth
from vectoros_tui.widgets.formatting import compact_money, health_badge
from vectoros_tui.widgets.next_step import next_cell
from vectoros_tui.widgets.palette import Palette

if TYPE_CHECKING:
    from vectoros_tui.store.views import DealPage

# (column key, label, sort key or None), in the order shown: what a rep decides on first,
# so that at 80-100 columns the health and numbers stay on screen. A sort key is a field of
# DealService.list, or HEALTH_SORT (scores are not stored: see store.snapshot.page_by_health).
HEALTH_SORT = "health"
COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("title", "Title", "title"),
    ("health", "Health", "health"),
    ("value", "Value", "value"),
    ("stage", "Stage", "stage"),
    ("probability", "Prob", "probability"),
    ("close_date", "Close", "close_date"),
    # The next step's due date, or what is wrong with it (the store cannot sort by it).
    ("next_step", "Next", None),
    ("company", "Company", "company"),
    ("outcome", "Outcome", "outcome"),
    ("updated_at", "Updated", "updated_at"),
)
SORTABLE_COLUMNS = [key for key, _, field in COLUMNS if field]
# Widths of the cells besides the title; the title takes what the terminal has left
# (at least TITLE_MIN), so at 80 columns every column a rep decides on stays on screen.
WIDTHS = {
    "health": 6,
    "value": 6,
    "stage": 11,
    "probability": 4,
    "close_date": 10,
    "next_step": 8,
    "company": 10,
    "outcome": 7,
    "updated_at": 10,
}
TITLE_MIN = 16
TITLE_MAX = 48
# Below this terminal width the Updated column goes (the sort still works by it).
WIDE = 120
# When the title would get less than TITLE_MIN, these go, in this order, until it does
# not: at 80 columns the company (most titles name it) makes room for the next step.
DROPPED_FIRST = ("company", "probability")
CELL_PADDING = 2  # DataTable pads every cell one column each side
SCROLLBAR = 2


def visible_columns(width: int, *, show_outcome: bool) -> list[tuple[str, int]]:
    """(column key, width) for a table ``width`` columns wide, title first."""
    keys = [
        key
        for key, _, _ in COLUMNS
        if key != "title"
        and (key != "outcome" or show_outcome)
        and (key != "updated_at" or width >= WIDE)
    ]
    for key in DROPPED_FIRST:
        if width - _used(keys) >= TITLE_MIN:
            break
        keys.remove(key)
    title = max(TITLE_MIN, min(TITLE_MAX, width - _used(keys)))
    return [("title", title), *((k, WIDTHS[k]) for k in keys)]


def _used(keys: list[str]) -> int:
    """The columns the cells besides the title take, with the title's padding."""
    return sum(WIDTHS[k] + CELL_PADDING for k in keys) + CELL_PADDING + SCROLLBAR


class DealTable(DataTable[Text | str]):
    """Rows keyed by deal id; left/right ask for the previous/next page, Home/End go to
    the first/last row. Its columns fit the width it has."""

    HELP_GROUP = "In the deal table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "page(1)", "Next page", show=False, id="table.next_page"),
        Binding("left", "page(-1)", "Previous page", show=False, id="table.previous_page"),
        Binding("home", "first_row", "First row", show=False, id="table.first_row"),
        Binding("end", "last_row", "Last row", show=False, id="table.last_row"),
    ]

    class PageRequested(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._layout: list[tuple[str, int]] = []
        self._shown: tuple[DealPage, dict[str, DealHealth], bool, date | None] | None = None

    def on_mount(self) -> None:
        self._fit_columns(show_outcome=False)

    def on_resize(self) -> None:
        if self._shown is not None:
            page, health, show_outcome, today = self._shown
            self.show_page(
                page,
                health,
                keep=self.highlighted_deal(),
                show_outcome=show_outcome,
                today=today,
            )

    def action_page(self, step: int) -> None:
        self.post_message(self.PageRequested(step))

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, column=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, column=0)

    def _fit_columns(self, show_outcome: bool) -> None:
        width = self.size.width or self.app.size.width
        layout = visible_columns(width, show_outcome=show_outcome)
        if layout == self._layout:
            return
        self.clear(columns=True)
        labels = {key: label for key, label, _ in COLUMNS}
        for key, size in layout:
            self.add_column(labels[key], key=key, width=size)
        self._layout = layout

    def show_page(
        self,
        page: DealPage,
        health: dict[str, DealHealth],
        keep: str | None = None,
        *,
        show_outcome: bool = True,
        today: date | None = None,
    ) -> None:
        """One page of deals; ``today`` (the app's clock) is what a next step's due date
        is read against."""
        self._shown = (page, health, show_outcome, today)
        self._fit_columns(show_outcome)
        self.clear()
        palette = Palette.of(self.app)
        today = today or date.today()
        for deal in page.deals:
            deal_id = str(deal.id)
            scored = health.get(deal_id)
            cells: dict[str, Text | str] = {
                "title": Text(deal.title, overflow="ellipsis", no_wrap=True),
                "health": (
                    health_badge(scored.health_score, scored.health_status, palette)
                    if scored
                    else "—"
                ),
                "value": Text(compact_money(deal.value), justify="right"),
                "stage": deal.stage,
                "probability": Text(f"{deal.probability}%", justify="right"),
                "close_date": deal.close_date.isoformat() if deal.close_date else "—",
                "next_step": next_cell(deal, today, palette),
                "company": Text(deal.company or "", overflow="ellipsis", no_wrap=True),
                "outcome": deal.outcome or "open",
                "updated_at": deal.updated_at.strftime("%Y-%m-%d"),
            }
            self.add_row(*(cells[key] for key, _ in self._layout), key=deal_id)
        if keep and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep))
        elif self.row_count:
            self.move_cursor(row=0, column=0, scroll=True)

    def highlighted_deal(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None
