"""CSV import: column detection, value parsing, all-or-nothing writes, idempotent re-imports.

Every test that touches the database runs on SQLite and on Postgres (``store`` fixture).
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from vectoros_tui.store.csv_import import (
    CsvImportError,
    ImportFileError,
    ImportPlan,
    ImportResult,
    RowError,
    apply_import,
    derived_source_id,
    plan_import,
)
from vectoros_tui.store.errors import NotFoundError


def write(tmp_path: Path, text: str, name: str = "deals.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def plan_text(text: str, **kwargs) -> ImportPlan:
    return plan_import(io.StringIO(text), **kwargs)


def one(text: str, **kwargs) -> dict:
    """The cleaned fields of a one-row file (which must be valid)."""
    plan = plan_text(text, **kwargs)
    assert plan.errors == []
    assert len(plan.rows) == 1
    return plan.rows[0][1]


def all_deals(store, workspace) -> list:
    return store.deals.list(workspace.id, limit=10_000, sort="title", descending=False).deals


SALESFORCE = """\
Opportunity ID,Opportunity Name,Account Name,Amount,Stage,Probability (%),Close Date,\
Primary Contact,Contact Email,Opportunity Owner,Lead Source,Loss Reason
0065e00000AbCdE,Acme - Platform renewal,Acme Corp,"$120,000.00",Negotiation/Review,80,\
12/31/2026,Jane Doe,jane@acme.example,Bob Rep,Web,
0065e00000AbCdF,Globex expansion,Globex,"45,500.50",Prospecting,10,1/15/2027,,,Bob Rep,Partner,
0065e00000AbCdG,Initech pilot,Initech,9900,Closed Won,100,6/30/2026,Bill L,bill@initech.example,\
Ann Rep,Event,
0065e00000AbCdH,Umbrella upsell,Umbrella,"$30,000",Closed Lost,0,5/1/2026,,,Ann Rep,Web,\
Chose competitor
"""

HUBSPOT = """\
Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal probability,Associated Company,\
Associated Contact,Deal owner,Pipeline,Create Date
9012345678,Hooli - Search licence,appointmentscheduled,15000,2026-09-30 00:00,0.2,Hooli,\
Gavin B,Rep One,Sales Pipeline,2026-01-03 10:15
9012345679,Pied Piper compression,Contract sent,250000,2026-07-15 17:30,0.9,Pied Piper,\
Richard H,Rep Two,Sales Pipeline,2026-02-11 09:00
9012345680,Aviato rebrand,closedwon,8000,2026-04-01 12:00,1,Aviato,Erlich B,Rep One,\
Sales Pipeline,2026-01-20 14:00
"""


# --- column detection -----------------------------------------------------------------


def test_salesforce_export_is_detected_and_imported(store, workspace, tmp_path: Path) -> None:
    plan = plan_import(write(tmp_path, SALESFORCE))
    assert plan.errors == []
    assert plan.header_map == {
        "source_id": "Opportunity ID",
        "title": "Opportunity Name",
        "company": "Account Name",
        "value": "Amount",
        "stage": "Stage",
        "probability": "Probability (%)",
        "contact_name": "Primary Contact",
        "contact_email": "Contact Email",
        "close_date": "Close Date",
        "lost_reason": "Loss Reason",
        "owner": "Opportunity Owner",
    }
    assert plan.ignored_columns == ["Lead Source"]
    assert plan.total_rows == 4

    result = apply_import(store, workspace.id, plan)
    assert result == ImportResult(
        created=4,
        updated=0,
        unchanged=0,
        total_rows=4,
        new_members=("Ann Rep <ann.rep@imported.invalid>", "Bob Rep <bob.rep@imported.invalid>"),
    )
    deals = {d.source_id: d for d in all_deals(store, workspace)}
    # Each deal is its owner's, a member of the workspace.
    members = {m.id: m for m in store.owners.members(workspace.id)}
    assert {members[d.owner_id].name for d in deals.values()} == {"Ann Rep", "Bob Rep"}
    assert members[deals["0065e00000AbCdE"].owner_id].name == "Bob Rep"
    assert {m.role for m in members.values()} == {"member"}
    acme = deals["0065e00000AbCdE"]
    assert (acme.title, acme.company, acme.value, acme.stage, acme.probability) == (
        "Acme - Platform renewal",
        "Acme Corp",
        120000.0,
        "negotiation",
        80,
    )
    assert acme.close_date == date(2026, 12, 31)
    assert (acme.contact_name, acme.contact_email) == ("Jane Doe", "jane@acme.example")
    assert deals["0065e00000AbCdF"].value == 45500.5
    assert deals["0065e00000AbCdF"].stage == "prospect"
    assert (deals["0065e00000AbCdG"].stage, deals["0065e00000AbCdG"].outcome) == ("closed", "won")
    umbrella = deals["0065e00000AbCdH"]
    assert (umbrella.stage, umbrella.outcome, umbrella.lost_reason) == (
        "closed",
        "lost",
        "Chose competitor",
    )


def test_hubspot_export_is_detected_and_imported(store, workspace, tmp_path: Path) -> None:
    plan = plan_import(write(tmp_path, HUBSPOT))
    assert plan.errors == []
    assert plan.header_map == {
        "source_id": "Record ID",
        "title": "Deal Name",
        "company": "Associated Company",
        "value": "Amount",
        "stage": "Deal Stage",
        "probability": "Deal probability",
        "contact_name": "Associated Contact",
        "close_date": "Close Date",
        "created_at": "Create Date",
        "owner": "Deal owner",
    }
    assert set(plan.ignored_columns) == {"Pipeline"}
    assert any("fractions" in w for w in plan.warnings)
    apply_import(store, workspace.id, plan)
    deals = {d.source_id: d for d in all_deals(store, workspace)}
    assert [
        (deals[k].stage, deals[k].outcome, deals[k].probability, deals[k].close_date)
        for k in ("9012345678", "9012345679", "9012345680")
    ] == [
        ("prospect", None, 20, date(2026, 9, 30)),
        ("negotiation", None, 90, date(2026, 7, 15)),
        ("closed", "won", 100, date(2026, 4, 1)),
    ]
    # The history the export carries: when each deal was created, when the won one closed
    # (its close date: HubSpot's once a deal is won).
    assert [deals[k].created_at.date() for k in ("9012345678", "9012345679", "9012345680")] == [
        date(2026, 1, 3),
        date(2026, 2, 11),
        date(2026, 1, 20),
    ]
    assert deals["9012345680"].closed_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert deals["9012345678"].closed_at is None


@pytest.mark.parametrize(
    "header",
    [
        "title,company,value,stage",
        "Title,Company,Value,Stage",
        "DEAL_NAME,Account_Name,Deal Value,Pipeline Stage",
        " deal name , organisation , AMOUNT , deal-stage ",
        "dealName,customer,ARR,status",
        "Subject,Organization,Revenue,Stage",
    ],
)
def test_header_names_are_matched_loosely(header: str) -> None:
    plan = plan_text(f"{header}\nBig deal,Acme,1000,proposal\n")
    assert plan.errors == []
    assert set(plan.header_map) == {"title", "company", "value", "stage", "source_id"} - {
        "source_id"
    }
    assert plan.rows[0][1]["title"] == "Big deal"
    assert plan.rows[0][1]["company"] == "Acme"
    assert plan.rows[0][1]["value"] == 1000.0
    assert plan.rows[0][1]["stage"] == "proposal"


def test_specific_header_wins_over_generic_one() -> None:
    plan = plan_text("Name,Deal Name,Stage\nJane (contact),Acme renewal,lead\n")
    assert plan.header_map["title"] == "Deal Name"
    assert plan.ignored_columns == ["Name"]


def test_source_id_column_is_preferred_over_id() -> None:
    plan = plan_text("id,source_id,title,stage\nabc,crm-1,Deal,lead\n")
    assert plan.header_map["source_id"] == "source_id"
    assert plan.rows[0][0] == "crm-1"


def test_map_overrides_detection_and_is_loose_about_column_spelling() -> None:
    text = "Name,Value,Close_Value,Stage\nDeal,100,250,lead\n"
    assert one(text)["value"] == 100.0
    plan = plan_text(text, mapping={"value": "close value"})
    assert plan.header_map["value"] == "Close_Value"
    assert plan.rows[0][1]["value"] == 250.0
    assert "Value" in plan.ignored_columns


def test_map_can_point_a_field_at_a_column_detection_gave_another_field() -> None:
    plan = plan_text(
        "Account Name,Company,Stage\nAcme renewal,Acme,lead\n", mapping={"title": "Account Name"}
    )
    assert plan.header_map == {"title": "Account Name", "company": "Company", "stage": "Stage"}


def test_map_with_empty_column_skips_a_field() -> None:
    plan = plan_text("Title,Company,Stage\nDeal,Acme,lead\n", mapping={"company": ""})
    assert "company" not in plan.header_map
    assert plan.rows[0][1]["company"] is None
    assert plan.ignored_columns == ["Company"]


def test_map_unknown_field_is_an_error_naming_the_fields() -> None:
    with pytest.raises(CsvImportError, match=r"'colour' is not a deal field; use one of title"):
        plan_text("Title,Stage\nDeal,lead\n", mapping={"colour": "Title"})


def test_map_unknown_column_is_an_error_listing_the_columns() -> None:
    with pytest.raises(CsvImportError) as caught:
        plan_text("Title,Stage,Amount\nDeal,lead,5\n", mapping={"value": "close_value"})
    message = str(caught.value)
    assert "no column 'close_value'" in message
    assert '"Title", "Stage", "Amount"' in message


def test_file_without_a_title_column_is_a_clear_error() -> None:
    with pytest.raises(CsvImportError, match=r'no title column found.*"Foo", "Bar"'):
        plan_text("Foo,Bar\n1,2\n")


def test_two_columns_with_the_same_meaning_are_ambiguous() -> None:
    with pytest.raises(CsvImportError, match=r"2 columns could be the value.*--map value="):
        plan_text("Title,Amount,amount,Stage\nDeal,1,2,lead\n")
    plan = plan_text("Title,Amount,amount,Stage\nDeal,1,2,lead\n", mapping={"value": "amount"})
    assert plan.rows[0][1]["value"] == 2.0


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('"$1,200.50"', 1200.5),
        ("1 200", 1200.0),
        ('"€3,000"', 3000.0),
        ("£99.99", 99.99),
        ("USD 5000", 5000.0),
        ("", 0.0),
        ("0", 0.0),
    ],
)
def test_money_strings(cell: str, expected: float) -> None:
    assert one(f"Title,Amount,Stage\nDeal,{cell},lead\n")["value"] == expected


def test_decimal_comma_column_is_read_as_such() -> None:
    plan = plan_text(
        "Title;Betrag;Stage;Id\n"
        "A;1.200,50 €;lead;1\n"
        "B;99,5;lead;2\n"
        "C;1.200;lead;3\n"
        "D;2.500.000;lead;4\n",
        mapping={"value": "Betrag"},
    )
    assert plan.errors == []
    assert plan.delimiter == ";"
    assert [clean["value"] for _, clean in plan.rows] == [1200.5, 99.5, 1200.0, 2500000.0]
    assert any("decimal comma" in w for w in plan.warnings)


def test_decimal_point_column_keeps_thousands_commas() -> None:
    plan = plan_text('Title,Amount,Stage,Id\nA,"1,200",lead,1\nB,99.50,lead,2\n')
    assert [clean["value"] for _, clean in plan.rows] == [1200.0, 99.5]


def test_negative_and_garbage_amounts_are_row_errors() -> None:
    plan = plan_text("Title,Amount,Stage,Id\nA,-5,lead,1\nB,lots,lead,2\nC,(300),lead,3\n")
    assert [str(e) for e in plan.errors] == [
        'line 2, column "Amount": value must not be negative (got -5)',
        "line 3, column \"Amount\": value 'lots' is not an amount of money",
        'line 4, column "Amount": value must not be negative (got -300)',
    ]
    assert plan.rows == []


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["60%", "5 %", "100%"], [60, 5, 100]),
        (["60", "0", "100"], [60, 0, 100]),
        (["0.6", "0.25", "1"], [60, 25, 100]),
        (["0.6", "", "0"], [60, 10, 0]),  # empty: the stage's usual probability
        (["0,6", "0.333", "1"], [60, 33, 100]),
        (["0", "1", "1"], [0, 1, 1]),  # no fraction: whole percentages
    ],
)
def test_probabilities_percent_or_fraction(cells: list[str], expected: list[int]) -> None:
    rows = "".join(f'D{i},"{c}",lead,{i}\n' for i, c in enumerate(cells))
    plan = plan_text("Title,Probability,Stage,Id\n" + rows)
    assert plan.errors == []
    assert [clean["probability"] for _, clean in plan.rows] == expected


def test_probability_fraction_among_percentages_is_an_error() -> None:
    plan = plan_text("Title,Win Probability,Stage,Id\nA,0.5,lead,1\nB,60,lead,2\nC,150,lead,3\n")
    assert [(e.line, e.column) for e in plan.errors] == [
        (2, "Win Probability"),
        (4, "Win Probability"),
    ]
    assert "whole number" in plan.errors[0].message
    assert "between 0 and 100" in plan.errors[1].message


@pytest.mark.parametrize(
    "cell",
    [
        "2026-12-31",
        "2026/12/31",
        "12/31/2026",
        "31/12/2026",
        "31.12.2026",
        "31-12-2026",
        "Dec 31 2026",
        '"Dec 31, 2026"',
        "31 Dec 2026",
        "December 31 2026",
        "2026-12-31T09:30:00Z",
        "2026-12-31 23:59:59+02:00",
        "12/31/2026 10:00 AM",
        "20261231",
    ],
)
def test_date_formats(cell: str) -> None:
    assert one(f"Title,Close Date,Stage\nDeal,{cell},lead\n")["close_date"] == date(2026, 12, 31)


def test_ambiguous_slash_dates_are_month_first_unless_day_first() -> None:
    text = "Title,Close Date,Stage\nDeal,03/04/2026,lead\n"
    assert one(text)["close_date"] == date(2026, 3, 4)
    assert one(text, day_first=True)["close_date"] == date(2026, 4, 3)


def test_reading_ambiguous_dates_month_first_is_said_with_an_example() -> None:
    """A European file of 03/04/2026-style dates is read month-first: silently, it would
    move every close date; the plan says so, with its first such date in words."""
    text = "Title,Close Date,Stage\nA,04/04/2026,lead\nB,03/04/2026,lead\nC,05/06/2026,lead\n"
    notes = [w for w in plan_text(text).warnings if "month/day/year" in w]
    assert notes == [
        "dates are read as month/day/year, as nothing in the file says otherwise "
        "(line 3: 03/04/2026 is March 4, 2026); --day-first reads them as day/month/year"
    ]
    # Said by the file itself (05/16), or asked for: nothing to point out.
    clear = "Title,Close Date,Stage\nA,03/04/2026,lead\nB,05/16/2026,lead\n"
    assert not [w for w in plan_text(clear).warnings if "date" in w]
    asked = plan_text(text, day_first=True)
    assert not [w for w in asked.warnings if "date" in w]
    assert not [w for w in plan_text("Title,Close Date\nA,2026-03-04\n").warnings if "date" in w]


def test_a_column_with_only_day_first_dates_is_read_day_first() -> None:
    plan = plan_text("Title,Close Date,Stage\nA,31/12/2026,lead\nB,03/04/2026,lead\n")
    assert plan.errors == []
    assert [clean["close_date"] for _, clean in plan.rows] == [
        date(2026, 12, 31),
        date(2026, 4, 3),
    ]
    assert any("day/month/year (line 2 has 31/12/2026)" in w for w in plan.warnings)


def test_a_column_mixing_date_orders_is_an_error() -> None:
    plan = plan_text(
        "Title,Close Date,Stage\nA,12/31/2026,lead\nB,31/12/2026,lead\nC,03/04/2026,lead\n"
    )
    assert len(plan.errors) == 1
    error = plan.errors[0]
    assert (error.line, error.column) == (3, "Close Date")
    assert "day/month/year but other dates are month/day/year (line 2: 12/31/2026)" in str(error)


def test_day_first_contradicted_by_the_file_is_an_error() -> None:
    plan = plan_text("Title,Close Date,Stage\nA,12/31/2026,lead\n", day_first=True)
    assert [e.line for e in plan.errors] == [2]
    assert "not a day/month/year date" in plan.errors[0].message


def test_unreadable_date_is_a_row_error() -> None:
    plan = plan_text("Title,Close Date,Stage\nA,next week,lead\nB,2026-02-30,lead\n")
    assert [(e.line, e.column) for e in plan.errors] == [(2, "Close Date"), (3, "Close Date")]
    assert "cannot read 'next week' as a date" in plan.errors[0].message


# --- stages and outcomes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("Prospect", ("prospect", None)),
        ("lead", ("prospect", None)),
        ("Discovery", ("qualified", None)),
        ("PROPOSAL", ("proposal", None)),
        ("Negotiation/Review", ("negotiation", None)),
        ("Won", ("closed", "won")),
        ("Closed Won", ("closed", "won")),
        ("closed_lost", ("closed", "lost")),
        ("closedlost", ("closed", "lost")),
        ("Qualified to buy", ("qualified", None)),
        ("Decision maker bought-in", ("negotiation", None)),
        ("Id. Decision Makers", ("qualified", None)),
    ],
)
def test_stage_aliases(stage: str, expected: tuple[str, str | None]) -> None:
    clean = one(f"Title,Stage\nDeal,{stage}\n")
    assert (clean["stage"], clean["outcome"]) == expected


def test_custom_stage_map() -> None:
    plan = plan_text(
        "Title,Stage,Id\nA,Demo Scheduled,1\nB,signed!,2\nC,Prospecting,3\nD,Rejected,4\n",
        stage_map={"Demo Scheduled": "qualified", "Signed!": "won", "prospecting": "proposal"},
    )
    assert [(c["stage"], c["outcome"]) for _, c in plan.rows] == [
        ("qualified", None),
        ("closed", "won"),
        ("proposal", None),  # the custom map wins over the built-in CRM names
    ]
    assert [str(e) for e in plan.errors] == [
        "line 5, column \"Stage\": stage unknown stage 'Rejected'; use one of prospect, "
        "qualified, proposal, negotiation, closed (or lead, won, lost)"
    ]


def test_stage_map_to_an_unknown_stage_is_an_error() -> None:
    with pytest.raises(CsvImportError, match=r"stage map 'Demo' -> 'demoing': unknown stage"):
        plan_text("Title,Stage\nA,Demo\n", stage_map={"Demo": "demoing"})


def test_outcome_column_with_closed_stage() -> None:
    plan = plan_text(
        "Title,Stage,Result,Reason Lost,Id\n"
        "A,Closed,Won,,1\n"
        "B,Closed,loss,Budget cut,2\n"
        "C,Negotiation,,,3\n"
        "D,Negotiation,Open,,4\n"
        "E,Won,won,,5\n"
    )
    assert plan.errors == []
    assert [(c["stage"], c["outcome"], c["lost_reason"]) for _, c in plan.rows] == [
        ("closed", "won", None),
        ("closed", "lost", "Budget cut"),
        ("negotiation", None, None),
        ("negotiation", None, None),
        ("closed", "won", None),
    ]


def test_contradictory_outcomes_are_row_errors() -> None:
    plan = plan_text(
        "Title,Stage,Outcome,Lost Reason,Id\n"
        "A,Closed,,,1\n"
        "B,Won,lost,,2\n"
        "C,Proposal,won,,3\n"
        "D,Proposal,,Too pricey,4\n"
        "E,Proposal,maybe,,5\n"
    )
    assert [(e.line, e.column) for e in plan.errors] == [
        (2, "Outcome"),
        (3, "Outcome"),
        (4, "Outcome"),
        (5, "Lost Reason"),
        (6, "Outcome"),
    ]
    assert "a closed deal needs an outcome" in plan.errors[0].message


def test_no_stage_column_means_prospect_or_closed_with_an_outcome() -> None:
    plan = plan_text("Title,Won/Lost,Id\nA,,1\nB,Won,2\nC,Lost,3\n")
    assert [(c["stage"], c["outcome"]) for _, c in plan.rows] == [
        ("prospect", None),
        ("closed", "won"),
        ("closed", "lost"),
    ]
    assert any("no stage column" in w for w in plan.warnings)


def test_empty_stage_cell_is_an_error() -> None:
    plan = plan_text("Title,Stage\nA,\n")
    assert [str(e) for e in plan.errors] == ['line 2, column "Stage": stage must not be empty']


def test_missing_field_without_column_names_the_field() -> None:
    plan = plan_text("Title,Stage\nA,closed\n")
    assert [str(e) for e in plan.errors] == [
        'line 2, column "outcome": outcome a closed deal needs an outcome: won or lost'
    ]


def test_neutralised_formula_cells_lose_their_quote() -> None:
    clean = one("Title,Company,Stage\n'=SUM(A1),'@Acme,lead\n")
    assert (clean["title"], clean["company"]) == ("=SUM(A1)", "@Acme")
    assert one("Title,Stage\n'Tis the season,lead\n")["title"] == "'Tis the season"


# --- file shapes ----------------------------------------------------------------------------


def test_semicolon_delimited_file(tmp_path: Path) -> None:
    plan = plan_import(
        write(tmp_path, "Titel;Firma;Wert;Stage\nA, Inc.;Acme;1.000,50;lead\n"),
        mapping={"title": "Titel", "company": "Firma", "value": "Wert"},
    )
    assert plan.errors == []
    assert plan.delimiter == ";"
    assert plan.rows[0][1]["title"] == "A, Inc."
    assert plan.rows[0][1]["value"] == 1000.5


def test_tab_delimited_file() -> None:
    plan = plan_text("Title\tCompany\tAmount\tStage\nA, b\tAcme\t1,500\tlead\n")
    assert plan.delimiter == "\t"
    assert plan.rows[0][1]["title"] == "A, b"
    assert plan.rows[0][1]["value"] == 1500.0


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffTitle,Stage\nDeal,lead\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    plan = plan_import(path)
    assert plan.header_map["title"] == "Title"
    assert plan_text("\ufeffTitle,Stage\nDeal,lead\n").header_map["title"] == "Title"


def test_crlf_blank_lines_and_multiline_cells_keep_physical_line_numbers() -> None:
    text = (
        "Title,Company,Amount,Stage\r\n"
        '"Two-line\r\ntitle",Acme,5,lead\r\n'
        "\r\n"
        ",,,\r\n"
        "Bad,Acme,-1,lead\r\n"
    )
    plan = plan_text(text)
    assert plan.total_rows == 2
    # A deal's title is one line: the cell's line break reads as a space.
    assert plan.rows[0][1]["title"] == "Two-line title"
    assert [(e.line, e.column) for e in plan.errors] == [(6, "Amount")]


def test_row_with_too_many_values_is_an_error() -> None:
    plan = plan_text("Title,Company,Stage\nAcme, Inc,Acme,lead\nB,Acme,lead,,\n")
    assert [str(e) for e in plan.errors] == [
        "line 2: has 4 values but the header has 3 columns (a value containing the delimiter "
        "that is not in quotes?)"
    ]
    assert len(plan.rows) == 1  # trailing empty cells are fine


def test_path_to_a_stream_and_a_path_give_the_same_plan(tmp_path: Path) -> None:
    path = write(tmp_path, SALESFORCE)
    with path.open(encoding="utf-8", newline="") as stream:
        from_stream = plan_import(stream)
    assert from_stream == plan_import(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n \r\n", "is empty"),
        (b"\n\n,,,\n", "is empty"),
        (b"Title,Stage\n", "has a header row but no deals"),
        (b"\xef\xbb\xbfTitle,Stage\r\n\r\n", "has a header row but no deals"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel .xls"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("Title,Company,Stage\nDeal,Société,lead\n".encode("cp1252"), "not UTF-8 text"),
    ],
)
def test_unusable_files_are_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(CsvImportError, match=message) as caught:
        plan_import(path)
    assert str(path) in str(caught.value)


def test_garbage_text_is_a_clear_error() -> None:
    with pytest.raises(CsvImportError, match="no title column found"):
        plan_text("lorem ipsum dolor sit amet\nconsectetur adipiscing elit\n")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path, codec: str) -> None:
    text = "Title,Company,Stage\nDeal,Société,lead\n"
    mark = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(codec, "")
    path = tmp_path / "unicode.csv"
    path.write_bytes((mark + text).encode(codec))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    plan = plan_import(path)
    assert plan.rows[0][1]["title"] == "Deal"
    assert plan.rows[0][1]["company"] == "Société"


def test_other_encodings_can_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, "Title,Company,Stage\nDeal,Société,lead\n", encoding="cp1252")
    assert plan_import(path, encoding="cp1252").rows[0][1]["company"] == "Société"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CsvImportError, match="no such file"):
        plan_import(tmp_path / "nope.csv")


def test_huge_field_is_a_clear_error() -> None:
    with pytest.raises(CsvImportError, match="cannot read line 2 as CSV"):
        plan_text('Title,Stage\n"' + "x" * 200_000 + '",lead\n')


# --- source ids ---------------------------------------------------------------------------


def test_duplicate_ids_in_one_file_name_both_lines() -> None:
    plan = plan_text("Deal ID,Title,Stage\nX1,A,lead\nX2,B,lead\nX1,C,lead\n")
    assert [str(e) for e in plan.errors] == [
        "line 4, column \"Deal ID\": id 'X1' is also on line 2; lines 2 and 4 cannot both be "
        "that deal"
    ]


def test_identical_rows_without_ids_do_not_collapse_silently() -> None:
    plan = plan_text("Title,Company,Stage\nRenewal,Acme,lead\nOther,Acme,lead\nrenewal ,ACME,won\n")
    assert len(plan.errors) == 1
    error = plan.errors[0]
    assert (error.line, error.column) == (4, "Title")
    assert "lines 2 and 4 have the same title and company" in error.message
    assert "add an id column" in error.message


def test_derived_source_ids_ignore_changes_other_than_title_and_company() -> None:
    first = plan_text("Title,Company,Amount,Stage\nRenewal,Acme,5,lead\n")
    second = plan_text("Title,Company,Amount,Stage,Close\n Renewal ,acme,7,won,2026-01-01\n")
    assert first.rows[0][0] == second.rows[0][0] == derived_source_id("Renewal", "Acme")
    assert first.rows[0][0].startswith("csv:")
    assert derived_source_id("Renewal", "Acme") != derived_source_id("Renewal", "Globex")


def test_empty_id_cell_falls_back_to_the_derived_id() -> None:
    plan = plan_text("Id,Title,Company,Stage\n,Renewal,Acme,lead\n")
    assert plan.rows[0][0] == derived_source_id("Renewal", "Acme")


def test_overlong_id_is_a_row_error() -> None:
    plan = plan_text(f"Id,Title,Stage\n{'x' * 201},A,lead\n")
    assert [e.column for e in plan.errors] == ["Id"]
    assert "too long" in plan.errors[0].message


# --- applying -------------------------------------------------------------------------------


def fifty_rows(bad: dict[int, str] | None = None) -> str:
    """50 deals; ``bad`` replaces the amount of some rows (0-based)."""
    lines = ["Deal ID,Deal Name,Company,Amount,Stage,Close Date"]
    for i in range(50):
        amount = (bad or {}).get(i, str(1000 + i))
        lines.append(f"D{i:03},Deal {i},Co {i % 7},{amount},proposal,2026-0{1 + i % 9}-15")
    return "\n".join(lines) + "\n"


def test_one_bad_row_among_fifty_writes_nothing(store, workspace) -> None:
    plan = plan_text(fifty_rows({36: "-5"}))
    assert plan.total_rows == 50
    assert len(plan.rows) == 49
    assert plan.errors == [RowError(38, "Amount", "value must not be negative (got -5)")]
    with pytest.raises(ImportFileError) as caught:
        apply_import(store, workspace.id, plan)
    assert caught.value.errors == plan.errors
    assert 'line 38, column "Amount": value must not be negative (got -5)' in str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert store.deals.list(workspace.id).total == 0
    with pytest.raises(ImportFileError):
        apply_import(store, workspace.id, plan, dry_run=True)


def test_every_error_is_listed(store, workspace) -> None:
    plan = plan_text(fifty_rows({3: "-1", 9: "abc", 20: "-3"}))
    with pytest.raises(ImportFileError) as caught:
        apply_import(store, workspace.id, plan)
    message = str(caught.value)
    assert message.startswith("3 errors in 3 rows; nothing was imported:")
    assert 'line 5, column "Amount"' in message
    assert 'line 11, column "Amount"' in message
    assert 'line 22, column "Amount"' in message
    assert "more" not in message


def test_long_error_lists_are_cut_at_twenty() -> None:
    plan = plan_text(fifty_rows({i: "-1" for i in range(25)}))
    error = ImportFileError(plan.errors)
    lines = str(error).splitlines()
    assert lines[0] == "25 errors in 25 rows; nothing was imported:"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "  ... and 5 more"
    assert len(error.errors) == 25


def test_reimport_updates_instead_of_duplicating(store, workspace) -> None:
    first = apply_import(store, workspace.id, plan_text(fifty_rows()))
    assert (first.created, first.updated, first.unchanged) == (50, 0, 0)
    again = apply_import(store, workspace.id, plan_text(fifty_rows()))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50)
    assert store.deals.list(workspace.id).total == 50

    deal = next(d for d in all_deals(store, workspace) if d.source_id == "D007")
    changed = fifty_rows().replace("D007,Deal 7,Co 0,1007,proposal", "D007,Deal 7,Co 0,2500,won")
    result = apply_import(store, workspace.id, plan_text(changed))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 49)
    after = store.deals.get(deal.id)
    assert (after.value, after.stage, after.outcome) == (2500.0, "closed", "won")
    assert after.version == deal.version + 1
    stage_events = [e for e in store.deals.history(deal.id) if e["field"] == "stage"]
    assert [(e["from"], e["to"]) for e in stage_events] == [
        (None, "proposal"),
        ("proposal", "closed"),
    ]
    assert store.deals.list(workspace.id).total == 50


def test_reimport_without_id_column_matches_title_and_company(store, workspace) -> None:
    apply_import(store, workspace.id, plan_text("Title,Company,Stage\nRenewal,Acme,lead\n"))
    result = apply_import(
        store,
        workspace.id,
        plan_text("Title,Company,Stage,Close Date\nRenewal,Acme,proposal,2026-03-01\n"),
    )
    assert (result.created, result.updated) == (0, 1)
    [deal] = all_deals(store, workspace)
    assert (deal.stage, deal.close_date) == ("proposal", date(2026, 3, 1))


BASE = """\
Id,Title,Company,Value,Stage,Probability,Lost Reason,Contact Email
A,Alpha,Acme,100,negotiation,80,,
B,Beta,Acme,200,won,100,,
C,Gamma,Acme,300,lost,0,Budget,
"""


def by_source(store, workspace) -> dict:
    return {d.source_id: d for d in all_deals(store, workspace)}


def test_reimport_changes_only_the_columns_in_the_file(store, workspace) -> None:
    apply_import(store, workspace.id, plan_text(BASE))
    before = by_source(store, workspace)
    emails = "Id,Title,Contact Email\nA,Alpha,a@acme.example\nB,Beta renamed,\nC,Gamma,\n"
    plan = plan_text(emails)
    assert apply_import(store, workspace.id, plan, dry_run=True) == ImportResult(
        0, 2, 1, 3, dry_run=True
    )
    result = apply_import(store, workspace.id, plan)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    after = by_source(store, workspace)
    for key in "ABC":
        assert (after[key].stage, after[key].outcome, after[key].probability) == (
            before[key].stage,
            before[key].outcome,
            before[key].probability,
        )
        assert (after[key].value, after[key].company) == (before[key].value, before[key].company)
    assert after["A"].contact_email == "a@acme.example"
    assert after["B"].title == "Beta renamed"
    assert after["C"].lost_reason == "Budget"
    assert after["C"].version == before["C"].version


def test_reimport_stage_column_reopens_and_closes_deals(store, workspace) -> None:
    apply_import(store, workspace.id, plan_text(BASE))
    moved = "Id,Title,Stage\nA,Alpha,lost\nB,Beta,Proposal\nC,Gamma,qualified\n"
    apply_import(store, workspace.id, plan_text(moved))
    after = by_source(store, workspace)
    assert (after["A"].stage, after["A"].outcome, after["A"].probability) == ("closed", "lost", 0)
    assert (after["B"].stage, after["B"].outcome, after["B"].probability) == ("proposal", None, 50)
    assert (after["C"].stage, after["C"].outcome, after["C"].lost_reason) == (
        "qualified",
        None,
        None,
    )
    assert after["C"].probability == 25


def test_reimport_outcome_column_without_stage(store, workspace) -> None:
    apply_import(store, workspace.id, plan_text(BASE))
    apply_import(store, workspace.id, plan_text("Id,Title,Outcome\nA,Alpha,won\nB,Beta,\n"))
    after = by_source(store, workspace)
    assert (after["A"].stage, after["A"].outcome, after["A"].probability) == ("closed", "won", 100)
    assert (after["B"].stage, after["B"].outcome) == ("closed", "won")


def test_reimport_that_would_make_a_stored_deal_invalid_writes_nothing(store, workspace) -> None:
    apply_import(store, workspace.id, plan_text(BASE))
    before = by_source(store, workspace)
    # Rows are validated as new deals first (no stage column: prospect), so this file is
    # refused by the plan already ...
    text = "Id,Title,Lost Reason\nA,Alpha,Too slow\nC,Gamma,Price\n"
    assert [e.line for e in plan_text(text).errors] == [2, 3]
    # ... and a plan whose rows are fine alone but not merged into the stored deals (A is
    # open) is refused by apply_import, naming the line.
    row = {**before["C"].editable_fields(), "title": "Alpha", "lost_reason": "Too slow"}
    plan = ImportPlan(
        rows=[("C", dict(row)), ("A", dict(row))],
        header_map={"source_id": "Id", "title": "Title", "lost_reason": "Lost Reason"},
        errors=[],
        total_rows=2,
        lines=[2, 3],
    )
    with pytest.raises(ImportFileError) as caught:
        apply_import(store, workspace.id, plan)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "Lost Reason")]
    assert "only lost deals have a lost reason (with the deal's stored fields)" in str(caught.value)
    assert by_source(store, workspace) == before


def test_dry_run_reports_counts_and_writes_nothing(store, workspace) -> None:
    apply_import(store, workspace.id, plan_text(fifty_rows()))
    before = {d.id: d for d in all_deals(store, workspace)}
    text = fifty_rows({0: "1", 1: "2"}) + "D900,New one,Co,5,lead,\nD901,New two,Co,5,lead,\n"
    plan = plan_text(text)
    dry = apply_import(store, workspace.id, plan, dry_run=True)
    assert dry == ImportResult(created=2, updated=2, unchanged=48, total_rows=52, dry_run=True)
    assert {d.id: d for d in all_deals(store, workspace)} == before
    real = apply_import(store, workspace.id, plan)
    assert (real.created, real.updated, real.unchanged, real.dry_run) == (2, 2, 48, False)


def test_dry_run_into_an_empty_workspace(store, workspace) -> None:
    result = apply_import(store, workspace.id, plan_text(SALESFORCE), dry_run=True)
    assert result == ImportResult(
        created=4,
        updated=0,
        unchanged=0,
        total_rows=4,
        dry_run=True,
        new_members=("Ann Rep <ann.rep@imported.invalid>", "Bob Rep <bob.rep@imported.invalid>"),
    )
    assert store.deals.list(workspace.id).total == 0
    assert store.owners.members(workspace.id) == []  # nobody made by a dry run


def test_missing_workspace_is_not_found(store) -> None:
    import uuid

    plan = plan_text("Title,Stage\nA,lead\n")
    with pytest.raises(NotFoundError):
        apply_import(store, uuid.uuid4(), plan)
    with pytest.raises(NotFoundError):
        apply_import(store, uuid.uuid4(), plan, dry_run=True)


def test_imports_stay_in_their_workspace(store, workspace) -> None:
    other = store.workspaces.create("Other")
    apply_import(store, workspace.id, plan_text(SALESFORCE))
    result = apply_import(store, other.id, plan_text(SALESFORCE))
    assert result.created == 4
    assert store.deals.list(workspace.id).total == 4
    assert store.deals.list(other.id).total == 4


def test_five_thousand_rows_import_in_one_transaction(store, workspace, monkeypatch) -> None:
    lines = ["External ID,Title,Company,Value,Stage,Probability,Close Date"]
    stages = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    for i in range(5000):
        lines.append(
            f"E{i},Deal {i},Company {i % 300},{(i % 97) * 100 + 50},{stages[i % 6]},"
            f"{i % 101},2026-{1 + i % 12:02}-{1 + i % 28:02}"
        )
    calls: list[tuple[int, int | None]] = []
    plan = plan_text(
        "\n".join(lines) + "\n", progress=lambda done, total: calls.append((done, total))
    )
    assert plan.errors == []
    assert calls[0] == (500, 5000)
    assert calls[-1] == (5000, 5000)
    assert len(calls) >= 10
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(calls))

    upserts: list[int] = []
    writes: list[int] = []
    real_upsert, real_write = store.deals.upsert_many, store.db.write

    def counting_upsert(*args, **kwargs):
        upserts.append(1)
        return real_upsert(*args, **kwargs)

    def counting_write(*args, **kwargs):
        writes.append(1)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(store.deals, "upsert_many", counting_upsert)
    monkeypatch.setattr(store.db, "write", counting_write)
    result = apply_import(store, workspace.id, plan)
    assert result == ImportResult(created=5000, updated=0, unchanged=0, total_rows=5000)
    assert (len(upserts), len(writes)) == (1, 1)
    assert store.deals.list(workspace.id).total == 5000
    assert store.deals.list(workspace.id, outcome="won").total == 833


def test_progress_is_called_at_the_end_of_small_files() -> None:
    calls: list[tuple[int, int | None]] = []
    plan_text("Title,Stage\nA,lead\nB,lead\n", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 2)]
