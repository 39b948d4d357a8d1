"""A table that can be focused while it is scrolled out of sight (a report's list of deals
below its headline, which the screen opens on): the first key that would move its cursor,
or act on its row, brings it into view instead, so that a rep never moves or acts on a row
they cannot see."""

from __future__ import annotations

from textual.widgets import DataTable


class RevealingTable(DataTable[object]):
    def revealed(self) -> bool:
        """Whether any of the table is in sight; if none is, it is scrolled into view (its
        top first) and the caller leaves the key at that."""
        if self.screen.can_view_partial(self):
            return True
        self.scroll_visible(top=True, animate=False)
        return False

    def action_cursor_up(self) -> None:
        if self.revealed():
            super().action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.revealed():
            super().action_cursor_down()

    def action_page_up(self) -> None:
        if self.revealed():
            super().action_page_up()

    def action_page_down(self) -> None:
        if self.revealed():
            super().action_page_down()

    def action_select_cursor(self) -> None:
        if self.revealed():
            super().action_select_cursor()
