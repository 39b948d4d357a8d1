"""`vectoros forecast`, `vectoros score` and `vectoros insights`."""

from __future__ import annotations

from typing import Any

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option, workspace_option
from vectoros_tui.cli.output import console, money, percent, print_json, say, short_id, table

pass_ctx = click.make_pass_decorator(CliContext)


@click.command()
@workspace_option
@click.option("--timeframe", "-t", metavar="Nd", help="Forecast window: 30d, 60d, 90d (any Nd).")
@click.option(
    "--scenario",
    type=click.Choice(["worst", "likely", "best"]),
    help="Which case is the predicted revenue.",
)
@click.option("--simulations", type=int, metavar="N", help="Monte Carlo runs (default 10000).")
@click.option("--seed", type=int, help="Random seed, for reproducible numbers.")
@click.option("--goal", type=float, help="Revenue goal: adds the probability of hitting it.")
@click.option(
    "--top",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="Deals to list in the table (JSON lists all).",
)
@json_option
@pass_ctx
def forecast(
    ctx: CliContext,
    workspace: str | None,
    timeframe: str | None,
    scenario: str | None,
    simulations: int | None,
    seed: int | None,
    goal: float | None,
    top: int,
    as_json: bool,
) -> None:
    """Monte Carlo revenue forecast: worst (P5), likely (P50) and best (P95) cases."""
    defaults = ctx.settings.forecast
    ws = ctx.workspace(workspace)
    result = ctx.store().analytics.forecast(
        ws.id,
        timeframe=timeframe or defaults.timeframe,
        scenario=scenario or defaults.scenario,
        simulations=simulations if simulations is not None else defaults.simulations,
        seed=seed,
        goal=goal if goal is not None else defaults.goal,
    )
    if as_json:
        print_json(result)
        return
    _print_forecast(ws.name, result, top)


def _print_forecast(name: str, r: dict[str, Any], top: int) -> None:
    say(
        "[bold]{}[/bold] · {} forecast · {} open deals · {} simulations",
        name,
        r["timeframe"],
        r["deals_analyzed"],
        f"{r['simulation_stats']['num_simulations']:,}",
    )
    console.print(
        f"Predicted ({r['scenario']}): [bold green]{money(r['predicted_revenue'])}[/bold green]"
        f"   confidence {percent(r['confidence'])}"
    )
    table(
        None,
        ["worst (P5)", "likely (P50)", "best (P95)", "mean", "std. dev.", "coverage"],
        [
            [
                money(r["worst_case"]),
                money(r["likely_case"]),
                money(r["best_case"]),
                money(r["mean_forecast"]),
                money(r["standard_deviation"]),
                f"{r['pipeline_coverage']:.2f}x",
            ]
        ],
    )
    if "probability_of_hitting_goal" in r:
        console.print(
            f"Goal {money(r['goal'])}: {percent(r['probability_of_hitting_goal'])} chance to hit it"
        )
    table(
        "By stage",
        [
            "stage",
            ("deals", "right"),
            ("total", "right"),
            ("weighted", "right"),
            ("avg. prob.", "right"),
        ],
        [
            [
                b["stage"],
                b["deals"],
                money(b["total_value"]),
                money(b["weighted_value"]),
                percent(b["avg_probability"]),
            ]
            for b in r["breakdown_by_stage"]
        ],
    )
    if top:
        table(
            f"Top {top} deals by weighted value",
            [
                "id",
                "title",
                ("value", "right"),
                "stage",
                ("adj. prob.", "right"),
                ("weighted", "right"),
            ],
            [
                [
                    short_id(d["deal_id"]),
                    d["title"],
                    money(d["value"]),
                    d["stage"],
                    percent(d["adjusted_probability"]),
                    money(d["weighted_value"]),
                ]
                for d in r["forecasted_deals"][:top]
            ],
        )


@click.command()
@workspace_option
@click.option(
    "--top",
    type=click.IntRange(0),
    default=15,
    show_default=True,
    help="Deals to list, weakest first (JSON lists all).",
)
@json_option
@pass_ctx
def score(ctx: CliContext, workspace: str | None, top: int, as_json: bool) -> None:
    """Health score (0-100) of every open deal, with the reasons behind it."""
    ws = ctx.workspace(workspace)
    result = ctx.store().analytics.score(ws.id)
    if as_json:
        print_json(result)
        return
    metrics = result["workspace_metrics"]
    dist = metrics["health_distribution"]
    say(
        "[bold]{}[/bold] · average health {} · {} of {} deals scored (open deals)",
        ws.name,
        metrics["average_health"],
        metrics["scored_deals"],
        metrics["total_deals"],
    )
    table(None, list(dist), [list(dist.values())])
    weakest = sorted(result["scored_deals"], key=lambda d: d["health_score"])[:top]
    if weakest:
        table(
            "Weakest deals",
            ["id", "title", ("score", "right"), "status", "why"],
            [
                [
                    short_id(d["deal_id"]),
                    d["title"],
                    d["health_score"],
                    d["health_status"],
                    "; ".join(_weak_reasons(d)),
                ]
                for d in weakest
            ],
        )


def _weak_reasons(scored: dict[str, Any]) -> list[str]:
    components = scored["components"]
    explanations = scored.get("explanations", {})
    worst = sorted(components, key=lambda name: components[name])[:2]
    return [explanations.get(name, name) for name in worst]


@click.group(invoke_without_command=True)
@workspace_option
@click.option("--all", "include_dismissed", is_flag=True, help="Include dismissed insights.")
@click.option("--unread", is_flag=True, help="Only unread insights.")
@click.option("--no-refresh", is_flag=True, help="Show stored insights without re-running rules.")
@json_option
@click.pass_context
def insights(
    click_ctx: click.Context,
    workspace: str | None,
    include_dismissed: bool,
    unread: bool,
    no_refresh: bool,
    as_json: bool,
) -> None:
    """Risks, warnings and opportunities in the pipeline (refreshed each time).

    \b
    Subcommands: `insights read ID`, `insights dismiss ID`.
    """
    click_ctx.ensure_object(CliContext)
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: CliContext = click_ctx.obj
    ws = ctx.workspace(workspace)
    store = ctx.store()
    if not no_refresh:
        store.analytics.regenerate_insights(ws.id, timeframe=ctx.settings.forecast.timeframe)
    items = store.insights.list(ws.id, include_dismissed=include_dismissed, unread_only=unread)
    if as_json:
        print_json({"insights": [i.to_api() for i in items], "total": len(items)})
        return
    table(
        f"Insights for {ws.name}",
        ["id", "priority", "type", "insight", "suggested action"],
        [
            [
                short_id(i.id),
                i.priority,
                i.type,
                f"{'' if i.is_read else '● '}{i.title}\n{i.description}",
                (i.actions or ["—"])[0],
            ]
            for i in items
        ],
        caption="● unread",
    )


@insights.command("read")
@click.argument("insight_id")
@pass_ctx
def read_insight(ctx: CliContext, insight_id: str) -> None:
    """Mark an insight read."""
    store = ctx.store()
    item = store.insights.mark_read(store.insights.resolve_id(insight_id))
    say("Marked read: {}", item.title)


@insights.command("dismiss")
@click.argument("insight_id")
@pass_ctx
def dismiss_insight(ctx: CliContext, insight_id: str) -> None:
    """Hide an insight (it stays hidden while its situation lasts)."""
    store = ctx.store()
    item = store.insights.dismiss(store.insights.resolve_id(insight_id))
    say("Dismissed: {}", item.title)


COMMANDS = [forecast, score, insights]
