"""A plotext chart that stays readable under a theme drawn in the terminal's own colours."""

from __future__ import annotations

from textual.theme import Theme
from textual_plotext import PlotextPlot


class ThemedPlot(PlotextPlot):
    """:class:`PlotextPlot` whose axes and labels take the terminal's own colours under an
    ANSI theme. The plot's automatic theme copies the app's surface and foreground as RGB,
    and the terminal's default colour has none: labels came out black on black."""

    def on_mount(self) -> None:
        self._follow(self.app.current_theme)
        self.app.theme_changed_signal.subscribe(self, self._follow)

    def _follow(self, theme: Theme) -> None:
        self.theme = "clear" if theme.ansi else "auto"
