"""Importing a CRM's history: created and closed dates, their checks, unknown stage names.

Every test that touches the database runs on SQLite and on Postgres (``store`` fixture);
the ``vectoros import`` runs use the same database through ``--db``.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from vectoros_tui.cli import run
from vectoros_tui.store.csv_import import (
    ImportFileError,
    ImportResult,
    apply_import,
    plan_import,
)


def plan(text: str, **kwargs):
    return plan_import(io.StringIO(text), **kwargs)


def midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


def by_source(store, workspace) -> dict:
    """Each deal's engine record, keyed by its source id."""
    views = store.deals.list(workspace.id, limit=10_000).deals
    source = {str(v.id): v.source_id for v in views}
    return {source[r.id]: r for r in store.deals.records(workspace.id)}


def first_stage_event(store, deal_id: str) -> dict:
    events = [e for e in store.deals.history(uuid.UUID(deal_id)) if e["field"] == "stage"]
    return events[0]


def utc_today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def vectoros(database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch):
    """``vectoros("import", path)`` runs ``vectoros --db URL import path`` on the test
    database: (exit code, stdout, stderr)."""
    monkeypatch.delenv("VECTOROS_TEST_PG_URL", raising=False)

    def call(*args: object) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(["--db", database_url, *(str(a) for a in args)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


# --- the columns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "created",
    ["Created Date", "Create Date", "Engage Date", "Date Created", "Creation Date", "created_at"],
)
@pytest.mark.parametrize("closed", ["Closed Date", "Date Closed", "Actual Close Date", "closed_on"])
def test_created_and_closed_date_columns_are_recognised(created: str, closed: str) -> None:
    result = plan(f"Title,Stage,{created},{closed}\nA,won,2024-03-04,2024-05-06\n")
    assert result.errors == []
    assert (result.header_map["created_at"], result.header_map["closed_at"]) == (created, closed)
    assert created not in result.ignored_columns and closed not in result.ignored_columns
    fields = result.rows[0][1]
    assert fields["created_at"] == datetime(2024, 3, 4, tzinfo=UTC)
    assert fields["closed_at"] == datetime(2024, 5, 6, tzinfo=UTC)


def test_a_timestamp_with_its_offset_keeps_its_time_one_without_keeps_its_day() -> None:
    result = plan(
        "Title,Stage,Created Date,Closed Date\n"
        "A,won,2024-03-04T22:15:00.123456+02:00,2024-05-06T08:00:00\n"
    )
    assert result.errors == []
    fields = result.rows[0][1]
    assert fields["created_at"] == datetime(2024, 3, 4, 20, 15, 0, 123456, tzinfo=UTC)
    assert fields["closed_at"] == datetime(2024, 5, 6, tzinfo=UTC)


# --- new deals take the file's history ----------------------------------------------------

HISTORY = """\
id,Title,Stage,Amount,Probability,Close Date,Created Date,Closed Date,Lost Reason
open-1,Open deal,Proposal,500,40,2025-06-30,2025-01-10 15:45,,
won-1,Won deal,Closed Won,1000,100,2025-03-01,2025-01-01,2025-02-15,
lost-1,Lost deal,Closed Lost,700,0,2025-04-01,2024-12-20,2025-02-01 09:30,Budget
"""


def test_new_deals_are_created_and_closed_on_the_days_the_file_gives(store, workspace) -> None:
    result = apply_import(store, workspace.id, plan(HISTORY))
    assert result == ImportResult(created=3, updated=0, unchanged=0, total_rows=3)
    deals = by_source(store, workspace)

    open_deal = deals["open-1"]
    # Midnight UTC of the day: a time of day without its UTC offset is not kept.
    assert open_deal.created_at == midnight("2025-01-10")
    assert open_deal.closed_at is None
    assert open_deal.stage_changed_at == midnight("2025-01-10")

    won = deals["won-1"]
    assert (won.stage, won.outcome) == ("closed", "won")
    assert won.created_at == midnight("2025-01-01")
    assert won.closed_at == midnight("2025-02-15")  # the closed date, not the close date
    assert won.stage_changed_at == midnight("2025-02-15")
    assert won.close_date == date(2025, 3, 1)

    lost = deals["lost-1"]
    assert (lost.outcome, lost.lost_reason) == ("lost", "Budget")
    assert (lost.created_at, lost.closed_at, lost.stage_changed_at) == (
        midnight("2024-12-20"),
        midnight("2025-02-01"),
        midnight("2025-02-01"),
    )
    # The deal's first stage event is dated as the deal entered that stage.
    assert first_stage_event(store, open_deal.id)["changedAt"] == "2025-01-10T00:00:00Z"
    assert first_stage_event(store, won.id)["changedAt"] == "2025-02-15T00:00:00Z"
    assert first_stage_event(store, won.id)["to"] == "closed"


def test_without_a_closed_date_column_a_closed_deal_closed_on_its_close_date(
    store, workspace
) -> None:
    text = """\
id,Title,Stage,Amount,Close Date,Create Date
w,Won,closedwon,100,2025-05-05,2025-01-02
l,Lost,closedlost,200,2025-06-06,2025-01-03
o,Open,Qualified,300,2025-07-07,2025-01-04
"""
    apply_import(store, workspace.id, plan(text))
    deals = by_source(store, workspace)
    assert [(deals[k].closed_at, deals[k].stage_changed_at) for k in "wlo"] == [
        (midnight("2025-05-05"), midnight("2025-05-05")),
        (midnight("2025-06-06"), midnight("2025-06-06")),
        (None, midnight("2025-01-04")),
    ]
    assert [deals[k].created_at for k in "wlo"] == [
        midnight("2025-01-02"),
        midnight("2025-01-03"),
        midnight("2025-01-04"),
    ]


MAVEN = """\
opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054
EC4QE1BX,Darcel Schlecht,MG Special,Cancity,Lost,2016-10-25,2017-03-07,0
HAXMC4IX,James Ascencio,GTX Basic,,Engaging,2016-10-25,,
6DXKSS8S,Moses Frase,GTX Pro,Rangreen,Prospecting,,,
"""


def test_maven_style_export_imports_with_its_history(
    store, workspace, vectoros, tmp_path: Path
) -> None:
    """The Maven CRM sample: no title column (the product is the deal), Engaging is not a
    stage we know, the engage date is the created date, and a closed deal's close date is
    the day it closed."""
    path = tmp_path / "sales_pipeline.csv"
    path.write_text(MAVEN, encoding="utf-8")
    before = datetime.now(UTC)
    code, out, err = vectoros(
        "import", path, "-w", "Test", "--map", "title=product", "--stage-map", "Engaging=qualified"
    )
    after = datetime.now(UTC)
    assert code == 0, err
    assert "4 new" in " ".join(out.split())
    deals = by_source(store, workspace)
    assert set(deals) == {"1C1I7A6R", "EC4QE1BX", "HAXMC4IX", "6DXKSS8S"}

    won = deals["1C1I7A6R"]
    assert (won.title, won.company, won.value, won.stage, won.outcome) == (
        "GTX Plus Basic",
        "Cancity",
        1054.0,
        "closed",
        "won",
    )
    assert (won.created_at, won.closed_at, won.stage_changed_at) == (
        midnight("2016-10-20"),
        midnight("2017-03-01"),
        midnight("2017-03-01"),
    )
    lost = deals["EC4QE1BX"]
    assert (lost.outcome, lost.value, lost.closed_at) == ("lost", 0.0, midnight("2017-03-07"))

    engaging = deals["HAXMC4IX"]
    assert (engaging.stage, engaging.outcome, engaging.closed_at) == ("qualified", None, None)
    assert engaging.created_at == engaging.stage_changed_at == midnight("2016-10-25")

    # No engage date: created by this import, like a deal typed in today.
    prospecting = deals["6DXKSS8S"]
    assert prospecting.stage == "prospect"
    assert prospecting.created_at is not None
    assert before <= prospecting.created_at <= after
    assert prospecting.stage_changed_at == prospecting.created_at


def test_maven_style_export_without_the_stage_map_names_the_option(
    store, workspace, vectoros, tmp_path: Path
) -> None:
    path = tmp_path / "sales_pipeline.csv"
    path.write_text(MAVEN, encoding="utf-8")
    code, out, err = vectoros("import", path, "-w", "Test", "--map", "title=product")
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert '"Engaging" (1 row)' in err
    assert '--stage-map "Engaging=STAGE"' in err
    assert "Nothing was imported." in err
    assert store.deals.records(workspace.id) == []


def test_file_without_a_title_column_exits_2_naming_the_map_option(
    store, workspace, vectoros, tmp_path: Path
) -> None:
    path = tmp_path / "sales_pipeline.csv"
    path.write_text(MAVEN, encoding="utf-8")
    code, out, err = vectoros("import", path, "-w", "Test", "--stage-map", "Engaging=qualified")
    assert code == 2, (out, err)
    message = " ".join(err.split())
    assert "no title column found" in message
    assert '"product"' in message
    assert "--map title=COLUMN" in message
    assert store.deals.records(workspace.id) == []


# --- history that cannot be ----------------------------------------------------------------

HEADER = "id,Title,Stage,Close Date,Created Date,Closed Date\n"
GOOD_ROW = "ok,Fine deal,Proposal,2025-06-30,2025-01-10,\n"


def _history_error_cases() -> list:
    tomorrow = (utc_today() + timedelta(days=1)).isoformat()
    between = f"is not between 1900-01-01 and today ({utc_today().isoformat()})"
    return [
        pytest.param(
            f"x,Future,Proposal,,{tomorrow},\n",
            "Created Date",
            f"created date {tomorrow} {between}",
            id="created-in-the-future",
        ),
        pytest.param(
            "x,Ancient,Proposal,,1899-12-31,\n",
            "Created Date",
            f"created date 1899-12-31 {between}",
            id="created-before-1900",
        ),
        pytest.param(
            # Its offset puts it before year 1 in UTC: no moment a record can hold.
            "x,Year one,Proposal,,0001-01-01T00:00:00+01:00,\n",
            "Created Date",
            f"created date 0001-01-01 {between}",
            id="created-at-the-start-of-the-calendar-with-an-offset",
        ),
        pytest.param(
            "x,Last day,won,,2025-01-01,9999-12-31T23:30:00-01:00\n",
            "Closed Date",
            f"closed date 9999-12-31 {between}",
            id="closed-at-the-end-of-the-calendar-with-an-offset",
        ),
        pytest.param(
            f"x,Future close,won,,2025-01-01,{tomorrow}\n",
            "Closed Date",
            f"closed date {tomorrow} {between}",
            id="closed-in-the-future",
        ),
        pytest.param(
            "x,Ancient close,lost,,,1899-01-01\n",
            "Closed Date",
            f"closed date 1899-01-01 {between}",
            id="closed-before-1900",
        ),
        pytest.param(
            "x,Still open,Negotiation,,2025-01-01,2025-02-01\n",
            "Closed Date",
            "closed date given for an open deal",
            id="closed-date-of-an-open-deal",
        ),
        pytest.param(
            "x,Backwards,won,,2025-03-01,2025-02-01\n",
            "Closed Date",
            "closed on 2025-02-01, before it was created (2025-03-01)",
            id="closed-before-created",
        ),
    ]


@pytest.mark.parametrize(("row", "column", "message"), _history_error_cases())
def test_impossible_history_is_an_error_and_nothing_is_written(
    store, workspace, row: str, column: str, message: str
) -> None:
    result = plan(HEADER + GOOD_ROW + row)
    assert [(e.line, e.column, e.message) for e in result.errors] == [(3, column, message)]
    with pytest.raises(ImportFileError) as raised:
        apply_import(store, workspace.id, result)
    assert f'line 3, column "{column}": {message}' in str(raised.value)
    assert str(raised.value).startswith("1 error in 1 row; nothing was imported:")
    assert store.deals.records(workspace.id) == []


def test_close_date_before_the_created_date_of_a_closed_deal_is_an_error() -> None:
    """Without a closed-date column the close date is when it closed: it must not come
    before the deal existed (an open deal's close date is a plan, and may)."""
    result = plan(
        "Title,Stage,Close Date,Created Date\n"
        "Backwards,won,2025-02-01,2025-03-01\n"
        "Open and overdue,proposal,2025-02-01,2025-03-01\n"
    )
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (2, "Close Date", "closed on 2025-02-01, before it was created (2025-03-01)")
    ]


def test_every_history_error_of_the_file_is_listed(store, workspace) -> None:
    tomorrow = (utc_today() + timedelta(days=1)).isoformat()
    text = (
        HEADER
        + GOOD_ROW
        + f"a,A,Proposal,,{tomorrow},\n"
        + "b,B,Proposal,,2025-01-01,2025-01-05\n"
        + "c,C,lost,,2025-03-01,2025-02-01\n"
    )
    result = plan(text)
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "Created Date"),
        (4, "Closed Date"),
        (5, "Closed Date"),
    ]
    with pytest.raises(ImportFileError, match=r"^3 errors in 3 rows; nothing was imported:"):
        apply_import(store, workspace.id, result)
    assert store.deals.records(workspace.id) == []


def test_impossible_history_exits_2_from_the_cli_and_writes_nothing(
    store, workspace, vectoros, tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(HEADER + GOOD_ROW + "x,Backwards,won,,2025-03-01,2025-02-01\n", "utf-8")
    code, out, err = vectoros("import", path, "-w", "Test")
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert "closed on 2025-02-01, before it was created (2025-03-01)" in err
    assert store.deals.records(workspace.id) == []


# --- re-imports ------------------------------------------------------------------------------


def test_reimport_with_a_changed_created_date_updates_it(store, workspace) -> None:
    apply_import(store, workspace.id, plan(HISTORY))
    versions = {k: r.version for k, r in by_source(store, workspace).items()}
    changed = HISTORY.replace("2025-01-10 15:45", "2025-01-08").replace(
        "2025-01-01,2025-02-15", "2024-11-30,2025-02-16"
    )
    result = apply_import(store, workspace.id, plan(changed))
    assert result == ImportResult(created=0, updated=2, unchanged=1, total_rows=3)
    deals = by_source(store, workspace)
    assert deals["open-1"].created_at == midnight("2025-01-08")
    assert deals["won-1"].created_at == midnight("2024-11-30")
    assert deals["won-1"].closed_at == midnight("2025-02-16")
    assert deals["lost-1"].created_at == midnight("2024-12-20")  # its row did not change
    assert deals["lost-1"].version == versions["lost-1"]
    assert deals["open-1"].version == versions["open-1"] + 1

    # The same file again changes nothing.
    again = apply_import(store, workspace.id, plan(changed))
    assert again == ImportResult(created=0, updated=0, unchanged=3, total_rows=3)


def test_reimport_with_a_changed_created_date_moves_an_open_deals_time_in_stage(
    store, workspace
) -> None:
    """An open deal imported with a created date is in its stage since it was created (the
    export says nothing later); a corrected created date corrects that too."""
    apply_import(store, workspace.id, plan(HISTORY))
    changed = HISTORY.replace("2025-01-10 15:45", "2025-01-20")
    apply_import(store, workspace.id, plan(changed))
    deal = by_source(store, workspace)["open-1"]
    assert deal.created_at == midnight("2025-01-20")
    assert deal.stage_changed_at == midnight("2025-01-20")


# --- unknown stage names -----------------------------------------------------------------


def test_unknown_stage_names_are_listed_with_the_stage_map_options(store, workspace) -> None:
    text = "Title,Stage\nA,Demo Booked\nB,Proposal\nC,Verbal\nD,Demo Booked\nE,Verbal\nF,Trial\n"
    result = plan(text)
    with pytest.raises(ImportFileError) as raised:
        apply_import(store, workspace.id, result)
    error = raised.value
    # Each name as written, most rows first, then by name.
    assert dict(error.unknown_stages) == {"Demo Booked": 2, "Verbal": 2, "Trial": 1}
    assert str(error) == (
        '3 stage names in the file are not one VectorOS knows: "Demo Booked" (2 rows), '
        '"Verbal" (2 rows), "Trial" (1 row).\n'
        "Map each to prospect, qualified, proposal, negotiation or closed (won, lost) and "
        "import again with:\n"
        '  --stage-map "Demo Booked=STAGE" --stage-map "Verbal=STAGE" '
        '--stage-map "Trial=STAGE"\n'
        "Nothing was imported."
    )
    assert store.deals.records(workspace.id) == []

    # The options it names import the file.
    stage_map = {"Demo Booked": "qualified", "Verbal": "negotiation", "Trial": "proposal"}
    mapped = plan(text, stage_map=stage_map)
    assert mapped.errors == []
    assert apply_import(store, workspace.id, mapped).created == 6
    stages = {r.title: r.stage for r in store.deals.records(workspace.id)}
    assert stages == {
        "A": "qualified",
        "B": "proposal",
        "C": "negotiation",
        "D": "qualified",
        "E": "negotiation",
        "F": "proposal",
    }


def test_one_unknown_stage_name_is_singular() -> None:
    result = plan("Title,Stage\nA,Verbal\n")
    message = str(ImportFileError(result.errors))
    assert message.startswith(
        '1 stage name in the file is not one VectorOS knows: "Verbal" (1 row).\n'
    )
    assert message.endswith('  --stage-map "Verbal=STAGE"\nNothing was imported.')


def test_other_errors_are_listed_after_the_unknown_stages(store, workspace) -> None:
    text = (
        "Title,Stage,Amount,Created Date\n"
        "A,Verbal,100,2025-01-01\n"
        "B,Proposal,lots,2025-01-01\n"
        "C,Proposal,100,1899-01-01\n"
        "D,Verbal,100,2025-01-01\n"
    )
    with pytest.raises(ImportFileError) as raised:
        apply_import(store, workspace.id, plan(text))
    message = str(raised.value)
    lines = message.splitlines()
    assert lines[0] == '1 stage name in the file is not one VectorOS knows: "Verbal" (2 rows).'
    assert lines[2] == '  --stage-map "Verbal=STAGE"'
    assert lines[3] == "Also 2 errors in 2 rows:"
    assert lines[4].startswith('  line 3, column "Amount": value ')
    assert lines[5] == (
        '  line 4, column "Created Date": created date 1899-01-01 is not between 1900-01-01 '
        f"and today ({utc_today().isoformat()})"
    )
    assert lines[6] == "Nothing was imported."
    assert len(lines) == 7
    # The unknown stages are not repeated among the other errors.
    assert "unknown stage" not in message
    assert store.deals.records(workspace.id) == []
