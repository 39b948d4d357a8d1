"""Short human formats shared by the widgets (money, percentages, health badges)."""

from __future__ import annotations

from rich.text import Text

HEALTH_STYLES = {
    "excellent": "bold green",
    "good": "green",
    "fair": "yellow",
    "poor": "red",
    "critical": "bold red",
}


def compact_money(value: float | None) -> str:
    """$1.2M, $450k, $900: fits a narrow board column."""
    if value is None:
        return "—"
    amount = abs(value)
    if amount >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if amount >= 10_000:
        return f"${value / 1_000:.0f}k"
    if amount >= 1_000:
        return f"${value / 1_000:.1f}k"
    return f"${value:,.0f}"


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.0f}"


def health_badge(score: float | None, status: str | None) -> Text:
    if score is None or status is None:
        return Text("—", style="dim")
    return Text(f"{score:>3.0f}", style=HEALTH_STYLES.get(status, ""))
