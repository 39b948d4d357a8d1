"""Screenshots at 80x24, the size a rep's terminal starts at, of a team's workspace (the
history demo: reps own its deals) whose open deals have next steps due, overdue and
missing: the board in the rep's own view and in everyone's (m), the editor with the
next-step fields and a planned and an overdue activity, and the forecast's team view.

Time is frozen at FIXED_NOW and the data seeded, so the screens are the same on every
run. Update the SVGs with ``pytest tests/tui/test_next_steps_snapshot.py
--snapshot-update`` and look at them before committing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from next_steps_demo import give_next_steps
from pilot_helpers import FIXED_NOW, wait_for
from test_pipeline_snapshot import loaded, steady
from textual.pilot import Pilot

from vectoros_tui.config import Settings, UserSettings
from vectoros_tui.screens.deal_editor import DealEditorScreen
from vectoros_tui.screens.forecast import ForecastScreen
from vectoros_tui.store import model_comparison
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store
from vectoros_tui.widgets.model_comparison import TeamPanel

SIZE = (80, 24)


@dataclass
class Team:
    url: str
    me: str  # the email of the rep the app runs as
    my_top_prospect: str  # the card the board highlights first in the rep's own view


@pytest.fixture
def team(tmp_path: Path) -> Team:
    url = f"sqlite:///{tmp_path / 'team.sqlite3'}"
    store = open_store(url)
    try:
        summary = create_demo_workspace(
            store.db, deals=300, seed=4, now=FIXED_NOW, history_months=6
        )
        give_next_steps(store, summary.workspace_id)
        rep = store.owners.members(summary.workspace_id)[0]
        top = store.deals.list(
            summary.workspace_id,
            stage="prospect",
            outcome="open",
            owner_id=rep.id,
            sort="value",
            descending=True,
            limit=1,
        ).deals[0]
        store.deals.update(
            top.id,
            {
                "next_step": "Book the security review",
                "next_step_due": FIXED_NOW.date() - timedelta(days=1),
            },
            now=FIXED_NOW,
        )
        for kind, text, days in (
            ("call", "Follow-up with procurement", 3),
            ("email", "Send the revised quote", -2),
        ):
            store.activities.add(
                top.id,
                {
                    "type": kind,
                    "description": text,
                    "date": FIXED_NOW + timedelta(days=days),
                    "done": False,
                },
            )
        return Team(url, rep.email, str(top.id))
    finally:
        store.close()


def as_rep(team: Team) -> Settings:
    return Settings(user=UserSettings(email=team.me))


def test_board_mine(snap_compare: Any, team: Team, make_app: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await loaded(pilot)
        assert screen.owner_filter is not None  # the rep's own deals first
        await steady(pilot, SIZE)

    app = make_app(team.url, settings=as_rep(team))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_board_all(snap_compare: Any, team: Team, make_app: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await loaded(pilot)
        await pilot.press("m")
        await wait_for(lambda: screen.owner_filter is None, pilot)
        await steady(pilot, SIZE)

    app = make_app(team.url, settings=as_rep(team))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_editor_next_step(snap_compare: Any, team: Team, make_app: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("e")
        await wait_for(lambda: isinstance(pilot.app.screen, DealEditorScreen), pilot)
        editor = pilot.app.screen
        assert isinstance(editor, DealEditorScreen)
        await wait_for(lambda: editor.deal is not None and editor.activities, pilot)
        assert editor.deal_id == team.my_top_prospect
        await steady(pilot, SIZE)

    app = make_app(team.url, settings=as_rep(team))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_forecast_team(snap_compare: Any, team: Team, make_app: Any) -> None:
    model_comparison.forget()  # the learned model is cached per process

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("f3")
        app = pilot.app

        def painted() -> bool:
            screen = app.screen
            return (
                isinstance(screen, ForecastScreen)
                and screen.result is not None
                and not screen.pending
                and not screen.models_pending
            )

        await wait_for(painted, pilot, timeout=30)
        panel = app.screen.query_one(TeamPanel)
        assert panel.display
        panel.scroll_visible(animate=False, top=True)
        await pilot.pause()
        await steady(pilot, SIZE)
        panel.scroll_visible(animate=False, top=True)
        await pilot.pause()

    app = make_app(team.url, settings=as_rep(team))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
