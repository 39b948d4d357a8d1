"""An insight as a rep reads it: its numbers formatted by what they are (money, a share,
days), its lists as tables, and the whole detail pane of the insights screen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from vectoros_tui.money import format_money
from vectoros_tui.store.views import InsightView
from vectoros_tui.widgets.palette import Palette


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%" if abs(value) <= 1 else f"{value:.0f}%"


def format_value(key: str, value: Any) -> str:
    """One number behind an insight, as a rep reads it ('value' is money, 'share' a %)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if "value" in key:
            return format_money(value)
        if "share" in key or key == "probability" or (key == "threshold" and 0 < value < 1):
            return _percent(float(value))
        if key.startswith("days") or key.endswith("_days") or key == "threshold":
            return f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, str) and "T" in value:
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return str(value)


def label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def data_table(data: dict[str, Any]) -> Table:
    """The insight's scalar ``data`` as label/value rows (lists go to :func:`list_tables`)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for key, value in data.items():
        if isinstance(value, list):
            table.add_row(label(key), f"{len(value)} (below)")
        else:
            table.add_row(label(key), format_value(key, value))
    return table


def list_tables(data: dict[str, Any]) -> list[RenderableType]:
    """Lists in ``data`` (e.g. the deals a forecast rides on) as full-width tables."""
    tables: list[RenderableType] = []
    for key, value in data.items():
        if not isinstance(value, list) or not value:
            continue
        table = Table(
            title=label(key),
            title_justify="left",
            title_style="bold",
            box=None,
            padding=(0, 2, 0, 0),
            header_style="dim",
            expand=False,
        )
        if all(isinstance(item, dict) for item in value):
            columns = [k for k in value[0] if k != "deal_id"]
            for column in columns:
                table.add_column(
                    "Deal" if column == "title" else label(column),
                    justify="left" if column == "title" else "right",
                    overflow="ellipsis",
                    no_wrap=column != "title",
                )
            for item in value:
                table.add_row(*(format_value(c, item.get(c)) for c in columns))
        else:
            table.add_column(label(key))
            for item in value:
                table.add_row(str(item))
        tables += [Text(""), table]
    return tables


def insight_detail(insight: InsightView, palette: Palette) -> RenderableType:
    """Header line, title, description, the numbers and the actions side by side, lists."""
    head = Text()
    head.append(f" {insight.priority.upper()} ", palette.priority(insight.priority))
    head.append(f"  {insight.type}", palette.insight_type(insight.type))
    head.append(f"  · confidence {insight.confidence * 100:.0f}%", "dim")
    head.append("  · unread" if not insight.is_read else "  · read", "dim")
    if insight.is_dismissed:
        head.append("  · dismissed", "dim italic")
    if insight.deal_id is not None:
        head.append("  · enter opens the deal", "dim italic")
    actions = Group(
        Text("Suggested actions", style="bold underline"),
        *(Text(f"→ {action}") for action in insight.actions or ["—"]),
    )
    numbers = Group(Text("The numbers", style="bold underline"), data_table(insight.data))
    body = Table.grid(padding=(0, 3), expand=True)
    body.add_column(ratio=1)
    body.add_column(ratio=1)
    body.add_row(numbers, actions)
    return Group(
        head,
        Text(insight.title, style="bold"),
        Text(insight.description),
        Text(""),
        body,
        *list_tables(insight.data),
    )
