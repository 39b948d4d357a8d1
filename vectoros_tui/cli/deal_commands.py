"""`vectoros deals ...` and `vectoros activity ...`."""

from __future__ import annotations

from typing import Any

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import (
    deal_field_options,
    json_option,
    owner_option,
    workspace_option,
)
from vectoros_tui.cli.output import Column, listing, print_json, say, short_id, table
from vectoros_tui.money import format_money
from vectoros_tui.store.deals import SORTABLE
from vectoros_tui.store.views import DealView, iso

pass_ctx = click.make_pass_decorator(CliContext)
_FIELDS = (
    "title",
    "company",
    "value",
    "probability",
    "stage",
    "close_date",
    "contact_name",
    "contact_email",
    "outcome",
    "lost_reason",
    "next_step",
    "next_step_due",
)


def _given(options: dict[str, Any]) -> dict[str, Any]:
    return {k: options[k] for k in _FIELDS if options.get(k) is not None}


def _deal_rows(deals: list[DealView]) -> list[list[Any]]:
    return [
        [
            short_id(d.id),
            d.title,
            d.company,
            # A closed deal's stage says nothing more than its outcome does.
            d.outcome if d.stage == "closed" and d.outcome else d.stage,
            format_money(d.value),
            f"{d.probability}%",
            iso(d.close_date),
        ]
        for d in deals
    ]


# What a rep scans a pipeline for comes first; the id (for `deals show`) is the first to go
# in a narrow terminal, as `deals list --json` and a wider window both have it.
DEAL_COLUMNS = [
    Column("id", rank=6),
    Column("title", shrink=True, min_width=24),
    Column("company", rank=5, shrink=True, min_width=12),
    Column("stage", rank=1),
    Column("value", rank=2, right=True),
    Column("prob.", rank=3, right=True),
    Column("close date", rank=4),
]


def _print_deal(deal: DealView, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(deal.to_api())
    else:
        say("{} deal [bold]{}[/bold] ({}, version {})", verb, deal.title, deal.id, deal.version)


@click.group()
def deals() -> None:
    """List, add, update and delete deals."""


@deals.command("list")
@workspace_option
@click.option("--stage", help="Only deals in this stage.")
@click.option("--outcome", type=click.Choice(["open", "won", "lost"]), help="Filter by outcome.")
@click.option("--search", "-s", help="Text in title, company or contact name.")
@click.option("--sort", type=click.Choice(list(SORTABLE)), default="updated_at", show_default=True)
@click.option("--asc", "ascending", is_flag=True, help="Ascending order (default descending).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
# Bounded so it fits the databases' 64-bit integers (past it a page is empty anyway).
@click.option("--offset", type=click.IntRange(0, 2**53), default=0, show_default=True)
@owner_option
@json_option
@pass_ctx
def list_deals(
    ctx: CliContext,
    workspace: str | None,
    stage: str | None,
    outcome: str | None,
    search: str | None,
    sort: str,
    ascending: bool,
    limit: int,
    offset: int,
    owner: str | None,
    as_json: bool,
) -> None:
    """List deals, a page at a time. JSON: {"deals": [...], "total": N}."""
    ws = ctx.workspace(workspace)
    member = ctx.owner(ws.id, owner)
    page = ctx.store().deals.list(
        ws.id,
        stage=stage,
        outcome=outcome,
        search=search,
        sort=sort,
        descending=not ascending,
        limit=limit,
        offset=offset,
        owner_id=member.id if member else None,
    )
    if as_json:
        print_json(page.to_api())
        return
    shown = f"{offset + 1}-{offset + len(page.deals)}" if page.deals else "0"
    listing(
        f"Deals in {ws.name}" + (f" owned by {member.label}" if member else ""),
        DEAL_COLUMNS,
        _deal_rows(page.deals),
        caption=f"showing {shown} of {page.total}",
    )


@deals.command("show")
@click.argument("deal_id")
@json_option
@pass_ctx
def show_deal(ctx: CliContext, deal_id: str, as_json: bool) -> None:
    """One deal with its activity timeline and stage history."""
    store = ctx.store()
    deal = store.deals.get(store.deals.resolve_id(deal_id))
    activities = store.activities.list(deal.id)
    history = store.deals.history(deal.id)
    if as_json:
        print_json(
            {**deal.to_api(), "activities": [a.to_api() for a in activities], "history": history}
        )
        return
    data = deal.to_api()
    table(deal.title, ["field", "value"], [[k, v] for k, v in data.items()])
    listing(
        "Activities",
        [Column("date", rank=1), Column("type"), Column("description", shrink=True, min_width=20)],
        [[iso(a.date), a.type, a.description] for a in activities],
    )
    listing(
        "History",
        [
            Column("when", rank=1),
            Column("field"),
            Column("from", shrink=True, min_width=10),
            Column("to", shrink=True, min_width=10),
        ],
        [[h["changedAt"], h["field"], h["from"], h["to"]] for h in history],
    )


@deals.command("add")
@workspace_option
@deal_field_options(required_title=True)
@click.option("--owner", metavar="NAME|EMAIL|me", help="Who owns it (default: you).")
@json_option
@pass_ctx
def add_deal(
    ctx: CliContext, workspace: str | None, owner: str | None, as_json: bool, **fields: Any
) -> None:
    """Create a deal (yours, unless --owner names another member)."""
    ws = ctx.workspace(workspace)
    values = _given(fields)
    values.setdefault("stage", "prospect")
    member = ctx.owner(ws.id, owner) if owner and owner.strip().casefold() != "me" else None
    owner_id = member.id if member else ctx.my_member_id(ws.id)
    _print_deal(ctx.store().deals.create(ws.id, values, owner_id=owner_id), as_json, "Created")


@deals.command("update")
@click.argument("deal_id")
@deal_field_options()
@click.option("--owner", metavar="NAME|EMAIL|me", help="Give the deal to this member.")
@click.option(
    "--expect-version",
    type=int,
    metavar="N",
    help="Fail instead of overwriting if the deal is no longer at version N.",
)
@json_option
@pass_ctx
def update_deal(
    ctx: CliContext,
    deal_id: str,
    owner: str | None,
    expect_version: int | None,
    as_json: bool,
    **fields: Any,
) -> None:
    """Change some fields of a deal (e.g. --stage negotiation, --owner jo@example.com)."""
    changes: dict[str, Any] = _given(fields)
    store = ctx.store()
    found = store.deals.resolve_id(deal_id)
    if owner is not None:
        workspace_id = store.deals.get(found).workspace_id
        if owner.strip().casefold() == "me":
            changes["owner_id"] = ctx.my_member_id(workspace_id)
        else:
            member = ctx.owner(workspace_id, owner)
            if member is None:
                raise click.BadParameter("name one member, or me", param_hint="--owner")
            changes["owner_id"] = member.id
    if not changes:
        raise click.UsageError("nothing to change: give at least one field, e.g. --stage")
    deal = store.deals.update(found, changes, expected_version=expect_version)
    _print_deal(deal, as_json, "Updated")


@deals.command("delete")
@click.argument("deal_id")
@click.option("--expect-version", type=int, metavar="N", help="Only if still at version N.")
@json_option
@pass_ctx
def delete_deal(ctx: CliContext, deal_id: str, expect_version: int | None, as_json: bool) -> None:
    """Delete a deal with its activities."""
    store = ctx.store()
    deal = store.deals.get(store.deals.resolve_id(deal_id))
    store.deals.delete(deal.id, expected_version=expect_version)
    if as_json:
        print_json({"deleted": str(deal.id)})
    else:
        say("Deleted deal [bold]{}[/bold] ({})", deal.title, deal.id)


@click.group()
def activity() -> None:
    """A deal's activity timeline: emails, calls, meetings, notes."""


@activity.command("list")
@click.argument("deal_id")
@json_option
@pass_ctx
def list_activities(ctx: CliContext, deal_id: str, as_json: bool) -> None:
    store = ctx.store()
    items = store.activities.list(store.deals.resolve_id(deal_id))
    if as_json:
        print_json({"activities": [a.to_api() for a in items], "total": len(items)})
        return
    listing(
        "Activities",
        [
            Column("id", rank=2),
            Column("date", rank=1),
            Column("type"),
            Column("status", rank=3),
            Column("description", shrink=True, min_width=20),
        ],
        [
            [short_id(a.id), iso(a.date), a.type, "done" if a.done else "planned", a.description]
            for a in items
        ],
    )


@activity.command("add")
@click.argument("deal_id")
@click.option("--type", "kind", required=True, help="email, call, meeting or note.")
@click.option("--description", "-d", required=True, help="What happened (or is to happen).")
@click.option("--date", help="When it happened (YYYY-MM-DD or ISO timestamp); default now.")
@click.option(
    "--due",
    metavar="YYYY-MM-DD",
    help="Plan it instead: the day it is due (`activity done ID` once it is done).",
)
@json_option
@pass_ctx
def add_activity(
    ctx: CliContext,
    deal_id: str,
    kind: str,
    description: str,
    date: str | None,
    due: str | None,
    as_json: bool,
) -> None:
    """Log an activity on a deal, or plan one with --due."""
    data: dict[str, Any] = {"type": kind, "description": description, "date": date}
    if due is not None:
        if date is not None:
            raise click.UsageError("give --date (it happened) or --due (it is planned), not both")
        data.update(date=_due_date(due), done=False)
    store = ctx.store()
    item = store.activities.add(store.deals.resolve_id(deal_id), data)
    if as_json:
        print_json(item.to_api())
    elif item.done:
        say("Added {} ({})", item.type, item.id)
    else:
        say("Planned {} for {} ({})", item.type, iso(item.date.date()), item.id)


def _due_date(text: str) -> Any:
    from vectoros_tui.store.validation import in_range, parse_calendar_date

    try:
        return in_range(parse_calendar_date(text))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--due") from None


@activity.command("done")
@click.argument("activity_id")
@json_option
@pass_ctx
def done_activity(ctx: CliContext, activity_id: str, as_json: bool) -> None:
    """Mark a planned activity done (dated now)."""
    store = ctx.store()
    item = store.activities.mark_done(store.activities.resolve_id(activity_id))
    if as_json:
        print_json(item.to_api())
    else:
        say("Done: {} ({})", item.type, item.id)


@click.command("tasks")
@workspace_option
@click.option(
    "--owner",
    metavar="NAME|EMAIL|me|all",
    help="Whose tasks (default: yours if you are a member with deals, else everyone's).",
)
@click.option("--overdue", is_flag=True, help="Only what is past its due date.")
@json_option
@pass_ctx
def tasks(
    ctx: CliContext, workspace: str | None, owner: str | None, overdue: bool, as_json: bool
) -> None:
    """Next steps and planned activities of open deals, soonest due first."""
    from vectoros_tui.engine.dates import utc_now
    from vectoros_tui.store.tasks import open_tasks

    ws = ctx.workspace(workspace)
    store = ctx.store()
    if owner is None:
        me = ctx.me().email
        mine = [m for m in store.owners.members(ws.id) if m.email == me]
        member = (
            mine[0]
            if mine and store.deals.list(ws.id, owner_id=mine[0].id, limit=1).total
            else None
        )
    else:
        member = ctx.owner(ws.id, owner)
    today = utc_now().date()
    found = open_tasks(
        store.db, ws.id, today=today, owner_id=member.id if member else None, overdue_only=overdue
    )
    if as_json:
        print_json(
            {
                "workspace": ws.name,
                "owner": None if member is None else member.email,
                "tasks": [t.to_api(today) for t in found.tasks],
                "total": len(found.tasks),
                "openDealsWithoutNextStep": found.without_next_step,
            }
        )
        return
    whose = f" of {member.label}" if member else ""
    listing(
        f"Tasks{whose} in {ws.name}" + (" (overdue)" if overdue else ""),
        [
            Column("due", rank=1),
            Column("what", shrink=True, min_width=20),
            Column("deal", shrink=True, min_width=14),
            Column("owner", rank=3, shrink=True, min_width=8),
            Column("id", rank=4),
        ],
        [
            [
                ("OVERDUE " if t.overdue(today) else "") + (iso(t.due) or "no date"),
                f"{t.kind}: {t.what or '(no step written)'}",
                t.deal,
                t.owner or "nobody",
                short_id(t.activity_id or t.deal_id),
            ]
            for t in found.tasks
        ],
    )
    if found.without_next_step:
        say(
            "{} open deal{} no next step (`vectoros deals update ID --next-step …`)",
            found.without_next_step,
            "s have" if found.without_next_step != 1 else " has",
        )


@activity.command("update")
@click.argument("activity_id")
@click.option("--type", "kind", help="email, call, meeting or note.")
@click.option("--description", "-d")
@click.option("--date")
@json_option
@pass_ctx
def update_activity(
    ctx: CliContext,
    activity_id: str,
    kind: str | None,
    description: str | None,
    date: str | None,
    as_json: bool,
) -> None:
    changes = {
        k: v
        for k, v in (("type", kind), ("description", description), ("date", date))
        if v is not None
    }
    if not changes:
        raise click.UsageError("nothing to change: give --type, --description or --date")
    store = ctx.store()
    item = store.activities.update(store.activities.resolve_id(activity_id), changes)
    if as_json:
        print_json(item.to_api())
    else:
        say("Updated {} ({})", item.type, item.id)


@activity.command("delete")
@click.argument("activity_id")
@pass_ctx
def delete_activity(ctx: CliContext, activity_id: str) -> None:
    store = ctx.store()
    ident = store.activities.resolve_id(activity_id)
    store.activities.delete(ident)
    say("Deleted activity {}", ident)


COMMANDS = [deals, activity, tasks]
