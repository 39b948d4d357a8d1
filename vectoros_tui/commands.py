"""Command palette: the current screen's own commands, plus the global ones.

A screen offers commands by defining ``palette_commands()`` returning
``(name, help, callback)`` triples; this provider shows them only while that screen is
active, next to the app-wide commands.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], object]]


class ScreenCommands(Provider):
    def _commands(self) -> list[Command]:
        app = self.app
        commands: list[Command] = [
            (
                "Go to pipeline",
                "Stage board and deal table (F2)",
                partial(app.switch_mode, "pipeline"),
            ),
            (
                "Go to forecast",
                "Scenarios, distribution, what-if (F3)",
                partial(app.switch_mode, "forecast"),
            ),
            (
                "Go to insights",
                "Risks and opportunities (F4)",
                partial(app.switch_mode, "insights"),
            ),
            (
                "Switch workspace",
                "Choose another workspace (ctrl+o)",
                partial(app.run_action, "switch_workspace"),
            ),
            ("Reload data", "Read the workspace again (ctrl+r)", partial(app.run_action, "reload")),
            ("Show keys", "Every key of this screen (F1)", partial(app.run_action, "help")),
        ]
        screen_commands = getattr(self.screen, "palette_commands", None)
        if callable(screen_commands):
            commands = list(screen_commands()) + commands
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
