"""`vectoros forecast`, `vectoros backtest`, `vectoros score` and `vectoros insights`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import (
    MONEY,
    json_option,
    owner_option,
    top_option,
    workspace_option,
)
from vectoros_tui.cli.output import (
    Column,
    console,
    listing,
    output_width,
    percent,
    print_json,
    say,
    short_id,
)
from vectoros_tui.engine.dates import end_of_day, utc_now
from vectoros_tui.forecast_defaults import FORECAST_SEED
from vectoros_tui.memory import collections_paused
from vectoros_tui.money import format_money

if TYPE_CHECKING:
    from vectoros_tui.engine.periods import PeriodForecast

pass_ctx = click.make_pass_decorator(CliContext)


@click.command()
@click.argument("view", required=False, type=click.Choice(["history"]), metavar="[history]")
@workspace_option
@click.option("--timeframe", "-t", metavar="Nd", help="Forecast window: 30d, 60d, 90d (any Nd).")
@click.option(
    "--scenario",
    type=click.Choice(["worst", "likely", "best"]),
    help="Which case is the predicted revenue.",
)
@click.option("--simulations", type=int, metavar="N", help="Monte Carlo runs (default 10000).")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    help=f"Random seed (default {FORECAST_SEED}, the app's: same deals, same numbers).",
)
@click.option(
    "--goal",
    type=MONEY,
    help="Revenue goal, e.g. 750k: adds the probability of hitting it "
    "(default: the goal saved with `vectoros goal set` for this window).",
)
@top_option(10, "Deals to list in the table")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Forecast the pipeline as it stood at the end of that day, from what was known "
    "then (no later outcomes, changes or activities).",
)
@click.option(
    "--period",
    metavar="PERIOD",
    help="Forecast to the end of a calendar period, counting what it has won so far: "
    "this-month, this-quarter, 2026-Q1 or 2026-03 (the current one); its goal is the one "
    "saved with `vectoros goal set AMOUNT --period …`.",
)
@owner_option
@click.option(
    "--by",
    type=click.Choice(["owner"]),
    help="One row per rep (P5/P50/P95) and the team's band from the same runs.",
)
@click.option(
    "--model",
    type=click.Choice(["rep", "history", "auto"]),
    default="auto",
    show_default=True,
    help="rep: the reps' probabilities (the original method, its JSON exactly the "
    "original's); history: learned from this workspace's past outcomes; auto: history "
    "when there is enough of it, else rep (the JSON's model and model_note say which).",
)
@json_option
@pass_ctx
@collections_paused()
def forecast(
    ctx: CliContext,
    view: str | None,
    workspace: str | None,
    timeframe: str | None,
    scenario: str | None,
    simulations: int | None,
    seed: int | None,
    goal: float | None,
    top: int,
    as_of: datetime | None,
    period: str | None,
    owner: str | None,
    by: str | None,
    model: str,
    as_json: bool,
) -> None:
    """Monte Carlo revenue forecast: worst (P5), likely (P50) and best (P95) cases.

    `vectoros forecast history` lists the forecasts kept day by day (each day's last,
    per model) against what their deals then won in the window.
    """
    from vectoros_tui.engine.forecast import parse_timeframe

    defaults = ctx.settings.forecast
    ws = ctx.workspace(workspace)
    if view == "history":
        if as_of is not None:
            raise click.UsageError("--as-of is for a forecast, not for its history")
        days = parse_timeframe(timeframe or defaults.timeframe)
        _forecast_history(ctx, ws.id, ws.name, days, as_json)
        return
    moment = _as_of_moment(ctx, ws.id, as_of) if as_of is not None else None
    window = timeframe or defaults.timeframe
    days = parse_timeframe(window)
    member = ctx.owner(ws.id, owner)
    owner_id = member.id if member else None
    if by == "owner":
        if as_of is not None or period is not None or member is not None:
            raise click.UsageError(
                "--by owner is today's team forecast: no --as-of/--period/--owner"
            )
        _team_forecast(ctx, ws.id, ws.name, days, model, simulations, seed, goal, as_json)
        return
    source = "option" if goal is not None else None
    in_period: PeriodForecast | None = None
    if period is not None:
        if as_of is not None or timeframe is not None:
            raise click.UsageError("--period sets the window: give it without --timeframe/--as-of")
        in_period = _period_forecast(ctx, ws.id, period, goal, owner_id)
        days, window = in_period.days_left, f"{in_period.days_left}d"
        goal, source = in_period.remaining, in_period.goal_source
    if goal is None:
        goal = ctx.store().goals.get(ws.id, days)
        source = "saved" if goal is not None else None
    if goal is None and defaults.goal is not None:
        goal, source = defaults.goal, "config"
    used_seed = seed if seed is not None else FORECAST_SEED
    runs = simulations if simulations is not None else defaults.simulations
    fallback = None
    if model != "rep":
        from vectoros_tui.store.history_forecast import NotEnoughHistory

        try:
            learned = ctx.store().analytics.history_forecast(
                ws.id,
                window_days=days,
                simulations=runs,
                seed=used_seed,
                as_of=moment,
                goal=goal,
                owner_id=owner_id,
                scenario=scenario or defaults.scenario,
                keep=True,
            )
        except NotEnoughHistory as exc:
            if model == "history":
                raise click.UsageError(f"{exc} (--model auto falls back to rep)") from None
            fallback = f"{exc}; used the reps' probabilities"
        else:
            learned["seed"] = used_seed
            if as_of is not None:
                learned["as_of"] = as_of.date().isoformat()
            if source is not None and goal is not None:
                learned["goal_source"] = source
            if in_period is not None:
                in_period.add_to(learned)
            if as_json:
                print_json(learned)
            else:
                _print_history_forecast(ws.name, learned, top)
                _print_period(learned)
            return
    result = ctx.store().analytics.forecast(
        ws.id,
        timeframe=window,
        scenario=scenario or defaults.scenario,
        simulations=simulations if simulations is not None else defaults.simulations,
        seed=used_seed,
        goal=goal,
        as_of=moment,
        owner_id=owner_id,
        keep=True,
    )
    result["seed"] = used_seed
    if as_of is not None:
        result["as_of"] = as_of.date().isoformat()  # the day; its end is the cut-off
    if source is not None:
        result["goal_source"] = source
    if fallback is not None:
        result["model"] = "rep"
        result["model_note"] = fallback
    if in_period is not None:
        in_period.add_to(result)
    if as_json:
        print_json(result)
        return
    _print_forecast(ws.name, result, top)
    _print_period(result)
    if fallback is not None:
        say("[dim]Model: the reps' probabilities; {}.[/dim]", fallback.rsplit(";", 1)[0])


def _period_forecast(
    ctx: CliContext,
    workspace_id: uuid.UUID,
    text: str,
    goal: float | None,
    owner_id: uuid.UUID | None = None,
) -> PeriodForecast:
    from vectoros_tui.engine.periods import PeriodError, PeriodForecast, parse_period

    now = utc_now()
    try:
        period = parse_period(text, now.date())
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    if period.last < now.date():
        raise click.BadParameter(
            f"{period.label} has ended: `vectoros backtest` and `vectoros forecast history` "
            "show how past forecasts did",
            param_hint="--period",
        )
    if period.first > now.date():
        raise click.BadParameter(
            f"{period.label} has not started: forecast the current month or quarter, or "
            "use --timeframe",
            param_hint="--period",
        )
    store = ctx.store()
    source = "option" if goal is not None else None
    if goal is None:
        goal = store.goals.get_period(workspace_id, period)
        source = "period"
    return PeriodForecast.of(
        period, store.deals.records(workspace_id, owner_id=owner_id), now, goal, source
    )


def _print_period(result: dict[str, Any]) -> None:
    found = result.get("period")
    if not found:
        return
    say(
        "[bold]{}[/bold] ({} to {}, {} days left): won so far {}; by its end likely {} "
        "(P5 {} – P95 {})",
        found["period"],
        found["from"],
        found["to"],
        found["days_left"],
        format_money(found["won_so_far"]),
        format_money(found["likely_case"]),
        format_money(found["worst_case"]),
        format_money(found["best_case"]),
    )
    if "goal" in found:
        say(
            "Period goal {}: {} chance to hit it.",
            format_money(found["goal"]),
            percent(found["probability_of_hitting_goal"]),
        )


def _team_forecast(
    ctx: CliContext,
    workspace_id: uuid.UUID,
    name: str,
    days: int,
    model: str,
    simulations: int | None,
    seed: int | None,
    goal: float | None,
    as_json: bool,
) -> None:
    from vectoros_tui.engine.team import band_bar
    from vectoros_tui.store.history_forecast import NotEnoughHistory

    store = ctx.store()
    if goal is None:
        goal = store.goals.get(workspace_id, days)
    try:
        result = store.analytics.team_forecast(
            workspace_id,
            window_days=days,
            model=model,
            simulations=simulations or ctx.settings.forecast.simulations,
            seed=seed if seed is not None else FORECAST_SEED,
            goal=goal,
            member_goals={str(k): v for k, v in store.goals.members(workspace_id, days).items()},
        )
    except NotEnoughHistory as exc:
        raise click.UsageError(f"{exc} (--model auto falls back to rep)") from None
    if as_json:
        print_json(result)
        return
    team = result["team"]
    say(
        "[bold]{}[/bold] · {} forecast by owner · {} model",
        name,
        result["timeframe"],
        "history" if result["model"] == "history" else "reps' probabilities",
    )
    width = max((r["best_case"] for r in result["owners"]), default=0.0) or 1.0
    listing(
        None,
        [
            Column("owner", shrink=True, min_width=10),
            Column("deals", rank=3, right=True),
            Column("pipeline", rank=2, right=True),
            Column("P5", right=True),
            Column("P50", right=True),
            Column("P95", right=True),
            Column("goal", rank=4, right=True),
            Column("P(goal)", rank=4, right=True),
            Column("band", rank=1),
        ],
        [
            [
                r["name"],
                r["deals"],
                format_money(r["pipeline"]),
                format_money(r["worst_case"]),
                format_money(r["likely_case"]),
                format_money(r["best_case"]),
                format_money(r["goal"]) if "goal" in r else "—",
                percent(r.get("probability_of_hitting_goal")),
                band_bar(r["worst_case"], r["likely_case"], r["best_case"], width),
            ]
            for r in result["owners"]
        ]
        + [
            [
                "team (same runs)",
                sum(r["deals"] for r in result["owners"]),
                format_money(sum(r["pipeline"] for r in result["owners"])),
                format_money(team["worst_case"]),
                format_money(team["likely_case"]),
                format_money(team["best_case"]),
                format_money(team["goal"]) if "goal" in team else "—",
                percent(team.get("probability_of_hitting_goal")),
                "",
            ]
        ],
    )
    say(
        "[dim]The team's band adds the reps' totals run by run: its P5 is not the sum of "
        "their P5s ({}).[/dim]",
        format_money(result["sum_of_owner_p5"]),
    )
    if "probability_of_hitting_goal" in team:
        say(
            "Team goal {}: {} chance to hit it.",
            format_money(team["goal"]),
            percent(team["probability_of_hitting_goal"]),
        )
    _say_unpriced(result, sum(r["deals"] for r in result["owners"]))
    if result.get("model_note"):
        say(
            "[dim]Model: the reps' probabilities; {}.[/dim]", result["model_note"].rsplit(";", 1)[0]
        )


def _say_unpriced(result: dict[str, Any], deals: int) -> None:
    """How many open deals have no value, and what each counts as if won: $0, or (the
    workspace's amounts filled in at the close) an amount won before."""
    count, stand_in = result.get("unpriced_deals"), result.get("unpriced_if_won")
    if count and stand_in:
        say(
            "[yellow]{} of the {} open deals have no value yet. This workspace's amounts are "
            "filled in at the close (its lost deals have none), so each counts as an amount "
            "won before: {} on average, from {} won deals.[/yellow]",
            f"{count:,}",
            f"{deals:,}",
            format_money(stand_in["mean"]),
            f"{stand_in['deals']:,}",
        )
    elif count:
        say(
            "[yellow]{} of the {} open deals have no value: each counts as $0 if won. "
            "Give them values (`deals update ID --value`, or a value column on import).[/yellow]",
            f"{count:,}",
            f"{deals:,}",
        )


def _forecast_history(
    ctx: CliContext, workspace_id: uuid.UUID, name: str, days: int, as_json: bool
) -> None:
    from vectoros_tui.store.forecast_history import forecast_history

    store = ctx.store()
    rows = forecast_history(store.deals, store.models, workspace_id, days, utc_now())
    if as_json:
        print_json({"workspace_id": str(workspace_id), "timeframe": f"{days}d", "runs": rows})
        return
    if not rows:
        say(
            "No {}-day forecast kept for [bold]{}[/bold] yet: each day's `vectoros forecast` "
            "is kept, and shows here.",
            days,
            name,
        )
        return
    listing(
        f"{name} · {days}d forecasts kept, against what their deals won (* outside P5–P95)",
        [
            Column("day"),
            Column("model"),
            Column("P5", rank=2, right=True),
            Column("P50", right=True),
            Column("P95", rank=2, right=True),
            Column("actual", right=True),
            Column("open", rank=3, right=True),
        ],
        [
            [
                r["day"],
                r["model"],
                format_money(r["p5"]),
                format_money(r["p50"]),
                format_money(r["p95"]),
                "window open"
                if r["actual"] is None
                else format_money(r["actual"]) + ("" if r["within_band"] else "*"),
                r["open_deals"],
            ]
            for r in rows
        ],
    )
    if len({r["day"] for r in rows}) >= 2 and console.is_terminal:
        console.out(_history_chart(rows, output_width() or 80), highlight=False)


def _history_chart(rows: list[dict[str, Any]], width: int) -> str:
    """P50 and P5–P95 of each model's kept forecasts by day, and what closed (plotext,
    plain characters: the table above has the numbers)."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(min(width, 120), 16)
    plt.theme("clear")
    days = sorted({r["day"] for r in rows})
    where = {day: i for i, day in enumerate(days)}
    models = [m for m in ("history", "rep") if any(r["model"] == m for r in rows)]
    for model in models:  # the bands first: the P50s and the actuals draw over them
        mine = [r for r in rows if r["model"] == model]
        xs = [where[r["day"]] for r in mine]
        plt.plot(xs, [r["p5"] for r in mine], marker="·", label=f"{model} P5–P95")
        plt.plot(xs, [r["p95"] for r in mine], marker="·")
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        xs = [where[r["day"]] for r in mine]
        marker = "●" if model == "history" else "▪"
        plt.plot(xs, [r["p50"] for r in mine], marker=marker, label=f"{model} P50")
    closed = sorted({(where[r["day"]], r["actual"]) for r in rows if r["actual"] is not None})
    if closed:
        plt.scatter([x for x, _ in closed], [y for _, y in closed], marker="x", label="closed")
    values = [r[k] for r in rows for k in ("p5", "p95")] + [y for _, y in closed]
    low, high = min(values), max(values)
    ticks = [low + (high - low) * k / 4 for k in range(5)]
    plt.yticks(ticks, [format_money(t, compact=True) for t in ticks])
    step = max(1, len(days) // 6)
    plt.xticks(list(range(0, len(days), step)), days[::step])
    return str(plt.uncolorize(plt.build()))


def _as_of_moment(ctx: CliContext, workspace_id: uuid.UUID, day: datetime) -> datetime:
    """The end of ``day`` (UTC), checked: a past day on which the workspace had deals."""
    from vectoros_tui.store.as_of import earliest_created

    end = end_of_day(day)
    today = utc_now().date()
    if day.date() > today:
        raise click.BadParameter(
            f"{day.date().isoformat()} is in the future (today is {today.isoformat()}): "
            "a forecast as of a date looks back",
            param_hint="--as-of",
        )
    first = earliest_created(ctx.store().db, workspace_id)
    if first is None:
        raise click.BadParameter(
            "the workspace has no deals, so nothing stood then", param_hint="--as-of"
        )
    if end < first:
        raise click.BadParameter(
            f"{day.date().isoformat()} is before the workspace's first deal was created "
            f"({first.date().isoformat()})",
            param_hint="--as-of",
        )
    return end


def _print_history_forecast(name: str, r: dict[str, Any], top: int) -> None:
    trained = r["training"]
    say(
        "[bold]{}[/bold] · {} forecast{} · history model · {} open deals",
        name,
        r["timeframe"],
        f" as of the end of {r['as_of']}" if r.get("as_of") else "",
        r["deals_analyzed"],
    )
    say(
        "Learned from {} past windows, one every {} days: {} open deals at their starts, "
        "{} won and {} lost within the window, the rest still open.",
        trained["cutoffs"],
        # A forecast kept by an earlier version stepped a whole window.
        trained.get("cutoff_every_days", trained["window_days"]),
        f"{trained['open_deal_periods']:,}",
        f"{trained['won_within_window']:,}",
        f"{trained['lost_within_window']:,}",
    )
    if trained.get("not_learned"):
        from vectoros_tui.engine.win_features import reason_labels  # numpy: load when used

        say(
            "Not learned yet, the same in every past window (as before an import's day): {}.",
            reason_labels(trained["not_learned"]),
        )
    listing(
        None,
        [
            Column("worst (P5)", right=True),
            Column("likely (P50)", right=True),
            Column("best (P95)", right=True),
            Column("mean", right=True),
        ],
        [
            [
                format_money(r["worst_case"]),
                format_money(r["likely_case"]),
                format_money(r["best_case"]),
                format_money(r["mean_forecast"]),
            ]
        ],
    )
    _print_goal(r)
    _say_unpriced(r, r["deals_analyzed"])
    rows = [
        [
            short_id(d["deal_id"]),
            d["title"],
            _value_if_won(d),
            percent(d["winProbabilityInWindow"]),
            "; ".join(f"{x['text']} ({x['effect']})" for x in d["reasons"]),
        ]
        for d in r["forecasted_deals"][:top]
    ]
    if rows:
        listing(
            f"Top {len(rows)} deals by value × chance of winning within the window",
            [
                Column("id", rank=2),
                Column("title", shrink=True, min_width=12),
                Column("value", right=True),
                Column("win in window", right=True),
                Column("why", rank=1, shrink=True, min_width=20),
            ],
            rows,
        )


def _print_goal(r: dict[str, Any]) -> None:
    if "probability_of_hitting_goal" in r:
        where = _GOAL_SOURCES.get(r.get("goal_source", "option"), "").format(r["timeframe"])
        console.print(
            f"Goal {format_money(r['goal'])}{where}: "
            f"{percent(r['probability_of_hitting_goal'])} chance to hit it",
            soft_wrap=True,
        )


_GOAL_SOURCES = {
    "option": "",
    "saved": " (saved goal for {})",
    "config": " (from the config)",
    "period": " (the period's goal, less what it has won)",
}


def _print_forecast(name: str, r: dict[str, Any], top: int) -> None:
    say(
        "[bold]{}[/bold] · {} forecast{} · {} open deals · {} simulations",
        name,
        r["timeframe"],
        f" as of the end of {r['as_of']}" if r.get("as_of") else "",
        r["deals_analyzed"],
        f"{r['simulation_stats']['num_simulations']:,}",
    )
    console.print(
        f"Predicted ({r['scenario']}): "
        f"[bold green]{format_money(r['predicted_revenue'])}[/bold green]"
        f"   confidence {percent(r['confidence'])}"
    )
    listing(
        None,
        [
            Column("worst (P5)", rank=1, right=True),
            Column("likely (P50)", right=True),
            Column("best (P95)", rank=1, right=True),
            Column("mean", rank=3, right=True),
            Column("std. dev.", rank=4, right=True),
            Column("coverage", rank=2, right=True),
        ],
        [
            [
                format_money(r["worst_case"]),
                format_money(r["likely_case"]),
                format_money(r["best_case"]),
                format_money(r["mean_forecast"]),
                format_money(r["standard_deviation"]),
                # The JSON keeps the original's coverage of a goal it makes up (a share of
                # the pipeline); a rep reading the table sees none without a goal set.
                f"{r['pipeline_coverage']:.2f}x" if r.get("goal") is not None else "no goal",
            ]
        ],
    )
    _print_goal(r)
    listing(
        "By stage",
        [
            Column("stage"),
            Column("deals", rank=2, right=True),
            Column("total", rank=1, right=True),
            Column("weighted", right=True),
            Column("avg. prob.", rank=3, right=True),
        ],
        [
            [
                b["stage"],
                b["deals"],
                format_money(b["total_value"]),
                format_money(b["weighted_value"]),
                percent(b["avg_probability"]),
            ]
            for b in r["breakdown_by_stage"]
        ],
    )
    if top:
        listing(
            f"Top {top} deals by weighted value",
            [
                Column("id", rank=5),
                Column("title", shrink=True, min_width=20),
                Column("value", rank=2, right=True),
                Column("stage", rank=3),
                Column("adj. prob.", rank=4, right=True),
                Column("weighted", rank=1, right=True),
            ],
            [
                [
                    short_id(d["deal_id"]),
                    d["title"],
                    format_money(d["value"]),
                    d["stage"],
                    percent(d["adjusted_probability"]),
                    format_money(d["weighted_value"]),
                ]
                for d in r["forecasted_deals"][:top]
            ],
        )


_MODEL_NAMES = {"rep": "rep %", "history": "history", "run_rate": "run rate"}


@click.command()
@workspace_option
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="First cut-off (default: twelve cut-offs back from --to).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Last cut-off (default: the last day whose window has passed).",
)
@click.option(
    "--every", default="1mo", show_default=True, metavar="N(d|w|mo)", help="Between cut-offs."
)
@click.option("--timeframe", "-t", metavar="Nd", help="Forecast window (default: the config's).")
@click.option(
    "--model",
    "models",
    type=click.Choice(["rep", "history", "run_rate"]),
    multiple=True,
    help="Models to score (repeatable; default all three).",
)
@click.option(
    "--simulations",
    type=click.IntRange(100, 100_000),
    default=5_000,
    show_default=True,
    help="Monte Carlo runs per forecast.",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="Random seed."
)
@owner_option
@json_option
@pass_ctx
def backtest(
    ctx: CliContext,
    workspace: str | None,
    start: datetime | None,
    end: datetime | None,
    every: str,
    timeframe: str | None,
    models: tuple[str, ...],
    simulations: int,
    seed: int,
    owner: str | None,
    as_json: bool,
) -> None:
    """Replay past forecasts at cut-offs and score them against what closed.

    At each cut-off the pipeline is rebuilt as it stood then and forecast from what was
    known then; the actual is what those deals won in the window after it. Scores: how
    often the actual fell inside P5–P95 and P10–P90 (about 90% and 80% when honest),
    pinball loss (lower is better), bias and error of the P50, and band width.
    """
    from vectoros_tui.engine.forecast import parse_timeframe
    from vectoros_tui.store.backtest import MODELS, BacktestInputError
    from vectoros_tui.store.backtest import backtest as replay

    ws = ctx.workspace(workspace)
    days = parse_timeframe(timeframe or ctx.settings.forecast.timeframe)
    member = ctx.owner(ws.id, owner)
    try:
        result = replay(
            ctx.store().deals,
            ws.id,
            window_days=days,
            every=every,
            start=start.replace(tzinfo=UTC) if start else None,
            end=end.replace(tzinfo=UTC) if end else None,
            models=tuple(dict.fromkeys(models)) or MODELS,
            simulations=simulations,
            seed=seed,
            owner_id=member.id if member else None,
        )
    except BacktestInputError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        print_json(result)
        return
    _print_backtest(ws.name, result)


def _print_backtest(name: str, r: dict[str, Any]) -> None:
    say(
        "[bold]{}[/bold] · {} forecasts at {} cut-offs, {} to {}, every {}",
        name,
        r["timeframe"],
        len(r["cutoffs"]),
        r["from"],
        r["to"],
        r["every"],
    )
    models = list(r["summary"])
    listing(
        "Per cut-off: actual, and each model's P50 (* outside its P5–P95)",
        [
            Column("cut-off"),
            Column("open", rank=3, right=True),
            Column("actual", right=True),
            *(Column(_MODEL_NAMES[m], rank=1, right=True) for m in models),
        ],
        [
            [
                row["cutoff"],
                row["open_deals"],
                format_money(row["actual"]),
                *(_p50_cell(row["forecasts"].get(m), row["actual"]) for m in models),
            ]
            for row in r["cutoffs"]
        ],
    )
    listing(
        "Scores (coverage near 90% / 80% is honest; lower pinball is better)",
        [
            Column("model"),
            Column("cut-offs", rank=4, right=True),
            Column("in P5–P95", right=True),
            Column("in P10–P90", rank=3, right=True),
            Column("pinball", right=True),
            Column("P50 bias", rank=1, right=True),
            Column("P50 MAE", rank=2, right=True),
            Column("band", rank=5, right=True),
        ],
        [_score_row(m, r["summary"][m]) for m in models],
    )
    if r.get("amounts_at_close") and "rep" in models:
        say(
            "[dim]This workspace's amounts are filled in at the close (its lost deals have "
            "none): no deal's amount is known before the import, and the reps' model counts "
            "each as $0. The history model counts it as an amount won before.[/dim]"
        )


def _p50_cell(forecast: dict[str, float] | None, actual: float) -> str:
    if not forecast:
        return "—"
    inside = forecast["p5"] <= actual <= forecast["p95"]
    return format_money(forecast["p50"]) + ("" if inside else "*")


def _score_row(model: str, s: dict[str, Any]) -> list[Any]:
    if not s.get("cutoffs"):
        return [_MODEL_NAMES[model], 0, "—", "—", "—", "—", "—", "—"]
    n = s["cutoffs"]
    bias = s["p50_bias"]
    return [
        _MODEL_NAMES[model],
        n,
        f"{round(s['coverage_p5_p95'] * n)}/{n} {percent(s['coverage_p5_p95'])}",
        percent(s["coverage_p10_p90"]),
        format_money(s["mean_pinball"]),
        "—" if bias is None else f"{bias * 100:+.0f}%",
        format_money(s["p50_mae"]),
        format_money(s["mean_band_width"]),
    ]


@click.command()
@workspace_option
@top_option(15, "Deals to list, weakest first")
@owner_option
@json_option
@pass_ctx
@collections_paused()
def score(
    ctx: CliContext, workspace: str | None, top: int, owner: str | None, as_json: bool
) -> None:
    """Health score (0-100) of every open deal, with the reasons behind it."""
    ws = ctx.workspace(workspace)
    result = ctx.store().analytics.score(ws.id)
    member = ctx.owner(ws.id, owner)
    if member is not None:
        result = _owned_scores(result, ctx.store().deals.records(ws.id, owner_id=member.id))
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
    listing(None, [Column(band, right=True) for band in dist], [list(dist.values())])
    weakest = sorted(result["scored_deals"], key=lambda d: d["health_score"])[:top]
    if weakest:
        listing(
            "Weakest deals",
            [
                Column("id", rank=4),
                Column("title", shrink=True, min_width=20),
                Column("score", right=True),
                Column("status", rank=3),
                Column("why", rank=2, shrink=True, min_width=20),
            ],
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


def _owned_scores(result: dict[str, Any], owned: list[Any]) -> dict[str, Any]:
    """The workspace's scores (each deal scored against the whole workspace) of one
    member's deals, with the metrics of those deals."""
    mine = {d.id for d in owned}
    scored = [d for d in result["scored_deals"] if d["deal_id"] in mine]
    metrics = dict(result["workspace_metrics"])
    distribution = dict.fromkeys(metrics["health_distribution"], 0)
    for deal in scored:
        distribution[deal["health_status"]] = distribution.get(deal["health_status"], 0) + 1
    metrics.update(
        total_deals=len(owned),
        scored_deals=len(scored),
        average_health=round(sum(d["health_score"] for d in scored) / len(scored), 1)
        if scored
        else 0.0,
        health_distribution=distribution,
    )
    return {**result, "scored_deals": scored, "workspace_metrics": metrics}


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
@top_option(25, "Insights to list, the most pressing first", least=1)
@owner_option
@json_option
@click.pass_context
@collections_paused()
def insights(
    click_ctx: click.Context,
    workspace: str | None,
    include_dismissed: bool,
    unread: bool,
    no_refresh: bool,
    top: int,
    owner: str | None,
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
    member = ctx.owner(ws.id, owner)
    # The insights about that member's deals.
    mine = (
        None if member is None else {d.id for d in store.deals.records(ws.id, owner_id=member.id)}
    )
    if as_json:
        found = store.insights.list_api(
            ws.id, include_dismissed=include_dismissed, unread_only=unread
        )
        if mine is not None:
            found = [i for i in found if i["dealId"] in mine]
        print_json({"insights": found, "total": len(found)})
        return
    # A team's workspace has tens of thousands: the terminal gets the most pressing.
    items, total = store.insights.most_pressing(
        ws.id, top, include_dismissed=include_dismissed, unread_only=unread, deal_ids=mine
    )
    caption = "● unread"
    if total > top:
        caption += f" · the first {top} of {total:,}; --top N lists more"
    listing(
        f"Insights for {ws.name}",
        [
            Column("id", rank=2),
            Column("priority", rank=1),
            Column("type", rank=5),
            Column("insight", shrink=True, min_width=36),
            Column("suggested action", rank=3, shrink=True, min_width=16),
            Column("details", rank=4, shrink=True, min_width=20),
        ],
        [
            [
                short_id(i.id),
                i.priority,
                i.type,
                f"{'' if i.is_read else '● '}{i.title}",
                (i.actions or ["—"])[0],
                i.description,
            ]
            for i in items
        ],
        caption=caption,
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


COMMANDS = [forecast, backtest, score, insights]


def _value_if_won(row: dict[str, Any]) -> str:
    """A deal's value, or (unpriced, where amounts come at the close) "~" and the amount
    it counts as if won."""
    value, if_won = row["value"], row.get("value_if_won", row["value"])
    return format_money(value) if value or not if_won else f"~{format_money(if_won)}"
