"""The deal table: one page of deals at a time, so 100k deals cost what 100 do."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from vectoros_tui.engine.health import DealHealth
from vectoros_tui.widgets.formatting import health_badge, money

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
    ("probability", "Prob.", "probability"),
    ("close_date", "Close", "close_date"),
    ("company", "Company", "company"),
    ("outcome", "Outcome", "outcome"),
    ("updated_at", "Updated", "updated_at"),
)
# Titles run long; past this they end in an ellipsis (the editor shows them whole).
TITLE_WIDTH = 36
SORTABLE_COLUMNS = [key for key, _, field in COLUMNS if field]


class DealTable(DataTable[Text | str]):
    """Rows keyed by deal id; left/right ask for the previous/next page."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "page(1)", "Next page", show=False, id="table.next_page"),
        Binding("left", "page(-1)", "Previous page", show=False, id="table.previous_page"),
    ]

    class PageRequested(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        for key, label, _ in COLUMNS:
            self.add_column(label, key=key, width=TITLE_WIDTH if key == "title" else None)

    def action_page(self, step: int) -> None:
        self.post_message(self.PageRequested(step))

    def show_page(
        self, page: DealPage, health: dict[str, DealHealth], keep: str | None = None
    ) -> None:
        self.clear()
        for deal in page.deals:
            deal_id = str(deal.id)
            scored = health.get(deal_id)
            cells: dict[str, Text | str] = {
                "title": Text(deal.title, overflow="ellipsis", no_wrap=True),
                "health": (
                    health_badge(scored.health_score, scored.health_status) if scored else "—"
                ),
                "value": Text(money(deal.value), justify="right"),
                "stage": deal.stage,
                "probability": Text(f"{deal.probability}%", justify="right"),
                "close_date": deal.close_date.isoformat() if deal.close_date else "—",
                "company": deal.company or "",
                "outcome": deal.outcome or "open",
                "updated_at": deal.updated_at.strftime("%Y-%m-%d"),
            }
            self.add_row(*(cells[key] for key, _, _ in COLUMNS), key=deal_id)
        if keep and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep))

    def highlighted_deal(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None
