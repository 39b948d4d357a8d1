"""`vectoros forecast --json` and `vectoros score --json` answered from the result kept for
today's data, before the full CLI (click, SQLAlchemy, SQLModel, numpy) is imported; a
forecast kept earlier today is brought up to date when only deals changed since
(store.forecast_update), and scores not kept are computed with the database driver
(store.scores_now).

Only the plain forms are taken here: `forecast --json` with `-w/--workspace NAME` and
`--model auto|history|rep` at most, `score --json` with `-w/--workspace NAME` at most.
Anything else, and any answer these cannot give (store.kept_answer), goes through the
full CLI, which computes, keeps and reports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vectoros_tui import plain_json
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.forecast_defaults import (
    FORECAST_SCENARIO,
    FORECAST_SEED,
    FORECAST_SIMULATIONS,
    FORECAST_TIMEFRAME,
)
from vectoros_tui.memory import collections_paused
from vectoros_tui.text_safety import json_for_terminal

_WORKSPACE = ("-w", "--workspace")
_MODELS = ("auto", "history", "rep")


def answer_from_kept(argv: Sequence[str]) -> bool:
    """Print the kept answer to ``argv`` (the command's arguments) and return True; False
    when there is none to print."""
    plain = plain_command(argv)
    if plain is None:
        return False
    try:
        with collections_paused():  # a one-shot command (see vectoros_tui.memory)
            answer = _kept_answer(plain)
    except OSError:  # a data folder or config that cannot be read: the CLI reports it
        return False
    if answer is None:
        return False
    # Written outside the guard: a reader that goes away (`| head`) must not send the
    # command through the full CLI for a second answer.
    sys.stdout.write(json_for_terminal(plain_json.dumps(answer, indent=True).decode()) + "\n")
    return True


@dataclass(frozen=True)
class PlainCommand:
    command: str  # forecast or score
    workspace: str | None  # as named with -w (None: not named)
    model: str = "auto"  # a forecast's --model


_OPTIONS = {"forecast": ("--workspace", "--model"), "score": ("--workspace",)}


def plain_command(argv: Sequence[str]) -> PlainCommand | None:
    """A plain `forecast --json` or `score --json`; None for any other command line."""
    if not argv or argv[0] not in _OPTIONS or any(_undecodable(a) for a in argv):
        return None
    options = _OPTIONS[argv[0]]
    as_json, workspace, model = False, None, "auto"
    rest = list(argv[1:])
    while rest:
        argument = rest.pop(0)
        name, equals, value = argument.partition("=")
        if argument == "--json":
            as_json = True
        elif (argument in options or argument == "-w") and rest:
            name, value = argument, rest.pop(0)
        elif not (equals and name in options):
            return None
        if name in _WORKSPACE:
            if not value.strip():
                return None  # blank: the CLI decides what that means
            workspace = value
        elif name == "--model":
            if value not in _MODELS:
                return None
            model = value
    return PlainCommand(argv[0], workspace, model) if as_json else None


def _undecodable(argument: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in argument)


def _kept_answer(plain: PlainCommand) -> Any | None:
    from vectoros_tui.config_sources import plain_settings
    from vectoros_tui.last_workspace import LastWorkspace
    from vectoros_tui.locations import current_locations
    from vectoros_tui.store.kept_answer import (
        ForecastQuestion,
        WorkspaceRefs,
        read_kept_forecast,
        read_kept_scores,
    )
    from vectoros_tui.store.urls import sqlite_url_for

    home = os.environ.get("VECTOROS_HOME")
    if home and Path(home).expanduser().exists() and not Path(home).expanduser().is_dir():
        return None
    locations = current_locations()
    configured = None
    question = ForecastQuestion(
        FORECAST_TIMEFRAME, FORECAST_SCENARIO, FORECAST_SIMULATIONS, FORECAST_SEED, None
    )
    plain_ones = plain_settings(locations, os.environ)
    if plain_ones is not None:  # nothing for pydantic to check
        database_url = plain_ones.database_url or sqlite_url_for(locations.database_file)
        configured = plain_ones.workspace or None
    else:
        from vectoros_tui.config import ConfigError, load_settings

        try:
            settings, _ = load_settings()
        except ConfigError:
            return None
        database_url = settings.resolved_database_url(locations)
        configured = settings.workspace or None
        forecast = settings.forecast
        question = ForecastQuestion(
            forecast.timeframe,
            forecast.scenario,
            forecast.simulations,
            FORECAST_SEED,
            forecast.goal,
        )
    last = LastWorkspace(locations.data_dir, database_url)
    refs = WorkspaceRefs(plain.workspace, configured, last.get())
    today = utc_now().date()
    if plain.command == "forecast":
        kept = read_kept_forecast(database_url, refs, question, today, plain.model)
        if kept is None:
            from vectoros_tui.store.forecast_update import update_kept_forecast

            kept = update_kept_forecast(database_url, refs, question, today, plain.model)
    else:
        kept = read_kept_scores(database_url, refs, today)
        if kept is None:
            from vectoros_tui.store.scores_now import compute_kept_scores

            kept = compute_kept_scores(database_url, refs, today)
    if kept is None:
        return None
    if plain.workspace is not None and last.get() != str(kept.workspace_id):
        last.set(kept.workspace_id)  # as the CLI does: -w is remembered for the next commands
    return kept.answer
