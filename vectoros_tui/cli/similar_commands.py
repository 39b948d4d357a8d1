"""`vectoros similar` and `vectoros reindex`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from vectoros_tui.cli.context import CliContext
from vectoros_tui.cli.options import json_option, workspace_option
from vectoros_tui.cli.output import (
    Column,
    console,
    errors,
    listing,
    percent,
    print_json,
    progress_bar,
    say,
    short_id,
    table,
)
from vectoros_tui.money import format_money

if TYPE_CHECKING:
    from vectoros_tui.similar.service import RefreshPlan, SimilarDeal, SimilarDeals

pass_ctx = click.make_pass_decorator(CliContext)


@click.command()
@click.argument("words", nargs=-1, metavar="[DESCRIPTION]")
@workspace_option
@click.option("--deal", "deal_ref", metavar="ID", help="Find deals like this one (id or prefix).")
@click.option("--text", metavar="TEXT", help="Find deals matching a description.")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Results."
)
@click.option(
    "--threshold",
    type=click.FloatRange(-1.0, 1.0),
    metavar="X",
    help="Minimum cosine similarity (-1..1), e.g. 0.4.",
)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(["prospect", "qualified", "proposal", "negotiation", "closed"]),
    help="Only deals in this stage (repeatable).",
)
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    type=click.Choice(["open", "won", "lost"]),
    help="Only open, won or lost deals (repeatable).",
)
@click.option("--stats", is_flag=True, help="Show the index's size, dimensions and metric.")
@json_option
@pass_ctx
def similar(
    ctx: CliContext,
    words: tuple[str, ...],
    workspace: str | None,
    deal_ref: str | None,
    text: str | None,
    limit: int,
    threshold: float | None,
    stages: tuple[str, ...],
    outcomes: tuple[str, ...],
    stats: bool,
    as_json: bool,
) -> None:
    """Find the deals most like one deal, or like a description, and what became of them.

    `vectoros similar fintech payments renewal` is `--text "fintech payments renewal"`.
    The index is brought up to date first (new and changed deals are embedded).
    """
    if words:
        if text is not None:
            raise click.UsageError("give the description once: as words or with --text")
        text = " ".join(words)
    chosen = [name for name, given in (("--deal", deal_ref), ("--text", text)) if given]
    if stats and chosen:
        raise click.UsageError("--stats cannot be combined with --deal or --text")
    if not stats and len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of a DESCRIPTION (or --text TEXT), --deal ID or --stats"
        )
    if text is not None and not text.strip():
        raise click.BadParameter("is empty; describe the deal", param_hint="--text")
    ws = ctx.workspace(workspace)
    service = ctx.similar()
    if stats:
        result = service.stats(ws.id)
        if as_json:
            print_json(result)
        else:
            table(
                f"Similar-deal index · {ws.name}",
                ["what", "value"],
                list(result["stats"].items()),
            )
        return
    deal_id = None
    if deal_ref:
        from vectoros_tui.store.errors import NotFoundError

        deal_id = ctx.store().deals.resolve_id(deal_ref, ws.id)
        # Checked before the index catches up (which may embed the whole workspace).
        if ctx.store().deals.get(deal_id).workspace_id != ws.id:
            raise NotFoundError(f"deal {deal_ref} is not in workspace {ws.name}")
    show_progress = not as_json
    with progress_bar("Indexing deals for search", show_progress) as update:
        service.refresh(ws.id, progress=update)
    options: dict[str, Any] = {
        "limit": limit,
        "threshold": threshold,
        "stages": stages,
        "outcomes": outcomes,
    }
    if deal_id is not None:
        found = service.search_deal(ws.id, deal_id, **options)
    else:
        found = service.search_text(ws.id, text or "", **options)
    if as_json:
        print_json(found.to_api())
        return
    if deal_id is not None:
        say("Deals like [bold]{}[/bold] in {}", ctx.store().deals.get(deal_id).title, ws.name)
    else:
        say("Deals like “{}” in {}", text, ws.name)
    _print_results(found.deals)
    evidence = found.evidence
    console.print(f"[bold]Evidence:[/bold] {evidence.summary()}")
    if evidence.closed:
        console.print(
            f"  win rate {percent(evidence.win_rate)} of {evidence.closed} closed"
            + "".join(f" · {reason} ×{count}" for reason, count in evidence.lost_reasons)
        )


def _print_results(deals: list[SimilarDeal]) -> None:
    if not deals:
        console.print("No deal is similar enough (try a lower --threshold or fewer filters).")
        return
    listing(
        None,
        [
            Column("sim.", right=True),
            Column("id", rank=5),
            Column("title", shrink=True, min_width=20),
            Column("stage", rank=1),
            Column("value", rank=2, right=True),
            Column("close", rank=3),
        ],
        [
            [
                f"{d.similarity:.2f}",
                short_id(d.deal_id),
                d.title,
                d.outcome or d.stage,  # a closed deal shows how it closed
                format_money(d.value),
                d.close_date.isoformat() if d.close_date else "—",
            ]
            for d in deals
        ],
    )


@click.command()
@workspace_option
@click.option("--all", "every", is_flag=True, help="Every workspace (the default with one).")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Start from an empty index (after a model change), not from what is indexed.",
)
@json_option
@pass_ctx
def reindex(
    ctx: CliContext, workspace: str | None, every: bool, rebuild: bool, as_json: bool
) -> None:
    """Bring the similar-deal index in step with the database: embed missing and changed
    deals, delete points of deleted deals (and of deleted workspaces).

    Work is committed every [similar] flush_every deals (512): an interrupted run keeps
    what it committed, and the next run resumes from there."""
    from vectoros_tui.similar.errors import IndexLockedError, IndexUnavailableError

    store = ctx.store()
    if every and workspace:
        raise click.UsageError("--all and --workspace cannot be combined")
    if workspace:
        targets = [ctx.workspace(workspace)]
    elif every or not ctx.settings.workspace:
        targets = store.workspaces.list()  # may be none: foreign points are still removed
    else:
        targets = [ctx.workspace(None)]
    service = ctx.similar()
    try:
        if rebuild:
            service.rebuild_index()
        else:
            service.index  # noqa: B018 - opens it: a broken index is rebuilt below
    except IndexLockedError:
        raise
    except IndexUnavailableError as exc:
        errors.print(f"The index cannot be opened ({exc}); rebuilding it from the database.")
        service.rebuild_index()
    try:
        summary = _reindex(service, targets, as_json)
    except IndexLockedError:
        raise
    except IndexUnavailableError as exc:
        # A damaged file found while reading the index, not when opening it.
        errors.print(f"The index cannot be read ({exc}); rebuilding it from the database.")
        service.rebuild_index()
        summary = _reindex(service, targets, as_json)
    if as_json:
        print_json(summary)
        return
    for item in summary["workspaces"]:
        say(
            "{}: {} deals indexed ({} embedded, {} deleted)",
            item["workspace"],
            item["indexed"],
            item["embedded"],
            item["deleted"],
        )
    if summary["foreign_points_deleted"]:
        say("{} points of deleted workspaces removed", summary["foreign_points_deleted"])


class _Counter:
    """The bar counts the workspace's deals indexed, from those already indexed (what a
    killed run committed), rather than only the ones embedded now; a resumed run says so."""

    def __init__(self, name: str, update: Callable[[int, int | None], None], quiet: bool):
        self.name = name
        self.update = update
        self.quiet = quiet
        self.current = 0
        self.deals = 0

    def started(self, plan: RefreshPlan) -> None:
        self.current, self.deals = plan.current, plan.deals
        if plan.resumed and not self.quiet:
            say(
                "{}: resuming an interrupted reindex, {} of {} deals already indexed",
                self.name,
                f"{plan.current:,}",
                f"{plan.deals:,}",
            )

    def advance(self, done: int, _todo: int) -> None:
        self.update(self.current + done, self.deals)


def _reindex(service: SimilarDeals, targets: list[Any], as_json: bool) -> dict[str, Any]:
    removed = service.foreign_points()
    service.remove(removed)
    summary: dict[str, Any] = {"workspaces": [], "foreign_points_deleted": len(removed)}
    for ws in targets:
        with progress_bar(f"Embedding {ws.name}", not as_json) as update:
            counter = _Counter(ws.name, update, as_json)
            result = service.refresh(ws.id, progress=counter.advance, on_start=counter.started)
        summary["workspaces"].append(
            {
                "workspace": ws.name,
                "embedded": result.embedded,
                "deleted": result.deleted,
                "indexed": service.index.count(ws.id),
                "already_indexed": result.already,
                "resumed": result.resumed,
            }
        )
    return summary


COMMANDS = [similar, reindex]
