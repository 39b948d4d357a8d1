"""Short human formats shared by the widgets (money, percentages, health badges)."""

from __future__ import annotations

from rich.text import Text

from vectoros_tui.money import format_money
from vectoros_tui.widgets.palette import Palette

# The forecast models as the screens name them.
MODEL_LABELS = {"history": "history", "rep": "rep %"}


def compact_money(value: float | None) -> str:
    """$1.2M, $450k, $900: fits a narrow board column."""
    return format_money(value, compact=True)


def money(value: float | None) -> str:
    return format_money(value)


def health_badge(score: float | None, status: str | None, palette: Palette) -> Text:
    if score is None or status is None:
        return Text("—", style="dim")
    return Text(f"{score:>3.0f}", style=palette.health(status))


def field_text(value: object) -> str:
    """A deal field as a rep types it: 232200 for 232200.0, 12.5 for 12.50, '' for none."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)
