"""The stage board: one column per open stage with its totals and its deals."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.health import DealHealth
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.store.board import (
    AGEING_DAYS,
    BOARD_CARDS,
    StageColumn,
    days_in_stage,
    is_overdue,
)
from vectoros_tui.widgets.formatting import compact_money
from vectoros_tui.widgets.next_step import card_mark
from vectoros_tui.widgets.palette import Palette

# The text width of a board column at 80 terminal columns (a quarter, less the borders).
NARROW_HEADER = 16


class StageDeals(OptionList):
    """The deals of one stage; left/right move to the neighbouring stage."""

    HELP_GROUP = "In a board column"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "neighbour(-1)", "Previous column", show=False),
        Binding("right", "neighbour(1)", "Next column", show=False),
    ]

    def __init__(self, stage: str) -> None:
        super().__init__(id=f"deals-{stage}", classes="stage-deals")
        self.stage = stage

    def action_neighbour(self, step: int) -> None:
        index = OPEN_STAGES.index(self.stage) + step
        if 0 <= index < len(OPEN_STAGES):
            self.screen.query_one(f"#deals-{OPEN_STAGES[index]}", StageDeals).focus()


class StageBoard(Horizontal):
    DEFAULT_CSS = """
    StageBoard { height: 1fr; }
    StageBoard .stage-column { width: 1fr; border: round $panel; margin: 0 0; }
    StageBoard .stage-column:focus-within { border: round $accent; }
    StageBoard .stage-header { height: 3; padding: 0 1; background: $boost; }
    StageBoard .stage-deals { height: 1fr; border: none; padding: 0; scrollbar-gutter: stable; }
    """

    class DealHighlighted(Message):
        def __init__(self, deal_id: str | None) -> None:
            super().__init__()
            self.deal_id = deal_id

    class DealChosen(Message):
        def __init__(self, deal_id: str) -> None:
            super().__init__()
            self.deal_id = deal_id

    def compose(self) -> ComposeResult:
        for stage in OPEN_STAGES:
            with Vertical(classes="stage-column"):
                yield Static(stage.title(), id=f"header-{stage}", classes="stage-header")
                yield StageDeals(stage)

    def show(
        self,
        columns: list[StageColumn],
        health: dict[str, DealHealth],
        now: datetime,
        keep: str | None = None,
        *,
        today: date | None = None,
    ) -> None:
        """Repaint the columns, keeping the highlighted deal where it still is. ``today``
        (the app's clock) is what a next step's due date is read against; without it no
        card is marked for its next step."""
        palette = Palette.of(self.app)
        for column in columns:
            self.query_one(f"#header-{column.stage}", Static).update(self._header(column, palette))
            deals = self.query_one(f"#deals-{column.stage}", StageDeals)
            deals.clear_options()
            shown = column.deals[:BOARD_CARDS]
            deals.add_options(
                Option(self._line(deal, health, now, palette, today), id=deal.id) for deal in shown
            )
            if column.count > len(shown):
                more = column.count - len(shown)
                deals.add_option(
                    Option(
                        Text(f"+{more:,} more: v for the table", style="dim"),
                        disabled=True,
                    )
                )
            if keep and any(d.id == keep for d in shown):
                deals.highlighted = deals.get_option_index(keep)
                if isinstance(self.screen.focused, StageDeals):
                    deals.focus()  # follow a deal moved to another stage
            elif shown:
                # A highlighted card from the start: e, l, f... work without an arrow first.
                deals.highlighted = 0

    @staticmethod
    def _header(column: StageColumn, palette: Palette) -> Text:
        """Three short lines, so a column a fifth of 80 terminal columns wide never wraps:
        the stage and its count, value and weighted value, the flags."""
        text = Text.assemble(
            (column.stage.title(), "bold"),
            f" · {column.count:,}\n",
            f"{compact_money(column.total_value)} ",
            (f"wtd {compact_money(column.weighted_value)}", "bold"),
        )
        # The marks the cards carry, counted (F1 and the filter bar say what they mean);
        # both at once in a narrow column: the marks alone.
        flags = []
        if column.overdue:
            flags.append((f"!{column.overdue}", " overdue", palette.overdue()))
        if column.ageing:
            flags.append((f"~{column.ageing}", " ageing", palette.ageing()))
        words = len(flags) == 1 or sum(len(m + w) + 1 for m, w, _ in flags) <= NARROW_HEADER
        if flags:
            text.append("\n")
            for index, (mark, word, style) in enumerate(flags):
                text.append((" " if index else "") + mark + (word if words else ""), style=style)
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    @staticmethod
    def _line(
        deal: DealRecord,
        health_map: dict[str, DealHealth],
        now: datetime,
        palette: Palette,
        today: date | None,
    ) -> Text:
        health = health_map.get(deal.id)
        marks = ""
        if is_overdue(deal, now):
            marks += "!"
        if days_in_stage(deal, now) >= AGEING_DAYS:
            marks += "~"
        # Two lines per deal: the numbers, then the title (which may wrap); a third, in
        # words, when the next step needs the rep (the first line has no room for words).
        line = Text()
        if health is not None:
            line.append(f"{health.health_score:>3.0f} ", style=palette.health(health.health_status))
        line.append(f"{compact_money(deal.value):>6} ", style="bold")
        line.append(marks, style=palette.overdue() if "!" in marks else palette.ageing())
        line.append("\n" + deal.title)
        step = card_mark(deal, today, palette) if today is not None else None
        if step is not None:
            line.append("\n")
            line.append_text(step)
        return line

    def highlighted_deal(self) -> str | None:
        focused = self.screen.focused
        lists = [focused] if isinstance(focused, StageDeals) else list(self.query(StageDeals))
        for deals in lists:
            if deals.highlighted is not None and deals.option_count:
                return deals.get_option_at_index(deals.highlighted).id
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.DealChosen(event.option.id))
