"""`vectoros demo`."""

from __future__ import annotations

import contextlib
import uuid

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option
from vectoros_tui.cli.output import print_json, say
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.forecast_defaults import FORECAST_SEED
from vectoros_tui.store.demo import DEMO_DEALS, DEMO_HISTORY_MONTHS, create_demo_workspace
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.validation import FieldError, ValidationError

pass_ctx = click.make_pass_decorator(CliContext)


@click.command()
@click.option(
    "--deals",
    "count",
    type=click.IntRange(1, 200_000),
    default=DEMO_DEALS,
    show_default=True,
    help="How many deals (with a history, created over its months).",
)
@click.option(
    "--history-months",
    type=click.IntRange(0, 120),
    default=DEMO_HISTORY_MONTHS,
    show_default=True,
    help="Months of history played out (won, lost, stale deals and every change), so the "
    "history model and backtest have a past; 0: today's pipeline only.",
)
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Same seed, same demo (dates are relative to today).",
)
@click.option("--name", default="Demo", show_default=True, help="Workspace name.")
@click.option("--replace", is_flag=True, help="Delete an existing workspace of that name first.")
@json_option
@pass_ctx
def demo(
    ctx: CliContext,
    count: int,
    history_months: int,
    seed: int,
    name: str,
    replace: bool,
    as_json: bool,
) -> None:
    """Load a realistic demo pipeline into a new workspace."""
    store = ctx.store()
    try:
        existing = store.workspaces.resolve(name)
    except NotFoundError:
        existing = None
    if existing is not None:
        if not replace:
            raise ValidationError(
                [
                    FieldError(
                        "name",
                        f"a workspace named {name!r} already exists; pass --replace to "
                        "rebuild it or --name to choose another name",
                    )
                ]
            )
        store.workspaces.delete(existing.id)
    summary = create_demo_workspace(
        store.db, name=name, deals=count, seed=seed, history_months=history_months
    )
    if history_months:
        _prepare_todays_forecast(ctx, summary.workspace_id)
    if as_json:
        print_json(
            {
                "workspaceId": str(summary.workspace_id),
                "name": name,
                "deals": summary.deals,
                "openDeals": summary.open_deals,
                "activities": summary.activities,
            }
        )
        return
    say(
        "Created workspace [bold]{}[/bold] with {} deals ({} open) and {} activities.\n"
        "Try: vectoros forecast --workspace {}   ·   vectoros insights --workspace {}",
        name,
        summary.deals,
        summary.open_deals,
        summary.activities,
        name,
        name,
    )


def _prepare_todays_forecast(ctx: CliContext, workspace_id: uuid.UUID) -> None:
    """Fit the day's history model, replay its track record and keep the day's forecast
    as `vectoros forecast` would make it: a workspace just written whole would otherwise
    have its first forecast, CLI or screen, read the whole history and fit."""
    from vectoros_tui.engine.forecast import parse_timeframe
    from vectoros_tui.store.history_forecast import NotEnoughHistory
    from vectoros_tui.store.model_comparison import prepare

    store, defaults = ctx.store(), ctx.settings.forecast
    days = parse_timeframe(defaults.timeframe)
    prepare(store.deals, store.models, workspace_id, utc_now(), days)
    with contextlib.suppress(NotEnoughHistory):
        # A new workspace has no saved goal: the config's is the one a forecast uses.
        store.analytics.history_forecast(
            workspace_id,
            window_days=days,
            simulations=defaults.simulations,
            seed=FORECAST_SEED,
            goal=defaults.goal,
            scenario=defaults.scenario,
            keep=True,
        )


COMMANDS = [demo]
