"""Options several commands share, and the types of their values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from vectoros_tui.money import MoneyError, parse_money

_Command = TypeVar("_Command", bound=Callable[..., Any])


class MoneyType(click.ParamType):
    """An amount as a rep types it: 750k, 1.2M, $1,200, 1 200, 1200.50."""

    name = "amount"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value  # a default, already converted
        try:
            return parse_money(value)
        except MoneyError as exc:
            self.fail(exc.explain(), param, ctx)


_WINDOW = re.compile(r"\s*([1-9]\d{0,3})\s*d?\s*", re.IGNORECASE)


class WindowType(click.ParamType):
    """A forecast window in days: 30d (or just 30), as `vectoros forecast --timeframe`."""

    name = "Nd"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        found = _WINDOW.fullmatch(str(value))
        if found is None:
            self.fail(f"{value!r} is not a window; use days, like 30d, 60d or 90d", param, ctx)
        return int(found.group(1))


MONEY = MoneyType()
WINDOW = WindowType()

workspace_option = click.option(
    "--workspace",
    "-w",
    "workspace",
    metavar="NAME|ID",
    help="Workspace name or id (default: the one last chosen with -w, or the only one).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def top_option(default: int, what: str, *, least: int = 0) -> Callable[[_Command], _Command]:
    """``--top N``: how many rows a table shows; its JSON lists them all."""
    return click.option(
        "--top",
        type=click.IntRange(least),
        default=default,
        show_default=True,
        help=f"{what} (JSON lists all).",
    )


owner_option = click.option(
    "--owner",
    metavar="NAME|EMAIL|me|all",
    help="Only the deals of this member of the workspace (me: yours; all: everyone's).",
)


def deal_field_options(required_title: bool = False) -> Callable[[_Command], _Command]:
    """The editable deal fields as options (shared by `deals add` and `deals update`)."""

    def decorate(func: _Command) -> _Command:
        for option in reversed(
            [
                click.option("--title", required=required_title, help="Deal title."),
                click.option("--company", help="Company (account) name."),
                click.option(
                    "--value", type=MONEY, help='Deal value, e.g. 1200, "$1,200.50" or 750k.'
                ),
                click.option("--probability", help="Win probability, a whole number 0-100."),
                click.option(
                    "--stage",
                    help="prospect, qualified, proposal, negotiation, closed (or lead, won, lost).",
                ),
                click.option("--close-date", "close_date", help="Expected close date, YYYY-MM-DD."),
                click.option("--contact-name", "contact_name", help="Primary contact."),
                click.option("--contact-email", "contact_email", help="Contact's email address."),
                click.option("--outcome", help="won or lost (closed deals only)."),
                click.option("--lost-reason", "lost_reason", help="Why the deal was lost."),
                click.option(
                    "--next-step",
                    "next_step",
                    help='What happens next, e.g. "Send the proposal" ("" clears it).',
                ),
                click.option(
                    "--next-due",
                    "--next-step-due",
                    "next_step_due",
                    help="When the next step is due, YYYY-MM-DD.",
                ),
            ]
        ):
            func = option(func)
        return func

    return decorate
