"""The history model's fit on a team's 100,000-deal workspace: the previous code beside this.

    python benchmarks/bench_fit_scale.py                  # builds 100,000 and 10,000 deals
    python benchmarks/bench_fit_scale.py --db PATH        # reuse a 100,000-deal demo database
    python benchmarks/bench_fit_scale.py --repeat 2 --blas-threads 1 --backtest

A fit is what the app does when no fit of the day is kept (``AnalyticsService._fitted``):
read the workspace's history (``WorkspaceHistory.load``), build the training rows
(``TrainingGrid.until``: the deals open at each monthly cut-off, rebuilt as of then, with
how their window ended) and fit the model (``fit_until``). Each step is timed, wall and
CPU seconds, in a process of its own per code: the previous code from a git worktree of
``--base`` (made at ``--base-dir`` if missing), then this checkout's, alternating when
``--repeat``-ed (the fastest run of each is shown). Reading the deals' records
(``DealService.records``) comes before a fit and is shown apart: it is not part of this
work. The machine may be shared: CPU seconds and the old/new ratios say more than wall
seconds then.

Both fits then give each deal open at the fit's moment its chance of being won within
the 30-day window; the largest and mean difference between the two are shown (the old
fit stopped L-BFGS at its default tolerance, the new one is Newton's method to the
optimum: the difference is the old fit's distance from it).

``--backtest`` also times ``vectoros backtest``'s replay (12 monthly cut-offs, every
model, 2,000 runs each) and checks that both codes see the same open deals, actuals and
run rate at every cut-off.

The 100,000-deal workspace is ``vectoros demo --deals 100000`` (18 months of history,
seed 7) in a SQLite database of its own, built in about two minutes unless ``--db`` names
one (its largest workspace, or ``--workspace``; only read). The 10,000-deal workspace is
built the same way each run (about 15 seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
WINDOW_DAYS = 30
STEPS = ("records", "load", "grid", "fit")
LABELS = {
    "records": "read records (apart)",
    "load": "history load",
    "grid": "training grid",
    "fit": "fit",
}


# --------------------------------------------------------------------------- worker


def worker(src: str, url: str, workspace: str, moment: str, out: str, replay: str) -> None:
    """One fit with the code in ``src`` (first on the path); prints the timings as JSON and
    saves the open deals' chances to ``out``."""
    import numpy as np

    import vectoros_tui
    from vectoros_tui.engine.win_features import deal_features
    from vectoros_tui.store.as_of import WorkspaceHistory
    from vectoros_tui.store.backtest import backtest
    from vectoros_tui.store.database import open_database
    from vectoros_tui.store.deals import DealService
    from vectoros_tui.store.history_forecast import TrainingGrid, fit_until

    assert Path(vectoros_tui.__file__).resolve().is_relative_to(Path(src).resolve())
    db = open_database(url)  # as it is: the previous code may not know a newer schema
    workspace_id, now = uuid.UUID(workspace), datetime.fromisoformat(moment)
    times: dict[str, tuple[float, float]] = {}

    def timed(step: str, action: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        times[step] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    current = timed("records", lambda: DealService(db).records(workspace_id))
    history = timed("load", lambda: WorkspaceHistory.load(db, workspace_id, current))
    grid = TrainingGrid(history, WINDOW_DAYS)
    training = timed("grid", lambda: grid.until(now))
    model, _ = timed("fit", lambda: fit_until(grid, now))  # the rows are the grid's, built
    open_deals = [d for d in current if d.is_open]
    chances = model.probabilities(deal_features(open_deals, now, WINDOW_DAYS, model.owners).matrix)
    np.savez(out, ids=np.array([d.id for d in open_deals]), chances=chances)
    actuals = None
    if replay == "yes":
        # Twelve monthly cut-offs, every model, from the history read afresh (as the CLI).
        result = timed(
            "backtest",
            lambda: backtest(DealService(db), workspace_id, now=now, simulations=2_000, seed=0),
        )
        actuals = [
            (row["cutoff"], row["open_deals"], row["actual"], row["forecasts"]["run_rate"])
            for row in result["cutoffs"]
        ]
    summary = {
        "times": times,
        "deals": len(current),
        "open": len(open_deals),
        "rows": len(training.outcome),
        "wins": int(training.wins),
        "cutoffs": training.cutoffs,
        "period_sd": model.period_sd,
        "actuals": actuals,
    }
    print(json.dumps(summary))


def run(
    src: Path,
    url: str,
    workspace: str,
    moment: datetime,
    folder: Path,
    blas: int | None,
    replay: bool,
) -> dict[str, Any]:
    out = folder / f"{uuid.uuid4().hex}.npz"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
    }
    if blas:
        env |= {"OPENBLAS_NUM_THREADS": str(blas), "OMP_NUM_THREADS": str(blas)}
    command = [
        sys.executable,
        __file__,
        "--worker",
        str(src),
        url,
        workspace,
        moment.isoformat(),
        str(out),
        "yes" if replay else "no",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the fit with {src} failed:\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    found["chances"] = out
    return found


# --------------------------------------------------------------------------- the report


def build(path: Path, deals: int) -> tuple[str, str, datetime]:
    """A demo database of ``deals`` deals: (url, workspace id, the moment to fit at)."""
    sys.path.insert(0, str(HERE))
    from vectoros_tui.store.demo import create_demo_workspace
    from vectoros_tui.store.store import open_store

    url = f"sqlite:///{path}"
    store = open_store(url)
    started = time.perf_counter()
    summary = create_demo_workspace(
        store.db, name="Demo", deals=deals, seed=7, history_months=18, now=NOW
    )
    store.close()
    print(f"  built {deals:,} deals in {time.perf_counter() - started:.0f} s ({path})")
    return url, str(summary.workspace_id), NOW


def reuse(path: Path, workspace: str | None) -> tuple[str, str, datetime]:
    """(url, workspace id, the moment to fit at: its latest change) of a database built
    before (its largest workspace, or ``workspace``)."""
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    if workspace is None:
        found = connection.execute(
            "SELECT workspace_id FROM deals GROUP BY workspace_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        if found is None:
            raise SystemExit(f"{path} has no deals")
        workspace = str(uuid.UUID(found[0]))
    latest = connection.execute(
        "SELECT max(e.changed_at) FROM deal_events e JOIN deals d ON d.id = e.deal_id "
        "WHERE d.workspace_id = ?",
        (uuid.UUID(workspace).hex,),
    ).fetchone()[0]
    connection.close()
    moment = datetime.fromisoformat(latest).replace(tzinfo=UTC)
    return f"sqlite:///{path}", workspace, moment


def base_checkout(base: str, folder: Path) -> Path:
    if not (folder / "vectoros_tui").is_dir():
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--detach", str(folder), base],
            check=True,
            capture_output=True,
        )
    return folder


def compare(
    label: str, url: str, workspace: str, moment: datetime, args: argparse.Namespace, folder: Path
) -> float:
    """Times both codes on one workspace, prints the table; returns the new total (s)."""
    import numpy as np

    codes = {"old": args.base_dir, "new": HERE}
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    for _ in range(args.repeat):
        for name, src in codes.items():
            runs[name].append(
                run(src, url, workspace, moment, folder, args.blas_threads, args.backtest)
            )
    steps = (*STEPS, "backtest") if args.backtest else STEPS
    best = {
        name: {step: min((r["times"][step] for r in found), key=lambda t: t[0]) for step in steps}
        for name, found in runs.items()
    }
    old, new = runs["old"][0], runs["new"][0]
    print(
        f"\n{label}: {new['deals']:,} deals ({new['open']:,} open at {moment:%Y-%m-%d %H:%M}), "
        f"{new['rows']:,} training rows ({old['rows']:,} old), {new['wins']:,} wins, "
        f"{new['cutoffs']} cut-offs"
    )
    head = f"{'old wall':>9} {'old cpu':>8} {'new wall':>9} {'new cpu':>8} {'old/new cpu':>12}"
    print(f"  {'step':<24} {head}")
    totals = {name: [0.0, 0.0] for name in codes}
    for step in STEPS:
        cells = []
        for name in codes:
            wall, cpu = best[name][step]
            cells += [f"{wall:9.2f}", f"{cpu:8.2f}"]
            if step != "records":
                totals[name][0] += wall
                totals[name][1] += cpu
        ratio = best["old"][step][1] / max(best["new"][step][1], 1e-9)
        print(f"  {LABELS[step]:<24} {' '.join(cells)} {ratio:11.1f}x")
    cells = [f"{totals[n][0]:9.2f} {totals[n][1]:8.2f}" for n in codes]
    ratio = totals["old"][1] / max(totals["new"][1], 1e-9)
    print(f"  {'fit total (load+grid+fit)':<24} {' '.join(cells)} {ratio:11.1f}x")
    saved = {name: np.load(runs[name][0]["chances"]) for name in codes}
    by_id = dict(zip(saved["old"]["ids"].tolist(), saved["old"]["chances"].tolist(), strict=True))
    new_ids, new_chances = saved["new"]["ids"].tolist(), saved["new"]["chances"]
    assert set(by_id) == set(new_ids), "the two codes saw different open deals"
    gap = np.abs(np.array([by_id[i] for i in new_ids]) - new_chances)
    print(
        f"  P(won within {WINDOW_DAYS} days) of the {len(gap):,} open deals, old fit vs new: "
        f"max |difference| {gap.max():.5f}, mean {gap.mean():.6f}; period_sd "
        f"{old['period_sd']:.4f} vs {new['period_sd']:.4f}"
    )
    if args.backtest:
        cells = [f"{best[n]['backtest'][0]:9.2f} {best[n]['backtest'][1]:8.2f}" for n in codes]
        ratio = best["old"]["backtest"][1] / max(best["new"]["backtest"][1], 1e-9)
        print(f"  {'backtest (12 cut-offs)':<24} {' '.join(cells)} {ratio:11.1f}x")
        same = old["actuals"] == new["actuals"]
        print(f"  backtest: open deals, actuals and run rate at every cut-off the same: {same}")
    return totals["new"][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a SQLite database with a 100,000-deal demo")
    parser.add_argument("--workspace", help="its workspace (default: its largest)")
    parser.add_argument("--deals", type=int, default=100_000, help="deals to build without --db")
    parser.add_argument(
        "--small", type=int, default=10_000, help="deals of the smaller one (0: none)"
    )
    parser.add_argument("--base", default="42bae78", help="the previous code's commit")
    parser.add_argument("--base-dir", type=Path, default=Path("/tmp/fit_base"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each code (fastest shown)")
    parser.add_argument("--blas-threads", type=int, help="OPENBLAS_NUM_THREADS of both codes")
    parser.add_argument(
        "--backtest", action="store_true", help="also time a backtest (12 cut-offs, 3 models)"
    )
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0

    args.base_dir = base_checkout(args.base, args.base_dir)
    print(
        f"old: {args.base} ({args.base_dir}), new: {HERE}; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
        f"BLAS threads: {args.blas_threads or 'as set'}"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        big = (
            reuse(args.db, args.workspace) if args.db else build(folder / "big.sqlite3", args.deals)
        )
        workspaces = [(f"{args.deals:,}-deal workspace" if not args.db else str(args.db), *big)]
        if args.small:
            workspaces.append(
                (f"{args.small:,}-deal workspace", *build(folder / "small.sqlite3", args.small))
            )
        for label, url, workspace, moment in workspaces:
            compare(label, url, workspace, moment, args, folder)
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
