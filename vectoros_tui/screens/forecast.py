"""Placeholder: the forecast screen is being written."""

from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class ForecastScreen(Screen[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Header()
        yield Static("Forecast")
        yield Footer()
