"""The colours of text drawn in code (cells, cards, badges), taken from the app's theme.

Stylesheets name theme variables (``$error``); Rich text built in Python cannot, so each
meaning (a poor health band, an overdue mark, a high-priority insight) names the theme
role it is drawn in, and :class:`Palette` looks the role's colour up in the running
theme. A theme that survives 16 colours then keeps every mark apart there too, and a
theme switch changes these colours with the rest of the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from textual.color import Color, ColorParseError

from vectoros_tui.theme import VECTOROS_THEME

# meaning -> (theme role, bold); an empty role keeps the text's own colour.
HEALTH_ROLES: Final = {
    "excellent": ("success", True),
    "good": ("success", False),
    "fair": ("warning", False),
    "poor": ("error", False),
    "critical": ("error", True),
}
PRIORITY_ROLES: Final = {
    "critical": ("error", True),
    "high": ("error", False),
    "medium": ("warning", False),
    "low": ("", False),
}
INSIGHT_TYPE_ROLES: Final = {
    "risk": ("error", False),
    "warning": ("warning", False),
    "opportunity": ("success", False),
    "recommendation": ("primary", False),
}
OUTCOME_ROLES: Final = {"won": ("success", False), "lost": ("error", False)}

# The card and column marks: overdue is an error, ageing a warning.
OVERDUE: Final = ("error", False)
AGEING: Final = ("warning", False)


def _defaults() -> dict[str, str]:
    theme = VECTOROS_THEME
    roles = {
        "primary": theme.primary,
        "secondary": theme.secondary,
        "accent": theme.accent,
        "warning": theme.warning,
        "error": theme.error,
        "success": theme.success,
    }
    return {name: colour for name, colour in roles.items() if colour}


def _rich_colour(colour: str) -> str:
    """A theme's colour as Rich spells it: ``ansi_red`` (the ANSI themes) is ``color(1)``."""
    try:
        parsed = Color.parse(colour) if colour else None
    except ColorParseError:
        return colour
    return parsed.rich_color.name if parsed is not None and parsed.ansi is not None else colour


class _HasTheme(Protocol):
    theme_variables: dict[str, str]


@dataclass(frozen=True)
class Palette:
    """Rich styles for the theme roles, e.g. ``palette.style("error")`` → ``"#FF5F5F"``."""

    variables: Mapping[str, str] = field(default_factory=_defaults)

    @classmethod
    def of(cls, app: _HasTheme) -> Palette:
        """The running app's theme (its defaults before the first stylesheet pass)."""
        return cls({**_defaults(), **app.theme_variables})

    def style(self, role: str, bold: bool = False) -> str:
        # The primary colour is made for backgrounds; as text it takes the theme's
        # legible variant (a dark blue on a dark screen is hard to read).
        name = "text-primary" if role == "primary" and "text-primary" in self.variables else role
        colour = _rich_colour(self.variables.get(name, "")) if role else ""
        return " ".join(part for part in ("bold" if bold else "", colour) if part)

    def _of(self, roles: Mapping[str, tuple[str, bool]], key: str | None) -> str:
        role, bold = roles.get(key or "", ("", False))
        return self.style(role, bold)

    def health(self, band: str | None) -> str:
        return self._of(HEALTH_ROLES, band)

    def priority(self, priority: str | None) -> str:
        # A low priority is quiet whatever the theme; a critical one a reversed badge.
        if priority == "low":
            return "dim"
        style = self._of(PRIORITY_ROLES, priority)
        return f"reverse {style}" if priority == "critical" else style

    def insight_type(self, kind: str | None) -> str:
        return self._of(INSIGHT_TYPE_ROLES, kind)

    def outcome(self, outcome: str | None) -> str:
        return self._of(OUTCOME_ROLES, outcome)

    def overdue(self) -> str:
        return self.style(*OVERDUE)

    def ageing(self) -> str:
        return self.style(*AGEING)
