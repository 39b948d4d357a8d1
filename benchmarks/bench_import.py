"""Time `vectoros import` of a CRM export: 10,000 and 100,000 deals, on SQLite and Postgres.

    python benchmarks/bench_import.py [--rows 10000,100000] [--baseline-src DIR] [--strict]

Goals (issue 16): 10,000 rows <= 2 s and 100,000 rows <= 20 s on SQLite; Postgres is
measured beside them. The file is a Salesforce-style export generated here (seeded):
ids, names, accounts, amounts, the CRM's stage names with an outcome column, a probability,
close dates, created dates, closed dates for the won and lost deals, some loss reasons,
contacts and 42 owners (names and emails). An import is what the command does: read and
validate the file (plan_import) and write it in one transaction (apply_import), timed in
a process of its own on an empty database (migrated before the clock starts); the
re-import is the same file again, which changes nothing.

``--baseline-src DIR`` runs the same imports with the code in DIR as well, side by side,
e.g. the code before the bulk import::

    git worktree add /tmp/import_base d373bb6
    python benchmarks/bench_import.py --baseline-src /tmp/import_base

A baseline run slower than ``--baseline-timeout`` seconds (row by row, 100,000 rows on
Postgres take very long) is stopped and shown as such. Postgres is the test server
(``VECTOROS_TEST_PG_URL``, default 127.0.0.1:5432/test); every run works in a schema of
its own, dropped at the end. ``--no-postgres`` measures SQLite only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parents[1]
PG_BASE_URL = os.environ.get(
    "VECTOROS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOALS = {("sqlite", 10_000): 2.0, ("sqlite", 100_000): 20.0}
HEADER = (
    "Opportunity ID,Opportunity Name,Account Name,Amount,Stage,Outcome,Probability (%),"
    "Close Date,Created Date,Closed Date,Opportunity Owner,Primary Contact,Contact Email,"
    "Loss Reason"
)
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review")
FIRST = ("Ann", "Bob", "Chen", "Dana", "Eve", "Femi", "Gus", "Hana", "Ivo", "Jo")
LAST = ("Rep", "Smith", "Lee", "Okafor", "Ünal", "Garcia", "Novak")
KINDS = ("Renewal", "Expansion", "Pilot", "New business", "Upsell")


def write_export(path: Path, rows: int, seed: int = 16) -> None:
    """A CRM export of ``rows`` deals: about 30% won, 25% lost, the rest open."""
    rng = random.Random(seed)
    today = date.today()
    owners = [f"{f} {s}" for f in FIRST for s in LAST][:40]
    owners += ["sam.lead@example.com", "pat.rep@example.com"]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for n in range(rows):
            created = today - timedelta(days=rng.randint(30, 1_000))
            roll = rng.random()
            closed, reason = "", ""
            if roll < 0.55:
                won = roll < 0.3
                stage, outcome = ("Closed Won", "Won") if won else ("Closed Lost", "Lost")
                probability = 100 if won else 0
                if not won:
                    reason = rng.choice(("Budget", "Chose a competitor", "No decision", ""))
                closed_day = min(created + timedelta(days=rng.randint(5, 120)), today)
                closed, close = closed_day.isoformat(), closed_day
            else:
                stage, outcome = rng.choice(OPEN_STAGES), ""
                probability = rng.choice((10, 20, 25, 40, 50, 60, 75, 80))
                close = today + timedelta(days=rng.randint(-30, 240))
            company = f"Company {n % 3_000}"
            email = f"buyer{n}@company{n % 3_000}.example" if n % 3 else ""
            out.write(
                f"006{n:012d},{company} - {rng.choice(KINDS)} {n},{company},"
                f'"${rng.randint(5, 5_000) * 100:,}.00",{stage},{outcome},{probability},'
                f"{close:%m/%d/%Y},{created.isoformat()},{closed},{rng.choice(owners)},"
                f"Buyer {n},{email},{reason}\n"
            )


# --- one run, in a process of its own --------------------------------------------------


def worker(src: str, url: str, file: str) -> None:
    """Import ``file`` into a new workspace of ``url`` with the code in ``src``, then again;
    print the timings as JSON."""
    sys.path.insert(0, src)
    import vectoros_tui
    from vectoros_tui.store.csv_import import apply_import, plan_import
    from vectoros_tui.store.store import open_store

    assert Path(vectoros_tui.__file__).is_relative_to(src), vectoros_tui.__file__

    store = open_store(url)  # migrates the empty database: not part of the import
    workspace = store.workspaces.create("Imported")
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_import(file)
    planned = time.perf_counter()
    first = apply_import(store, workspace.id, plan)
    done, cpu_done = time.perf_counter(), time.process_time()
    again = apply_import(store, workspace.id, plan_import(file))
    repeated = time.perf_counter()
    assert first.created == plan.total_rows, first
    assert (again.created, again.updated, again.unchanged) == (0, 0, plan.total_rows), again
    store.close()
    print(
        json.dumps(
            {
                "plan": planned - started,
                "import": done - started,
                "cpu": cpu_done - cpu,
                "reimport": repeated - done,
            }
        )
    )


# --- the runs, side by side ---------------------------------------------------------------


def _dsn() -> str:
    return PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_BASE_URL else "?"
    return f"{PG_BASE_URL}{separator}options=-csearch_path%3D{schema}"


def run(src: Path, database: str, file: Path, folder: Path, timeout: float) -> dict | None:
    """One import (and re-import) with the code in ``src`` on a new, empty database;
    None if it took longer than ``timeout`` seconds."""
    schema = None
    if database == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}"
    else:
        schema = f"bench_import_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = _schema_url(schema)
    env = {**os.environ, "VECTOROS_HOME": str(folder / "home")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--worker", str(src), url, str(file)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    finally:
        if schema is not None:
            with psycopg.connect(_dsn(), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    if done.returncode != 0:
        raise SystemExit(f"the import with {src} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(result: dict | None, key: str, timeout: float) -> str:
    return f"> {timeout:.0f}" if result is None else f"{result[key]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="file sizes, comma-separated")
    parser.add_argument("--baseline-src", type=Path, help="also run the code in this checkout")
    parser.add_argument("--baseline-timeout", type=float, default=600.0)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--worker", nargs=3, metavar=("SRC", "URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0

    sizes = [int(n) for n in args.rows.split(",")]
    databases = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    codes = [("this", HERE)]
    if args.baseline_src:
        codes.append(("baseline", args.baseline_src.resolve()))
    met: list[bool] = []
    print(
        "import = read, validate and write the file in one transaction; re-import = the same "
        "file again (changes nothing). Seconds, each run on an empty database. cpu = the "
        "importing process's CPU time (not the Postgres server's): what the import costs "
        "when other work shares the machine.\n"
    )
    head = f"{'database':<9} {'rows':>8}  {'code':<9} {'import s':>9} {'rows/s':>8} "
    print(head + f"{'(cpu s)':>8} {'(plan s)':>9} {'re-import s':>12}  goal")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in sizes:
            file = folder / f"export_{size}.csv"
            write_export(file, size)
            for database in databases:
                for label, src in codes:
                    timeout = args.baseline_timeout if label == "baseline" else 3_600.0
                    result = run(src, database, file, folder, timeout)
                    goal = GOALS.get((database, size))
                    verdict = ""
                    if goal is not None and label == "this":
                        meets = result is not None and result["import"] <= goal
                        met.append(meets)
                        verdict = f"<= {goal:g} s {'meets' if meets else 'MISSES'}"
                    rate = f"{size / result['import']:>8,.0f}" if result else f"{'-':>8}"
                    print(
                        f"{database:<9} {size:>8,}  {label:<9} "
                        f"{_cell(result, 'import', timeout):>9} {rate} "
                        f"{_cell(result, 'cpu', timeout):>8} "
                        f"{_cell(result, 'plan', timeout):>9} "
                        f"{_cell(result, 'reimport', timeout):>12}  {verdict}",
                        flush=True,
                    )
    return 1 if args.strict and not all(met) else 0


if __name__ == "__main__":
    sys.exit(main())
