"""Fuzzing the command line: whatever a rep types as an option's value, `vectoros` answers
exit 0 or exit 2 (bad input), never a traceback nor exit 1, and a refused command writes
nothing. Each property runs on a workspace of its own, on SQLite and on Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fuzz_harness import FUZZ, ME, Result, Workspace, refused_wrote_nothing, well_behaved
from fuzz_strategies import (
    STAGES,
    Field,
    amounts,
    argv_text,
    huge_numbers,
    near_valid,
    odd_amounts,
    odd_counts,
    odd_dates,
    plausible_dates,
    stored_text,
    typed_text,
    undecodable,
)
from hypothesis import given, settings
from hypothesis import strategies as st

owners = st.sampled_from(["me", "ME", " me ", ME, ME.upper()])
odd_owners = st.one_of(st.sampled_from(["all", "nobody@example.com", "@", "a@b", ""]), argv_text)
windows = st.integers(1, 400).map(lambda n: f"{n}d")
odd_windows = st.one_of(
    st.integers(-10, 20_000).map(lambda n: f"{n}d"),
    st.integers(-10, 20_000).map(str),
    huge_numbers.map(lambda s: s + "d"),
    argv_text,
)
periods = st.sampled_from(["this-month", "this-quarter"])
odd_periods = st.one_of(
    st.sampled_from(["THIS-MONTH", "last-month", "this-year", "2026-Q0", "2026-00"]),
    st.tuples(st.integers(-1, 12_000), st.integers(-1, 14)).map(lambda t: f"{t[0]:04d}-{t[1]:02d}"),
    st.tuples(st.integers(-1, 12_000), st.integers(-1, 6)).map(lambda t: f"{t[0]:04d}-Q{t[1]}"),
    argv_text,
)


odd_seeds = odd_counts  # negative seeds included: refused with exit 2 naming --seed


def text_field(limit: int) -> Field:
    return typed_text, st.one_of(stored_text, st.just("x" * (limit + 1)))


DEAL_FIELDS: dict[str, Field] = {
    "--title": text_field(200),
    "--company": text_field(200),
    "--value": (amounts, odd_amounts),
    "--probability": (st.integers(0, 100).map(str), st.one_of(huge_numbers, argv_text)),
    "--stage": (st.sampled_from(STAGES[:5]), st.one_of(st.sampled_from(STAGES), argv_text)),
    "--close-date": (plausible_dates, odd_dates),
    "--contact-name": text_field(200),
    "--contact-email": (
        st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.com", fullmatch=True),
        st.one_of(st.emails().map(str), argv_text),
    ),
    "--outcome": (st.sampled_from(["won", "lost"]), st.one_of(st.just("open"), argv_text)),
    "--lost-reason": text_field(500),
    "--next-step": text_field(500),
    "--next-due": (plausible_dates, odd_dates),
    "--owner": (owners, odd_owners),
}


def fuzz(prop: Callable[[], None], ws: Workspace, sqlite_examples: int) -> None:
    """Runs the property ``prop`` (decorated with ``given``): as many examples on SQLite as
    asked, a quarter of them on Postgres (where each command takes four times as long)."""
    postgres = not ws.url.startswith("sqlite")
    count = max(5, sqlite_examples // 4) if postgres else sqlite_examples
    settings(FUZZ, max_examples=count)(prop)()


def seed_deals(ws: Workspace) -> str:
    """Two deals to list, update and forecast (made once per workspace); one's id."""
    found = ws.ok("deals", "list", "--sort", "title", "--asc")["deals"]
    if found:
        return str(found[0]["id"])
    first = ws.ok(
        "deals", "add", "--title", "A first", "--value", "1200", "--probability", "60",
        "--stage", "proposal", "--close-date", "2020-01-15", "--next-step", "Call",
    )  # fmt: skip
    ws.ok("deals", "add", "--title", "B second", "--value", "750k", "--stage", "negotiation")
    return str(first["id"])


def check(ws: Workspace, *argv: str, conflict: bool = False) -> Result:
    """Runs ``vectoros argv``: exit 0 or 2 without a traceback, and exit 2 wrote nothing
    (``conflict``: see :func:`well_behaved`)."""
    before = ws.snapshot()
    result = well_behaved(ws.run(*argv), conflict=conflict)
    refused_wrote_nothing(result, before, ws.snapshot())
    return result


def test_deals_add(ws: Workspace) -> None:
    @given(opts=near_valid(DEAL_FIELDS, ("--title",)), as_json=st.booleans())
    def prop(opts: list[str], as_json: bool) -> None:
        deals = ws.count("deals")
        result = check(ws, "deals", "add", *opts, *(["--json"] if as_json else []))
        if result.code == 0:
            assert ws.count("deals") == deals + 1, result.explain()
            # What was stored reads back, in a table and as JSON.
            newest = ws.ok("deals", "list", "--sort", "created_at", "--limit", "1")["deals"][0]
            ws.ok("deals", "show", newest["id"])
            ws.ok("deals", "show", newest["id"], as_json=False)

    fuzz(prop, ws, 80)


def test_deals_update(ws: Workspace) -> None:
    deal = seed_deals(ws)
    spec = {
        **DEAL_FIELDS,
        "--expect-version": (st.integers(1, 3).map(str), odd_counts),
    }
    ref = st.one_of(st.just(deal), st.just(deal[:8]), st.just(deal.upper()))

    @given(ref=st.one_of(ref, ref, argv_text), opts=near_valid(spec, mutations=1))
    def prop(ref: str, opts: list[str]) -> None:
        result = check(ws, "deals", "update", ref, *opts, conflict=True)
        if result.code == 0:
            ws.ok("deals", "show", deal, as_json=False)

    fuzz(prop, ws, 60)


def test_deals_list_never_writes(ws: Workspace) -> None:
    seed_deals(ws)
    spec: dict[str, Field] = {
        "--limit": (st.integers(1, 10_000).map(str), odd_counts),
        "--offset": (st.integers(0, 2**53).map(str), odd_counts),
        "--sort": (
            st.sampled_from(["title", "value", "stage", "probability", "close_date"]),
            argv_text,
        ),
        "--stage": (st.sampled_from(STAGES), argv_text),
        "--owner": (st.one_of(owners, st.just("all")), odd_owners),
        "--search": (typed_text, stored_text),
        "--outcome": (st.sampled_from(["open", "won", "lost"]), argv_text),
        "-w": (st.sampled_from(["Fuzz", "fuzz", " Fuzz "]), argv_text),
    }

    @given(opts=near_valid(spec), flags=st.sets(st.sampled_from(["--asc", "--json"])))
    def prop(opts: list[str], flags: set[str]) -> None:
        before = ws.snapshot()
        result = well_behaved(ws.run("deals", "list", *opts, *sorted(flags)))
        assert ws.snapshot() == before, result.explain()

    fuzz(prop, ws, 80)


def test_activity_add(ws: Workspace) -> None:
    deal = seed_deals(ws)
    spec: dict[str, Field] = {
        "--type": (
            st.sampled_from(["email", "call", "meeting", "note", "Call", " note "]),
            argv_text,
        ),
        "-d": (typed_text, st.one_of(stored_text, st.just("d" * 4001))),
        "--date": (plausible_dates, odd_dates),
    }
    # --date (it happened) or --due (it is planned): both at once is a usage error.
    due = st.one_of(st.just([]), st.tuples(st.just("--due"), odd_dates).map(list))

    @given(
        ref=st.one_of(st.just(deal), st.just(deal[:8]), argv_text),
        opts=near_valid(spec, ("--type", "-d")),
        due=due,
        as_json=st.booleans(),
    )
    def prop(ref: str, opts: list[str], due: list[str], as_json: bool) -> None:
        activities = ws.count("activities")
        argv = ["activity", "add", ref, *opts, *due, *(["--json"] if as_json else [])]
        result = check(ws, *argv)
        if result.code == 0:
            assert ws.count("activities") == activities + 1, result.explain()
            ws.ok("activity", "list", deal)

    fuzz(prop, ws, 60)


def test_forecast(ws: Workspace) -> None:
    seed_deals(ws)
    spec: dict[str, Field] = {
        "--timeframe": (windows, odd_windows),
        # Few runs keep an example fast; the hostile counts are refused before any run.
        "--simulations": (st.integers(1, 500).map(str), odd_counts),
        "--seed": (st.integers(0, 2**32).map(str), odd_seeds),
        "--goal": (amounts, odd_amounts),
        "--top": (st.integers(0, 20).map(str), odd_counts),
        # The deals were made today: a forecast as of today is the only one with deals.
        "--as-of": (st.just(datetime.now(UTC).date().isoformat()), odd_dates),
        "--period": (periods, odd_periods),
        "--owner": (owners, odd_owners),
        "--model": (st.sampled_from(["rep", "history", "auto"]), argv_text),
        "--scenario": (st.sampled_from(["worst", "likely", "best"]), argv_text),
    }
    # --by owner is a team forecast of its own: no --as-of, --period nor --owner.
    by = st.sampled_from([[], [], [], ["--by", "owner"], ["--by", "rep"]])

    @given(
        history=st.sampled_from([False, False, False, True]),
        opts=near_valid(spec, ("--simulations",)),
        by=by,
        as_json=st.booleans(),
    )
    def prop(history: bool, opts: list[str], by: list[str], as_json: bool) -> None:
        view = ["history"] if history else []
        check(ws, "forecast", *view, *opts, *by, *(["--json"] if as_json else []))

    fuzz(prop, ws, 60)


def test_goal_set(ws: Workspace) -> None:
    spec: dict[str, Field] = {
        "--window": (windows, odd_windows),
        "--period": (
            st.one_of(periods, st.sampled_from(["2026-Q4", "2027-01", "2030-Q1"])),
            odd_periods,
        ),
        "--owner": (owners, odd_owners),
        "-w": (st.sampled_from(["Fuzz", "fuzz"]), argv_text),
    }

    @given(
        amount=st.one_of(amounts, amounts, odd_amounts),
        opts=near_valid(spec),
        parent=st.booleans(),
        as_json=st.booleans(),
    )
    def prop(amount: str, opts: list[str], parent: bool, as_json: bool) -> None:
        # -w also works before the subcommand: `vectoros goal -w Team set 1M`.
        head = ["goal", "-w", "Fuzz", "set"] if parent else ["goal", "set"]
        result = check(ws, *head, amount, *opts, *(["--json"] if as_json else []))
        if result.code == 0:
            ws.ok("goal")

    fuzz(prop, ws, 60)


UNDECODABLE = "Acme \udcff\udc80"  # what `$'Acme \xff\x80'` becomes in sys.argv


@pytest.mark.parametrize(
    "argv",
    [
        ["deals", "add", "--title", UNDECODABLE],
        ["deals", "update", "{deal}", "--contact-name", UNDECODABLE],
        ["activity", "add", "{deal}", "--type", "call", "-d", UNDECODABLE],
        ["deals", "list", "--search", UNDECODABLE],
        ["workspace", "create", UNDECODABLE],
    ],
    ids=["add-title", "update", "activity", "search", "workspace"],
)
def test_undecodable_argv_bytes_in_stored_text(ws: Workspace, argv: list[str]) -> None:
    """Once exit 1, 'unexpected error: UnicodeEncodeError ... surrogates not allowed' (from
    the database driver); now refused as not valid text (exit 2), writing nothing."""
    deal = seed_deals(ws)
    argv = [a.replace("{deal}", deal) for a in argv]
    assert check(ws, *argv).code == 2


def test_undecodable_argv_bytes_elsewhere_are_refused(ws: Workspace) -> None:
    """Where such text is only compared (a stage, a date, an owner, a workspace), it is
    refused as any unknown value is, and echoed with escapes on stderr."""
    deal = seed_deals(ws)

    @given(bad=st.lists(st.one_of(undecodable, typed_text), min_size=1, max_size=4).map("".join))
    def prop(bad: str) -> None:
        for argv in (
            ["deals", "add", "--title", "T", "--stage", bad],
            ["deals", "add", "--title", "T", "--close-date", bad],
            ["deals", "list", "--owner", bad],
            ["deals", "show", bad],
            ["activity", "add", deal, "--type", bad, "-d", "x"],
            ["forecast", "--period", bad],
            ["goal", "set", bad],
        ):
            check(ws, *argv)

    fuzz(prop, ws, 10)


@pytest.mark.parametrize("extra", [[], ["--by", "owner"]], ids=["forecast", "by-owner"])
def test_forecast_with_a_negative_seed(ws: Workspace, extra: list[str]) -> None:
    seed_deals(ws)
    check(ws, "forecast", "--seed", "-1", *extra)
