"""A deal's editable fields as screens name and show them (the editor's labels, the
conflict views' values)."""

from __future__ import annotations

from vectoros_tui.money import format_money
from vectoros_tui.widgets.formatting import field_text

TEXT_FIELDS = (
    ("title", "Title"),
    ("company", "Company"),
    ("value", "Value ($)"),
    ("probability", "Probability (%)"),
    ("close_date", "Close date (YYYY-MM-DD)"),
    # Next to the close date: what moves the deal towards it, and by when.
    ("next_step", "Next step"),
    ("next_step_due", "Next step due"),
    ("contact_name", "Contact"),
    ("contact_email", "Contact email"),
    ("lost_reason", "Lost reason"),
)
FORM_FIELDS = (
    *TEXT_FIELDS[:4],
    ("stage", "Stage"),
    ("outcome", "Outcome"),
    ("owner", "Owner"),
    *TEXT_FIELDS[4:],
)
OUTCOME_CHOICES = [("open", "open"), ("won", "won"), ("lost", "lost")]
LABELS = dict(FORM_FIELDS)


def show_field(name: str, value: object) -> str:
    """One field's value as a rep reads it: money as money, a probability as a percentage,
    nothing as a dash."""
    if value is None or value == "":
        return "—"
    if name == "value" and isinstance(value, int | float | str):
        try:
            return format_money(float(value))
        except ValueError:
            return str(value)
    if name == "probability":
        return f"{field_text(value)}%"
    return field_text(value) or "—"
