"""`vectoros goal`: revenue goals per workspace and forecast window, kept across runs."""

from __future__ import annotations

import uuid
from datetime import datetime

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import MONEY, WINDOW, json_option, workspace_option
from vectoros_tui.cli.output import Column, listing, print_json, say
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.periods import Period, PeriodError, parse_period
from vectoros_tui.money import format_money
from vectoros_tui.store.owners import Member
from vectoros_tui.store.views import WorkspaceView, iso

pass_ctx = click.make_pass_decorator(CliContext)

window_option = click.option(
    "--window",
    type=WINDOW,
    metavar="Nd",
    help="Forecast window the goal is for, e.g. 30d or 90d (default: the forecast's, 30d).",
)
period_option = click.option(
    "--period",
    metavar="PERIOD",
    help="A calendar period instead of a window: 2026-Q1, 2026-03, this-month, this-quarter "
    "(`vectoros forecast --period` uses it).",
)


rep_option = click.option(
    "--owner",
    metavar="NAME|EMAIL|me",
    help="A rep's goal (for a window) instead of the workspace's "
    "(`vectoros forecast --by owner` weighs each rep against theirs).",
)


def _period(text: str | None, window: int | None) -> Period | None:
    if text is None:
        return None
    if window is not None:
        raise click.UsageError("a goal is for a --window or a --period, not both")
    try:
        return parse_period(text, utc_now().date())
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None


def _workspace(click_ctx: click.Context, ref: str | None) -> WorkspaceView:
    """-w given to the subcommand, else to `goal` itself (`vectoros goal -w Team set 1M`)."""
    ctx = click_ctx.find_object(CliContext)
    assert ctx is not None
    parent = click_ctx.parent.params.get("workspace") if click_ctx.parent else None
    return ctx.workspace(ref or parent)


def _rep(ctx: CliContext, workspace_id: uuid.UUID, ref: str) -> Member:
    member = ctx.owner(workspace_id, ref)
    if member is None:
        raise click.BadParameter("name one member, or me", param_hint="--owner")
    return member


def _window(ctx: CliContext, days: int | None) -> int:
    if days is not None:
        return days
    return WINDOW.convert(ctx.settings.forecast.timeframe, None, None)


@click.group(invoke_without_command=True)
@workspace_option
@json_option
@click.pass_context
def goal(click_ctx: click.Context, workspace: str | None, as_json: bool) -> None:
    """Revenue goals, one per forecast window; `vectoros forecast` (and the app) use them.

    \b
    vectoros goal                        list the saved goals
    vectoros goal set 750k               the goal for the default window (30d)
    vectoros goal set 2.4M --window 90d  the goal for 90 days
    vectoros goal set 3M --period 2026-Q1  the goal for a quarter (or a month: 2026-03)
    vectoros goal set 250k --owner ana   a rep's goal for the default window
    vectoros goal clear --window 90d     forget it
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.ensure_object(CliContext)
    ws = ctx.workspace(workspace)
    goals = ctx.store().goals.all(ws.id)
    periods = ctx.store().goals.all_periods(ws.id)
    names = {m.id: m for m in ctx.store().owners.members(ws.id)}
    reps = [
        (names[user], days, amount)
        for user, days, amount in ctx.store().goals.all_members(ws.id)
        if user in names
    ]
    if as_json:
        print_json(
            {
                "workspace": ws.name,
                "goals": [g.to_api() for g in goals],
                "periodGoals": [g.to_api() for g in periods],
                "memberGoals": [
                    {"email": m.email, "name": m.name, "window": f"{d}d", "amount": a}
                    for m, d, a in reps
                ],
            }
        )
        return
    if not goals and not periods and not reps:
        say("No goals saved for {}: try `vectoros goal set 750k --window 30d`.", ws.name)
        return
    listing(
        f"Goals in {ws.name}",
        [Column("window or period"), Column("goal", right=True), Column("saved", rank=1)],
        [
            *([f"{g.window_days}d", format_money(g.amount), _saved(g.updated_at)] for g in goals),
            *([g.period, format_money(g.amount), _saved(g.updated_at)] for g in periods),
            *([f"{d}d · {m.label}", format_money(a), None] for m, d, a in reps),
        ],
    )


def _saved(moment: datetime) -> str | None:
    return iso(moment.replace(microsecond=0))


@goal.command("set")
@click.argument("amount", type=MONEY)
@window_option
@period_option
@rep_option
@workspace_option
@json_option
@click.pass_context
def set_goal(
    click_ctx: click.Context,
    amount: float,
    window: int | None,
    period: str | None,
    owner: str | None,
    workspace: str | None,
    as_json: bool,
) -> None:
    """Save the goal for a window or a period (replacing the one saved before), e.g. 750k
    or $1.2M; with --owner, a rep's goal for a window."""
    ctx = click_ctx.ensure_object(CliContext)
    ws = _workspace(click_ctx, workspace)
    if owner is not None:
        if period is not None:
            raise click.UsageError("a rep's goal is for a --window (per-rep periods: not yet)")
        member = _rep(ctx, ws.id, owner)
        rep_goal = ctx.store().goals.set_member(ws.id, member.id, _window(ctx, window), amount)
        if as_json:
            print_json({"workspace": ws.name, "email": member.email, **rep_goal.to_api()})
            return
        say(
            "Saved {}'s {}d goal in {}: [bold]{}[/bold] (`vectoros forecast --by owner` uses it).",
            member.label,
            rep_goal.window_days,
            ws.name,
            format_money(rep_goal.amount),
        )
        return
    chosen = _period(period, window)
    if chosen is not None:
        kept = ctx.store().goals.set_period(ws.id, chosen, amount)
        if as_json:
            print_json({"workspace": ws.name, **kept.to_api()})
            return
        say(
            "Saved the {} goal of {}: [bold]{}[/bold] (`vectoros forecast --period {}` uses it).",
            kept.period,
            ws.name,
            format_money(kept.amount),
            kept.period,
        )
        return
    saved = ctx.store().goals.set(ws.id, _window(ctx, window), amount)
    if as_json:
        print_json({"workspace": ws.name, **saved.to_api()})
        return
    say(
        "Saved the {}d goal of {}: [bold]{}[/bold] (`vectoros forecast -t {}d` uses it).",
        saved.window_days,
        ws.name,
        format_money(saved.amount),
        saved.window_days,
    )


@goal.command("clear")
@window_option
@period_option
@rep_option
@click.option("--all", "every", is_flag=True, help="Every window's goal.")
@workspace_option
@click.pass_context
def clear_goal(
    click_ctx: click.Context,
    window: int | None,
    period: str | None,
    owner: str | None,
    every: bool,
    workspace: str | None,
) -> None:
    """Forget the goal of a window or a period (or of every window with --all)."""
    if every and (window is not None or period is not None):
        raise click.UsageError("give --window, --period or --all, not two of them")
    ctx = click_ctx.ensure_object(CliContext)
    ws = _workspace(click_ctx, workspace)
    if owner is not None:
        member = _rep(ctx, ws.id, owner)
        rep_days = _window(ctx, window)
        if ctx.store().goals.clear_member(ws.id, member.id, rep_days):
            say("Cleared {}'s {}d goal in {}.", member.label, rep_days, ws.name)
        else:
            say("{} had no {}d goal in {}.", member.label, rep_days, ws.name)
        return
    chosen = _period(period, window)
    if chosen is not None:
        if ctx.store().goals.clear_period(ws.id, chosen):
            say("Cleared the {} goal of {}.", chosen.label, ws.name)
        else:
            say("No goal was saved for {} ({}).", ws.name, chosen.label)
        return
    goals = ctx.store().goals
    days = [g.window_days for g in goals.all(ws.id)] if every else [_window(ctx, window)]
    cleared = [d for d in days if goals.clear(ws.id, d)]
    if cleared:
        say("Cleared the goal of {} for {}.", ws.name, ", ".join(f"{d}d" for d in cleared))
    else:
        say(
            "No goal was saved for {} ({}).",
            ws.name,
            ", ".join(f"{d}d" for d in days) or "any window",
        )


COMMANDS = [goal]
