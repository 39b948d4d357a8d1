"""The deal editor: create and edit deals, inline validation, won/lost, the activity
timeline, deleting, and conflicts with another rep's save (never a silent lost update).

Every test runs on SQLite and on Postgres (``demo_database``). The form is driven with
keys; what was saved is read back through a ``Store`` the test opens itself.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import FIXED_NOW, paste, wait_for, wait_for_snapshot
from rich.text import Text
from textual.widgets import DataTable, Input, Select, Static
from textual.widgets._select import SelectOverlay

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.activity_form import ActivityFormScreen
from vectoros_tui.screens.close_deal import CloseDealScreen
from vectoros_tui.screens.conflict import ConflictScreen
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.messages import ConfirmScreen
from vectoros_tui.screens.pipeline import PipelineScreen
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.validation import DEAL_FIELDS, NEXT_STEP_FIELDS
from vectoros_tui.store.views import DealView, WorkspaceView

SIZE = (100, 30)
DEMO_DEALS = 120


@dataclass
class Demo:
    url: str
    store: Store
    workspace: WorkspaceView

    def count(self) -> int:
        return self.store.deals.list(self.workspace.id, limit=1).total

    def first_open(self, stage: str) -> DealView:
        """The most valuable open deal of a stage (deterministic for the seeded demo)."""
        return self.store.deals.list(
            self.workspace.id, stage=stage, outcome="open", sort="value", limit=1
        ).deals[0]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """Both databases: the editor's saves and conflicts are where the app writes."""
    if request.param == "sqlite":
        path = tmp_path / "vectoros.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    request.getfixturevalue("empty_pg")()
    yield request.getfixturevalue("pg_session_url")


# Tests of the form itself (validation, keys, what it shows), and of the app's part of a
# save (the keys, what the editor shows after), run on SQLite only: the store calls behind
# those saves run on both databases in the store's own tests. The tests where the two
# databases answer differently (conflicts, someone else's delete, the history read back)
# run on both.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def demo(demo_database: str) -> Iterator[Demo]:
    """The demo database plus the test's own store: the 'other rep' and the checker."""
    store = open_store(demo_database, upgrade=False)
    try:
        (workspace,) = store.workspaces.list()
        yield Demo(demo_database, store, workspace)
    finally:
        store.close()


# --- helpers ------------------------------------------------------------------------


def plain(widget: Static) -> str:
    rendered = widget.render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def error_text(editor: DealEditorScreen, name: str) -> str:
    return plain(editor.query_one(f"#error-{name}", Static))


def shown_errors(editor: DealEditorScreen) -> dict[str, str]:
    return {name: text for name in DEAL_FIELDS if (text := error_text(editor, name))}


def field(editor: DealEditorScreen, name: str) -> Input:
    return editor.query_one(f"#field-{name}", Input)


async def start(app: VectorOSApp, pilot: Any) -> PipelineScreen:
    await wait_for_snapshot(app, pilot)
    screen = app.screen
    assert isinstance(screen, PipelineScreen)
    return screen


async def new_deal_editor(app: VectorOSApp, pilot: Any) -> DealEditorScreen:
    await start(app, pilot)
    await pilot.press("n")
    await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
    editor = app.screen
    assert isinstance(editor, DealEditorScreen)
    await pilot.pause()
    return editor


async def open_editor(app: VectorOSApp, pilot: Any, deal_id: uuid.UUID) -> DealEditorScreen:
    """Open a deal in the editor and wait for its form to be filled."""
    if app.snapshot is None:  # the store opens in a worker: wait for the first data
        await start(app, pilot)
    assert isinstance(app.screen, PipelineScreen)
    app.open_deal(str(deal_id))
    await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
    editor = app.screen
    assert isinstance(editor, DealEditorScreen)
    await wait_for(lambda: editor.deal is not None, pilot)
    await pilot.pause()
    return editor


async def type_into(pilot: Any, editor: Any, selector: str, text: str) -> None:
    """Replace an Input's text as a rep would: clear it with keys, then paste (typing key by
    key is covered where the title is typed)."""
    widget = editor.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    await pilot.press("end", "ctrl+u")
    await paste(pilot, text)
    assert widget.value == text


async def fill(pilot: Any, editor: DealEditorScreen, **values: str) -> None:
    for name, text in values.items():
        await type_into(pilot, editor, f"#field-{name}", text)


async def choose(pilot: Any, select: Select[Any], value: str) -> None:
    """Pick an option of a Select with the keyboard (open, arrow to it, enter)."""
    select.focus()
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(lambda: select.expanded, pilot)
    overlay = select.query_one(SelectOverlay)
    values = [value for _, value in select._options]
    target = values.index(value)
    current = overlay.highlighted if overlay.highlighted is not None else 0
    step = "down" if target > current else "up"
    await pilot.press(*[step] * abs(target - current), "enter")
    await wait_for(lambda: not select.expanded and select.value == value, pilot)


async def save(pilot: Any) -> None:
    await pilot.press("ctrl+s")


# --- creating -----------------------------------------------------------------------


@SQLITE_ONLY
async def test_create_a_deal_through_the_editor(demo: Demo, make_app: Any) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await new_deal_editor(app, pilot)
        assert editor.focused is field(editor, "title")
        await pilot.press(*"Acme Robotics - Pilot")
        await fill(
            pilot,
            editor,
            company="Acme Robotics",
            value="$45,000",
            probability="35",
            close_date="2027-01-15",
            contact_name="Ada Lovelace",
            contact_email="ada@acme.example",
        )
        assert shown_errors(editor) == {}
        snapshot = app.snapshot
        await save(pilot)
        await wait_for(lambda: demo.count() == DEMO_DEALS + 1, pilot)
        await wait_for_snapshot(app, pilot, snapshot)

        (created,) = demo.store.deals.list(demo.workspace.id, search="acme robotics").deals
        assert created.title == "Acme Robotics - Pilot"
        assert created.company == "Acme Robotics"
        assert created.value == 45_000
        assert created.probability == 35
        assert created.close_date == date(2027, 1, 15)
        assert created.contact_name == "Ada Lovelace"
        assert created.contact_email == "ada@acme.example"
        assert (created.stage, created.outcome, created.version) == ("prospect", None, 1)
        assert created.workspace_id == demo.workspace.id

        # The editor now edits the saved deal; the pipeline's data has it too.
        await wait_for(lambda: editor.deal is not None, pilot)
        assert editor.deal_id == str(created.id)
        assert "version 1" in plain(editor.query_one("#meta", Static))
        assert app.snapshot.deal(str(created.id)) is not None

        # Saving again without changes creates nothing more.
        await save(pilot)
        await pilot.pause(0.2)
        await wait_for(lambda: not editor.saving, pilot)
        assert demo.count() == DEMO_DEALS + 1
        assert demo.store.deals.get(created.id).version == 1


@SQLITE_ONLY
async def test_a_new_deal_without_probability_gets_the_stages_default(
    demo: Demo, make_app: Any
) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await new_deal_editor(app, pilot)
        assert field(editor, "probability").placeholder == "default for the stage"
        await pilot.press(*"Tiny deal")
        await choose(pilot, editor.query_one("#field-stage", Select), "qualified")
        await save(pilot)
        await wait_for(lambda: demo.count() == DEMO_DEALS + 1, pilot)
        (created,) = demo.store.deals.list(demo.workspace.id, search="tiny deal").deals
        assert (created.stage, created.probability, created.value) == ("qualified", 25, 0)


@SQLITE_ONLY
async def test_invalid_input_shows_inline_errors_and_saves_nothing(
    demo: Demo, make_app: Any
) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await new_deal_editor(app, pilot)
        await fill(
            pilot,
            editor,
            value="-5",
            probability="101",
            contact_email="bad",
            close_date="2026-13-45",
        )
        # A new form does not shout before the first save attempt.
        assert shown_errors(editor) == {}

        await save(pilot)
        await wait_for(lambda: shown_errors(editor), pilot)
        errors = shown_errors(editor)
        assert set(errors) == {"title", "value", "probability", "contact_email", "close_date"}
        assert errors["title"] == "title: must not be empty"
        assert errors["value"].startswith("value: ") and "negative" in errors["value"]
        assert "-5" in errors["value"]
        assert errors["probability"].startswith("probability: ")
        assert "between 0 and 100" in errors["probability"] and "101" in errors["probability"]
        assert errors["contact_email"].startswith("contact email: ")
        assert "'bad' is not a valid email address" in errors["contact_email"]
        assert errors["close_date"].startswith("close date: ")
        assert "2026-13-45" in errors["close_date"] and "not a real date" in errors["close_date"]

        await pilot.pause(0.2)
        assert not editor.saving
        assert demo.count() == DEMO_DEALS
        assert editor.deal is None
        assert isinstance(app.screen, DealEditorScreen)

        # Errors go away as each field is fixed; then the deal saves.
        await fill(pilot, editor, value="5")
        assert "value" not in shown_errors(editor)
        assert "probability" in shown_errors(editor)
        await fill(
            pilot, editor, title="Fixed deal", probability="100", contact_email="", close_date=""
        )
        assert shown_errors(editor) == {}
        await save(pilot)
        await wait_for(lambda: demo.count() == DEMO_DEALS + 1, pilot)
        (created,) = demo.store.deals.list(demo.workspace.id, search="fixed deal").deals
        assert (created.value, created.probability, created.close_date) == (5, 100, None)


@SQLITE_ONLY
async def test_invalid_edit_of_an_existing_deal_is_not_saved(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("proposal")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        assert shown_errors(editor) == {}
        await fill(pilot, editor, probability="abc", title="")
        # An existing deal shows errors as soon as a field goes wrong.
        assert "not a number" in error_text(editor, "probability")
        assert error_text(editor, "title") == "title: must not be empty"
        await save(pilot)
        await pilot.pause(0.2)
        assert demo.store.deals.get(deal.id) == deal


# --- editing ------------------------------------------------------------------------


@SQLITE_ONLY
async def test_edit_stage_and_value_saves_with_the_next_version(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("prospect")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        assert field(editor, "title").value == deal.title
        assert field(editor, "value").value == f"{deal.value:.0f}"
        assert editor.query_one("#field-stage", Select).value == "prospect"
        assert f"version {deal.version}" in plain(editor.query_one("#meta", Static))

        await choose(pilot, editor.query_one("#field-stage", Select), "proposal")
        await fill(pilot, editor, value="98765.50")
        await save(pilot)
        await wait_for(lambda: demo.store.deals.get(deal.id).version == deal.version + 1, pilot)

        saved = demo.store.deals.get(deal.id)
        assert (saved.stage, saved.value) == ("proposal", 98_765.5)
        unchanged = ("title", "company", "probability", "contact_email", "close_date", "outcome")
        assert {k: getattr(saved, k) for k in unchanged} == {k: getattr(deal, k) for k in unchanged}
        latest = {e["field"]: (e["from"], e["to"]) for e in demo.store.deals.history(deal.id)}
        assert latest["stage"] == ("prospect", "proposal")
        assert latest["value"] == (f"{deal.value:g}", "98765.5")
        await wait_for(lambda: editor.deal.version == deal.version + 1, pilot)
        assert f"version {deal.version + 1}" in plain(editor.query_one("#meta", Static))
        assert field(editor, "value").value == "98765.5"
        assert not editor.has_unsaved_changes()


@SQLITE_ONLY
async def test_a_cleared_value_is_refused_not_saved_as_zero(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("prospect")
    assert deal.value
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await fill(pilot, editor, value="")
        assert error_text(editor, "value") == (
            "value: is empty: type 0 if the deal is worth nothing"
        )
        await save(pilot)
        await pilot.pause(0.2)
        assert demo.store.deals.get(deal.id) == deal
        # Zero typed on purpose is saved.
        await fill(pilot, editor, value="0")
        await save(pilot)
        await wait_for(lambda: demo.store.deals.get(deal.id).version == deal.version + 1, pilot)
        assert demo.store.deals.get(deal.id).value == 0


@SQLITE_ONLY
async def test_f7_marks_the_deal_lost_with_a_reason(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("negotiation")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await pilot.press("f7")
        await wait_for(lambda: isinstance(app.screen, CloseDealScreen), pilot)
        await pilot.press(*"No budget this year", "ctrl+l")
        await wait_for(lambda: app.screen is editor, pilot)
        await wait_for(lambda: demo.store.deals.get(deal.id).version == deal.version + 1, pilot)

        lost = demo.store.deals.get(deal.id)
        assert (lost.stage, lost.outcome, lost.probability) == ("closed", "lost", 0)
        assert lost.lost_reason == "No budget this year"
        assert lost.closed_at is not None
        await wait_for(lambda: editor.deal.outcome == "lost", pilot)
        assert editor.query_one("#field-outcome", Select).value == "lost"
        assert field(editor, "lost_reason").value == "No budget this year"


@SQLITE_ONLY
async def test_f6_marks_the_deal_won(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("qualified")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(app, pilot, deal.id)
        await pilot.press("f6")
        await wait_for(lambda: demo.store.deals.get(deal.id).outcome == "won", pilot)
        won = demo.store.deals.get(deal.id)
        assert (won.stage, won.probability, won.lost_reason) == ("closed", 100, None)
        assert won.version == deal.version + 1


# --- activities ---------------------------------------------------------------------


def timeline_rows(editor: DealEditorScreen) -> list[tuple[str, str, str, str]]:
    """(row key, when, type, what) of every row, top to bottom: activities and changes."""
    table = editor.query_one("#activities", DataTable)
    rows = []
    for index in range(table.row_count):
        key = table.coordinate_to_cell_key((index, 0)).row_key.value
        when, kind, what = (str(cell) for cell in table.get_row_at(index))
        rows.append((str(key), when, kind, what))
    return rows


def timeline(editor: DealEditorScreen) -> list[tuple[str, str]]:
    """The activity rows' (type, what), top to bottom (the history's rows left out)."""
    ids = {str(a.id) for a in editor.activities}
    return [(kind, what) for key, _, kind, what in timeline_rows(editor) if key in ids]


@SQLITE_ONLY
async def test_add_edit_and_delete_an_activity(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("proposal")
    before = demo.store.activities.list(deal.id)
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        assert len(timeline(editor)) == len(before)

        # F8: add a call.
        await pilot.press("f8")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)
        form = app.screen
        await choose(pilot, form.query_one("#type", Select), "call")
        await type_into(pilot, form, "#description", "Discovery call with the CFO")
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is editor, pilot)
        await wait_for(lambda: len(timeline(editor)) == len(before) + 1, pilot)

        stored = demo.store.activities.list(deal.id)
        assert len(stored) == len(before) + 1
        (added,) = [a for a in stored if a.id not in {b.id for b in before}]
        assert (added.type, added.description) == ("call", "Discovery call with the CFO")
        # Newest first: the new activity (dated now) heads the timeline.
        assert stored[0].id == added.id
        assert timeline(editor)[0] == ("call", "Discovery call with the CFO")

        # e on the highlighted row: edit it.
        table = editor.query_one("#activities", DataTable)
        table.focus()
        await pilot.pause()
        table.move_cursor(row=0)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)
        form = app.screen
        assert form.query_one("#description", Input).value == "Discovery call with the CFO"
        assert form.query_one("#type", Select).value == "call"
        await type_into(pilot, form, "#description", "Call moved to Friday")
        await pilot.press("enter")
        await wait_for(lambda: app.screen is editor, pilot)
        await wait_for(lambda: timeline(editor)[0] == ("call", "Call moved to Friday"), pilot)
        edited = demo.store.activities.list(deal.id)[0]
        assert (edited.id, edited.type, edited.description) == (
            added.id,
            "call",
            "Call moved to Friday",
        )
        assert len(demo.store.activities.list(deal.id)) == len(before) + 1

        # x: delete it, after confirming.
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert "call" in plain(app.screen.query_one("#question", Static))
        await pilot.press("y")
        await wait_for(lambda: len(timeline(editor)) == len(before), pilot)
        after = demo.store.activities.list(deal.id)
        assert [a.id for a in after] == [a.id for a in before]
        # Activities do not change the deal itself.
        assert demo.store.deals.get(deal.id).version == deal.version


@SQLITE_ONLY
async def test_an_activity_without_description_is_refused(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("proposal")
    before = demo.store.activities.list(deal.id)
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await pilot.press("f8")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)
        form = app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "description: must not be empty" in plain(form.query_one("#activity-error"))
        await pilot.press("escape")
        await wait_for(lambda: app.screen is editor, pilot)
        await pilot.pause(0.1)
        assert len(demo.store.activities.list(deal.id)) == len(before)


@SQLITE_ONLY
async def test_a_new_deal_cannot_get_activities_before_it_is_saved(
    demo: Demo, make_app: Any
) -> None:
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await new_deal_editor(app, pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert app.screen is editor
        assert any("Save the deal" in n.message for n in app._notifications)


async def test_editing_an_activity_someone_else_deleted_is_reported(
    demo: Demo, make_app: Any
) -> None:
    deal = demo.first_open("proposal")
    (newest, *_) = demo.store.activities.list(deal.id)
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        demo.store.activities.delete(newest.id)
        table = editor.query_one("#activities", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)
        await type_into(pilot, app.screen, "#description", "Too late")
        await pilot.press("enter")
        await wait_for(lambda: app.screen is editor, pilot)
        # The failure is shown to the rep, not swallowed.
        await wait_for(lambda: app._notifications, pilot)
        messages = " ".join(n.message for n in app._notifications)
        assert "does not exist" in messages
        assert newest.id not in {a.id for a in demo.store.activities.list(deal.id)}


# --- deleting -----------------------------------------------------------------------


@SQLITE_ONLY
async def test_f9_deletes_the_deal_after_confirmation(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("qualified")
    assert demo.store.activities.list(deal.id)
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)

        await pilot.press("f9")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert deal.title in plain(app.screen.query_one("#question", Static))
        await pilot.press("n")
        await wait_for(lambda: app.screen is editor, pilot)
        await pilot.pause(0.1)
        assert demo.store.deals.get(deal.id) == deal

        await pilot.press("f9")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)
        with pytest.raises(NotFoundError):
            demo.store.deals.get(deal.id)
        assert demo.store.activities.list(deal.id) == []
        assert demo.count() == DEMO_DEALS - 1
        await wait_for(lambda: app.snapshot.deal(str(deal.id)) is None, pilot)


async def test_f9_on_a_deal_changed_by_someone_else_does_not_delete_it(
    demo: Demo, make_app: Any
) -> None:
    deal = demo.first_open("negotiation")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        theirs = demo.store.deals.update(deal.id, {"value": 4_242})
        await pilot.press("f9")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: app.screen is editor, pilot)
        # Refused and reported; the form reloads their version.
        await wait_for(lambda: editor.deal.version == theirs.version, pilot)
        assert demo.store.deals.get(deal.id) == theirs
        assert field(editor, "value").value == "4242"
        assert any("changed by someone else" in n.message for n in app._notifications)


# --- conflicts ----------------------------------------------------------------------


async def test_conflict_reload_theirs_then_overwrite_with_mine(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("proposal")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)

        # Another rep saves a new value while this one is editing.
        theirs = demo.store.deals.update(deal.id, {"value": 11_111})
        assert theirs.version == deal.version + 1
        await fill(pilot, editor, value="22222")
        await save(pilot)
        await wait_for(lambda: isinstance(app.screen, ConflictScreen), pilot)
        conflict = app.screen
        assert conflict.version == theirs.version
        assert conflict.mine["value"] == 22_222
        assert conflict.theirs["value"] == 11_111
        # Nothing was written while the rep decides.
        assert demo.store.deals.get(deal.id) == theirs

        # ctrl+r: reload theirs. The form shows their value; the store is unchanged.
        await pilot.press("ctrl+r")
        await wait_for(lambda: app.screen is editor, pilot)
        await wait_for(lambda: editor.deal.version == theirs.version, pilot)
        assert field(editor, "value").value == "11111"
        assert demo.store.deals.get(deal.id) == theirs
        assert not editor.has_unsaved_changes()

        # Again: they change the deal once more, this rep saves over an old version...
        theirs = demo.store.deals.update(deal.id, {"value": 33_333, "probability": 61})
        await fill(pilot, editor, value="44444")
        await save(pilot)
        await wait_for(lambda: isinstance(app.screen, ConflictScreen), pilot)
        assert app.screen.theirs["value"] == 33_333
        assert demo.store.deals.get(deal.id) == theirs

        # ... and ctrl+o overwrites with mine, on top of their version.
        await pilot.press("ctrl+o")
        await wait_for(lambda: app.screen is editor, pilot)
        await wait_for(lambda: demo.store.deals.get(deal.id).version == theirs.version + 1, pilot)
        mine = demo.store.deals.get(deal.id)
        assert mine.value == 44_444
        # Overwrite means the whole form: their probability change is replaced by mine too.
        assert mine.probability == deal.probability
        await wait_for(lambda: editor.deal.version == mine.version, pilot)
        assert field(editor, "value").value == "44444"


async def test_conflict_escape_keeps_editing_and_writes_nothing(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("negotiation")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        theirs = demo.store.deals.update(deal.id, {"title": "Renamed by someone else"})
        await fill(pilot, editor, value="1")
        await save(pilot)
        await wait_for(lambda: isinstance(app.screen, ConflictScreen), pilot)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is editor, pilot)
        await pilot.pause(0.1)
        assert demo.store.deals.get(deal.id) == theirs
        assert field(editor, "value").value == "1"  # my edit is still in the form
        # Saving again still refuses to overwrite silently.
        await save(pilot)
        await wait_for(lambda: isinstance(app.screen, ConflictScreen), pilot)
        assert demo.store.deals.get(deal.id) == theirs


async def test_saving_a_deal_someone_deleted_reports_it(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("prospect")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        demo.store.deals.delete(deal.id)
        await fill(pilot, editor, value="777")
        await save(pilot)
        await wait_for(lambda: not editor.saving and app._notifications, pilot)
        messages = " ".join(n.message for n in app._notifications)
        assert "does not exist" in messages or "deleted" in messages
        assert app.screen is editor
        assert demo.count() == DEMO_DEALS - 1  # nothing re-created


# --- leaving ------------------------------------------------------------------------


@SQLITE_ONLY
async def test_escape_closes_at_once_without_changes(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("qualified")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(app, pilot, deal.id)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)

        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)


@SQLITE_ONLY
async def test_escape_with_unsaved_changes_asks_to_discard(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("qualified")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await fill(pilot, editor, title="Half-typed new title")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert "Discard" in plain(app.screen.query_one("#question", Static))

        # n: keep editing, the edit is still there.
        await pilot.press("n")
        await wait_for(lambda: app.screen is editor, pilot)
        assert field(editor, "title").value == "Half-typed new title"

        # y: discard; nothing was saved.
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)
        assert demo.store.deals.get(deal.id) == deal

        # A new deal with something typed asks too.
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, DealEditorScreen), pilot)
        await pilot.press(*"Draft")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: isinstance(app.screen, PipelineScreen), pilot)
        assert demo.count() == DEMO_DEALS


# --- a new rep's first hour ---------------------------------------------------------


@SQLITE_ONLY
async def test_letters_named_for_the_timeline_type_into_the_form(demo: Demo, make_app: Any) -> None:
    """e and x act in the activity timeline only: in a text field they are just letters."""
    deal = demo.first_open("proposal")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        company = field(editor, "company")
        company.focus()
        await pilot.pause()
        await pilot.press("end", "e", "x")
        assert company.value == f"{deal.company}ex"
        assert isinstance(app.screen, DealEditorScreen)  # no activity form, no dialog
        # In the timeline the same keys act: e edits the highlighted activity.
        timeline = editor.query_one("#activities", DataTable)
        assert timeline.row_count > 0
        timeline.focus()
        await pilot.pause()
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)


@SQLITE_ONLY
async def test_an_ambiguous_close_date_is_refused_and_others_say_how_they_were_read(
    demo: Demo, make_app: Any
) -> None:
    deal = demo.first_open("qualified")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await fill(pilot, editor, close_date="01/02/2027")
        await pilot.pause()
        message = error_text(editor, "close_date")
        assert "2027-01-02" in message and "2027-02-01" in message
        await save(pilot)
        await pilot.pause()
        assert demo.store.deals.get(deal.id).close_date == deal.close_date  # nothing saved

        await fill(pilot, editor, close_date="31/12/2026")
        await pilot.pause()
        assert "read as Thu 31 Dec 2026 (2026-12-31)" in error_text(editor, "close_date")
        await save(pilot)
        await wait_for(
            lambda: demo.store.deals.get(deal.id).close_date == date(2026, 12, 31), pilot
        )


@SQLITE_ONLY
async def test_won_closes_today_and_choosing_open_reopens_where_it_was(
    demo: Demo, make_app: Any
) -> None:
    deal = demo.first_open("negotiation")
    future = date(2099, 1, 1)
    demo.store.deals.update(deal.id, {"close_date": future, "probability": 65})
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await pilot.press("f6")
        await wait_for(lambda: demo.store.deals.get(deal.id).outcome == "won", pilot)
        won = demo.store.deals.get(deal.id)
        assert won.closed_at is not None
        # Today by the app's clock (the tests' is fixed), not the planned date.
        assert won.close_date == app.now().date() != future
        await wait_for(lambda: editor.deal is not None and editor.deal.outcome == "won", pilot)
        meta = plain(editor.query_one("#meta", Static))
        assert f"won {won.closed_at:%Y-%m-%d}" in meta
        # The meta line fits 80 columns with the date; the way back is on its own line.
        assert len(meta) <= 78
        assert "Outcome open reopens it" in plain(editor.query_one("#health", Static))

        # One choice reopens it: stage and probability come back before saving.
        await choose(pilot, editor.query_one("#field-outcome", Select), "open")
        await wait_for(
            lambda: editor.query_one("#field-stage", Select).value == "negotiation", pilot
        )
        assert field(editor, "probability").value == "65"
        await save(pilot)
        await wait_for(lambda: demo.store.deals.get(deal.id).outcome is None, pilot)
        reopened = demo.store.deals.get(deal.id)
        assert (reopened.stage, reopened.probability) == ("negotiation", 65)
        # It counts in the forecast again: the app's snapshot has it open.
        await wait_for(
            lambda: (
                app.snapshot is not None and str(deal.id) in {d.id for d in app.snapshot.open_deals}
            ),
            pilot,
        )


@SQLITE_ONLY
async def test_the_editor_says_why_the_deal_has_its_health_score(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("prospect")
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        assert app.snapshot is not None
        health = app.snapshot.health[str(deal.id)]
        line = plain(editor.query_one("#health", Static))
        assert line.startswith(f"Health {health.health_score:.0f} {health.health_status}")
        weakest = health.weakest_components()
        assert weakest, "the demo's top prospect loses points somewhere"
        assert weakest[0][1].explanation in line


# --- next steps, planned activities and the deal's history -------------------------------


@SQLITE_ONLY
async def test_next_step_and_its_due_date_are_edited_and_saved(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("qualified")
    assert deal.next_step is None
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        # An open deal with no next step says so, in words.
        assert "⚐ none yet" in error_text(editor, "next_step")

        await fill(pilot, editor, next_step="Send the security pack", next_step_due="25/11/2026")
        await pilot.pause()
        assert error_text(editor, "next_step") == ""
        # How the typed date was read, as the close date does.
        assert "read as Wed 25 Nov 2026 (2026-11-25)" in error_text(editor, "next_step_due")
        await save(pilot)
        await wait_for(
            lambda: demo.store.deals.get(deal.id).next_step == "Send the security pack", pilot
        )
        saved = demo.store.deals.get(deal.id)
        assert saved.next_step_due == date(2026, 11, 25)
        assert saved.version == deal.version + 1
        # The board's data has it: the deal is no longer missing a next step.
        await wait_for(
            lambda: app.snapshot.deal(str(deal.id)).next_step_due == date(2026, 11, 25), pilot
        )

        # A due date already past (by the app's clock) is called overdue before saving.
        await fill(pilot, editor, next_step_due="2026-11-18")
        await pilot.pause()
        assert "⚑ overdue: was due 2 days ago" in error_text(editor, "next_step_due")
        await save(pilot)
        await wait_for(
            lambda: demo.store.deals.get(deal.id).next_step_due == date(2026, 11, 18), pilot
        )
        # Cleared: both go back to none.
        await fill(pilot, editor, next_step="", next_step_due="")
        await save(pilot)
        await wait_for(lambda: demo.store.deals.get(deal.id).next_step is None, pilot)
        assert demo.store.deals.get(deal.id).next_step_due is None
        assert all(name not in shown_errors(editor) for name in NEXT_STEP_FIELDS)


def planned_pair(demo: Demo, deal_id: uuid.UUID) -> tuple[Any, Any]:
    """A call due in three days and an email due two days ago, neither done."""
    ahead = demo.store.activities.add(
        deal_id,
        {
            "type": "call",
            "description": "Follow-up with procurement",
            "date": FIXED_NOW + timedelta(days=3),
            "done": False,
        },
    )
    late = demo.store.activities.add(
        deal_id,
        {
            "type": "email",
            "description": "Send the revised quote",
            "date": FIXED_NOW - timedelta(days=2),
            "done": False,
        },
    )
    return ahead, late


@SQLITE_ONLY
async def test_planned_activities_show_as_due_and_d_marks_one_done(
    demo: Demo, make_app: Any
) -> None:
    deal = demo.first_open("proposal")
    ahead, late = planned_pair(demo, deal.id)
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        rows = {key: (when, kind, what) for key, when, kind, what in timeline_rows(editor)}
        assert rows[str(ahead.id)] == ("2026-11-23", "call", "planned · Follow-up with procurement")
        assert rows[str(late.id)] == ("2026-11-18", "email", "⚑ overdue · Send the revised quote")
        # Planned ahead: at the top of the timeline, above what was done.
        assert timeline_rows(editor)[0][0] == str(ahead.id)

        table = editor.query_one("#activities", DataTable)
        table.focus()
        await pilot.pause()
        table.move_cursor(row=table.get_row_index(str(late.id)))
        await pilot.press("d")
        await wait_for(
            lambda: next(a for a in demo.store.activities.list(deal.id) if a.id == late.id).done,
            pilot,
        )
        done = next(a for a in demo.store.activities.list(deal.id) if a.id == late.id)
        # Dated when it was done, by the app's clock.
        assert done.date == FIXED_NOW
        assert not next(a for a in demo.store.activities.list(deal.id) if a.id == ahead.id).done
        # Through the session: the snapshot's last activity (health reads it) moved.
        await wait_for(lambda: app.snapshot.deal(str(deal.id)).last_activity_at == FIXED_NOW, pilot)
        # Done: no longer marked planned or overdue.
        await wait_for(lambda: ("email", "Send the revised quote") in timeline(editor), pilot)
        # d on a done activity changes nothing.
        table.move_cursor(row=table.get_row_index(str(late.id)))
        await pilot.press("d")
        await pilot.pause()
        assert any("done already" in n.message for n in app._notifications)
        assert demo.store.deals.get(deal.id).version == deal.version


@SQLITE_ONLY
async def test_an_activity_planned_from_the_form_is_saved_not_done(
    demo: Demo, make_app: Any
) -> None:
    deal = demo.first_open("negotiation")
    before = {a.id for a in demo.store.activities.list(deal.id)}
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        await pilot.press("f8")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)
        form = app.screen
        status = form.query_one("#status", Select)
        assert status.value == "done"
        # Planned asks for a due date.
        await choose(pilot, status, "planned")
        await type_into(pilot, form, "#description", "Demo to the board")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "planned activity needs its due date" in plain(form.query_one("#activity-error"))
        # A date after today makes it planned by itself.
        await choose(pilot, status, "done")
        await type_into(pilot, form, "#date", "2026-12-02 10:00")
        await pilot.pause()
        assert status.value == "planned"
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is editor, pilot)
        await wait_for(lambda: len(demo.store.activities.list(deal.id)) == len(before) + 1, pilot)
        (added,) = [a for a in demo.store.activities.list(deal.id) if a.id not in before]
        assert (added.type, added.description, added.done) == ("note", "Demo to the board", False)
        assert added.date == FIXED_NOW.replace(day=2, month=12, hour=10)
        await wait_for(lambda: ("note", "planned · Demo to the board") in timeline(editor), pilot)


async def test_the_timeline_shows_the_deals_history_read_only(demo: Demo, make_app: Any) -> None:
    deal = demo.first_open("qualified")
    moved = FIXED_NOW - timedelta(days=1)
    demo.store.deals.update(
        deal.id, {"stage": "proposal", "value": 300_000, "probability": 55}, now=moved
    )
    history = demo.store.deals.history(deal.id)
    app = make_app(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(app, pilot, deal.id)
        rows = timeline_rows(editor)
        changes = [(when, kind, what) for key, when, kind, what in rows if key.startswith("change")]
        assert len(changes) == len(history)
        assert ("2026-11-19", "stage", "qualified → proposal") in changes
        assert ("2026-11-19", "prob.", f"{deal.probability}% → 55%") in changes
        old_value = f"${deal.value:,.0f}"
        assert ("2026-11-19", "value", f"{old_value} → $300,000") in changes
        # Interleaved with the activities by date, newest first.
        whens = [when for _, when, _, _ in rows]
        assert whens == sorted(whens, reverse=True)
        assert len(rows) == len(history) + len(demo.store.activities.list(deal.id))

        # A history row is read, not edited: e, d and x do nothing to it.
        table = editor.query_one("#activities", DataTable)
        table.focus()
        await pilot.pause()
        first_change = next(i for i, row in enumerate(rows) if row[0].startswith("change"))
        table.move_cursor(row=first_change)
        for key in ("e", "d", "x", "enter"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is editor
        assert any("history" in n.message for n in app._notifications)
        # e still edits an activity row.
        first_activity = next(i for i, row in enumerate(rows) if not row[0].startswith("change"))
        table.move_cursor(row=first_activity)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ActivityFormScreen), pilot)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is editor, pilot)

        # The editor's own save adds its change to the timeline.
        await fill(pilot, editor, close_date="2027-03-31")
        await save(pilot)
        await wait_for(
            lambda: any(
                kind == "close date" and what.endswith("→ 2027-03-31")
                for _, _, kind, what in timeline_rows(editor)
            ),
            pilot,
        )
