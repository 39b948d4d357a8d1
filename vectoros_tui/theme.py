"""The app's own colours: one theme for terminals with 256 colours or more, one for 16.

Textual's default accent (#ffa62b) and error (#ba3c5b) both become bright red when a
terminal has only the 16 ANSI colours (TERM=xterm, many SSH sessions), so the selected
window and the focused column looked exactly like an overdue deal. In ``vectoros`` each
role lands on its own ANSI colour even when reduced: accent magenta, primary cyan, warning
yellow, error bright red, success bright green.

Reduced colours still meet badly, though: the focused card's cyan showed yellow and red
marks on it, and the other columns' highlighted cards sat on bright black. A 16-colour
terminal therefore gets ``vectoros-16``, drawn in the terminal's own ANSI colours: the
cursor is bright white on blue, marks are in colours of middle brightness that stay
readable on blue and on a dark or light background, and panels take the terminal's own
background instead of a grey.
"""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

THEME_NAME = "vectoros"
ANSI_THEME_NAME = "vectoros-16"
# The configured default: the theme that fits the terminal's colours.
AUTO = "auto"

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

VECTOROS_16_THEME = Theme(
    name=ANSI_THEME_NAME,
    ansi=True,
    primary="ansi_bright_blue",
    secondary="ansi_cyan",
    accent="ansi_bright_magenta",
    # Marks in colours of middle brightness, readable on a dark terminal, on a light one
    # (plain xterm is black on white) and on the blue cursor alike.
    warning="ansi_yellow",
    error="ansi_bright_red",
    success="ansi_green",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_white",
        "block-cursor-foreground": "ansi_bright_white",
        "block-cursor-background": "ansi_blue",
        "block-cursor-text-style": "bold",
        # The cursor of a column or table without focus: marked, but quieter.
        "block-cursor-blurred-foreground": "ansi_default",
        "block-cursor-blurred-background": "ansi_default",
        "block-cursor-blurred-text-style": "underline",
        "border": "ansi_bright_magenta",
        "border-blurred": "ansi_bright_black",
        "footer-key-foreground": "ansi_cyan",
        # Blue text is hard to read on black in most terminals' palettes.
        "text-primary": "ansi_cyan",
        "input-selection-background": "ansi_blue",
        "input-selection-foreground": "ansi_bright_white",
        "screen-selection-background": "ansi_blue",
        "screen-selection-foreground": "ansi_bright_white",
    },
)

OUR_THEMES = (VECTOROS_THEME, VECTOROS_16_THEME)


def theme_for(configured: str, color_system: str | None) -> str:
    """The theme to run: the configured one, or for ``auto`` the one for the terminal
    (Rich's colour system: ``standard`` and ``windows`` are the 16-colour ones)."""
    if configured != AUTO:
        return configured
    return ANSI_THEME_NAME if color_system in ("standard", "windows") else THEME_NAME


def theme_problem(name: str) -> str | None:
    """Why ``name`` cannot be the ``[ui] theme`` setting, or None when it can."""
    known = sorted({AUTO, *(theme.name for theme in OUR_THEMES), *BUILTIN_THEMES})
    if name in known:
        return None
    return f"[ui] theme: no theme is called {name!r}; choose one of {', '.join(known)}"
