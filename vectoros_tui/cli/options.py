"""Options several commands share."""

from __future__ import annotations

import click

workspace_option = click.option(
    "--workspace",
    "-w",
    "workspace",
    metavar="NAME|ID",
    help="Workspace name or id (may be omitted when there is only one).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def deal_field_options(required_title: bool = False):  # type: ignore[no-untyped-def]
    """The editable deal fields as options (shared by `deals add` and `deals update`)."""

    def decorate(func):  # type: ignore[no-untyped-def]
        for option in reversed(
            [
                click.option("--title", required=required_title, help="Deal title."),
                click.option("--company", help="Company (account) name."),
                click.option("--value", help='Deal value, e.g. 1200 or "$1,200.50".'),
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
            ]
        ):
            func = option(func)
        return func

    return decorate
