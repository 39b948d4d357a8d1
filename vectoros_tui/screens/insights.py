"""Placeholder: the insights screen is being written."""

from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class InsightsScreen(Screen[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Header()
        yield Static("Insights")
        yield Footer()
