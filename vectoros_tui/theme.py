"""The app's own colours, chosen to stay apart in a 16-colour terminal.

Textual's default accent (#ffa62b) and error (#ba3c5b) both become bright red when a
terminal has only the 16 ANSI colours (TERM=xterm, many SSH sessions), so the selected
window and the focused column looked exactly like an overdue deal. Each role below lands
on its own ANSI colour: accent magenta, primary cyan, warning yellow, error bright red,
success bright green.
"""

from __future__ import annotations

from textual.theme import Theme

THEME_NAME = "vectoros"

VECTOROS_THEME = Theme(
    name=THEME_NAME,
    primary="#0178D4",
    secondary="#004578",
    accent="#C678DD",
    warning="#D7AF00",
    error="#FF5F5F",
    success="#4EBF71",
    foreground="#E0E0E0",
    dark=True,
)
