"""Today's forecast or health scores of a workspace, read back as kept, with the database
driver alone (store.driver_reads).

Each is kept against the workspace's revisions and the day it was computed for
(store.kept_results). While it still holds, answering `vectoros forecast --json` or
`vectoros score --json` is a matter of reading it back: this does that without
SQLAlchemy, SQLModel or numpy, whose import alone costs more than the rest of the
answer. It answers only when the full path would give the very same answer and write
nothing new: the same workspace chosen the same way, the same goal, the result kept for
today's data, and (for a forecast) today's entry in the forecast history already holding
these numbers. Anything else gives None, and the full path computes (and keeps) it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from vectoros_tui.engine.timeframes import parse_timeframe
from vectoros_tui.store.driver_reads import Rows, as_uuid, raw_id, read_database, schema_is_current
from vectoros_tui.store.kept_payload import forecast_kind, forecast_params, params_key, unpack
from vectoros_tui.store.quick_start import QuickWorkspace, matching_workspaces

MODEL = "history"
# The original method, on the reps' probabilities: asked for with `--model rep`, and what
# `--model auto` falls back to when the workspace has too little history to learn from.
REP_MODEL = "rep"
# The kind the health scores are kept as (store.analytics.Analytics.score).
SCORE = "score"


@dataclass(frozen=True)
class WorkspaceRefs:
    """How the CLI finds the workspace, in the order it tries them: named on the command
    line, set in the config, remembered from the last command (blank ones are None)."""

    given: str | None
    configured: str | None
    remembered: str | None


@dataclass(frozen=True)
class ForecastQuestion:
    """What `vectoros forecast --json` was asked, with its defaults filled in."""

    timeframe: str  # as given (the reps' model keys its kept result by it)
    scenario: str
    simulations: int
    seed: int
    configured_goal: float | None

    @property
    def window_days(self) -> int:
        return parse_timeframe(self.timeframe)


@dataclass(frozen=True)
class KeptAnswer:
    workspace_id: uuid.UUID
    # What the command prints as JSON (as the full path builds it).
    answer: Any


def read_kept_forecast(
    url: str, refs: WorkspaceRefs, question: ForecastQuestion, today: date, model: str = "auto"
) -> KeptAnswer | None:
    """The kept answer to a plain `forecast --json --model MODEL` (auto, history or rep)."""
    return read_database(
        url,
        lambda rows, postgres: _forecast(Reading(rows, postgres, today), refs, question, model),
    )


def read_kept_scores(url: str, refs: WorkspaceRefs, today: date) -> KeptAnswer | None:
    return read_database(url, lambda rows, postgres: _scores(Reading(rows, postgres, today), refs))


def pick_workspace(
    workspaces: Sequence[QuickWorkspace], refs: WorkspaceRefs
) -> QuickWorkspace | None:
    """The workspace the CLI would work on; None where the CLI would report an error (no
    workspace, an unknown or ambiguous name)."""
    for ref in (refs.given, refs.configured):
        if ref is not None:
            return _only(matching_workspaces(workspaces, ref))
    if refs.remembered is not None:
        found = _only(matching_workspaces(workspaces, refs.remembered))
        if found is not None:
            return found
        # A remembered workspace deleted since is passed over, as the CLI does.
    return _only(list(workspaces))


def _only(found: Sequence[QuickWorkspace]) -> QuickWorkspace | None:
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Reading:
    rows: Rows
    postgres: bool
    today: date

    @property
    def day(self) -> Any:
        return self.today if self.postgres else self.today.isoformat()

    def workspace(self, refs: WorkspaceRefs) -> QuickWorkspace | None:
        if not schema_is_current(self.rows):
            return None
        workspaces = [
            QuickWorkspace(str(as_uuid(raw)), name)
            for raw, name in self.rows(
                "SELECT id, name FROM workspaces ORDER BY name, created_at", {}
            )
        ]
        return pick_workspace(workspaces, refs)

    def kept(self, workspace: QuickWorkspace, kind: str, params: dict[str, Any]) -> Any | None:
        """The result kept for today at the workspace's present revisions, else None."""
        found = self.rows(
            """
            SELECT k.payload FROM kept_results AS k
                JOIN workspaces AS w ON w.id = k.workspace_id
            WHERE k.workspace_id = :workspace AND k.kind = :kind AND k.params = :params
                AND k.computed_for = :day AND k.deals_revision = w.deals_revision
                AND k.activities_revision = w.activities_revision
            """,
            {
                "workspace": self.id(workspace),
                "kind": kind,
                "params": params_key(params),
                "day": self.day,
            },
        )
        return unpack(bytes(found[0][0])) if found else None

    def id(self, workspace: QuickWorkspace) -> Any:
        return raw_id(workspace.id, self.postgres)


def _scores(reading: Reading, refs: WorkspaceRefs) -> KeptAnswer | None:
    chosen = reading.workspace(refs)
    if chosen is None:
        return None
    kept = reading.kept(chosen, SCORE, {})
    return None if kept is None else KeptAnswer(uuid.UUID(chosen.id), kept)


@dataclass(frozen=True)
class AskedForecast:
    """A plain forecast question as the full path would key it: the model that answers it,
    the kept result's parameters, and the goal it was asked with (and where that goal
    came from)."""

    params: dict[str, Any]
    goal: float | None
    goal_source: str | None
    model: str = MODEL
    # Why the reps' probabilities answer a question for `--model auto` (too little history).
    note: str | None = None

    def answer(self, workspace: QuickWorkspace, result: dict[str, Any], seed: int) -> Any:
        """What the command prints for ``result``, as the full path builds it."""
        answer = {"workspace_id": workspace.id, **result, "seed": seed}
        if self.goal_source is not None and self.goal is not None:
            answer["goal_source"] = self.goal_source
        if self.note is not None:
            answer["model"] = REP_MODEL
            answer["model_note"] = self.note
        return answer


def asked_forecast(
    reading: Reading,
    workspace: QuickWorkspace,
    question: ForecastQuestion,
    model: str = MODEL,
    note: str | None = None,
) -> AskedForecast:
    """The question put to ``model`` (history or rep); ``note``: why the reps' model
    answers for auto."""
    days = question.window_days
    saved = reading.rows(
        "SELECT amount FROM goals WHERE workspace_id = :workspace AND window_days = :days",
        {"workspace": reading.id(workspace), "days": days},
    )
    if saved:
        goal, source = float(saved[0][0]), "saved"
    elif question.configured_goal is not None:
        goal, source = question.configured_goal, "config"
    else:
        goal, source = None, None
    window: dict[str, Any] = (
        {"timeframe": question.timeframe} if model == REP_MODEL else {"window_days": days}
    )
    params = forecast_params(
        {**window, "scenario": question.scenario, "goal": goal},
        None,
        question.simulations,
        question.seed,
    )
    return AskedForecast(params, goal, source, model, note)


def too_little_history(
    found: tuple[date, dict[str, Any]] | None, size: tuple[int, int], today: date
) -> str | None:
    """Why `--model auto` answers with the reps' probabilities today (the model_note), as
    the store's ModelStore.fit finds it in the kept fit ``found`` (see :func:`kept_fit`):
    the reason kept today for this very data (``size``: see :func:`data_size`); None when
    no such verdict holds (the full path tries to fit)."""
    if found is None:
        return None
    fitted_for, payload = found
    reason = payload.get("not_enough")
    if not isinstance(reason, str) or fitted_for != today or payload.get("data") != list(size):
        return None
    return f"{reason}; used the reps' probabilities"


def kept_fit(
    reading: Reading, workspace: QuickWorkspace, days: int
) -> tuple[date, dict[str, Any]] | None:
    """The day the workspace's model for a ``days`` window was fitted for, and what was
    kept (a fit, or the reason there was too little history); None when nothing is."""
    found = reading.rows(
        "SELECT fitted_for, payload FROM model_fits "
        "WHERE workspace_id = :workspace AND window_days = :days",
        {"workspace": reading.id(workspace), "days": days},
    )
    if not found:
        return None
    fitted_for, payload = found[0]
    fitted_for = fitted_for if isinstance(fitted_for, date) else date.fromisoformat(fitted_for)
    payload = payload if isinstance(payload, dict) else orjson.loads(payload)
    return (fitted_for, payload) if isinstance(payload, dict) else None


def data_size(reading: Reading, workspace: QuickWorkspace) -> tuple[int, int]:
    """The workspace's closed deals and deals, as the store's DataSize counts them."""
    closed, total = reading.rows(
        "SELECT count(outcome), count(*) FROM deals WHERE workspace_id = :workspace",
        {"workspace": reading.id(workspace)},
    )[0]
    return int(closed), int(total)


def recorded_run(
    reading: Reading, workspace: QuickWorkspace, result: dict[str, Any], model: str
) -> Any:
    """Today's entry in the forecast history of ``model`` for ``result``'s window, as it
    is kept."""
    return [
        tuple(r)
        for r in reading.rows(
            """
            SELECT p5, p50, p95, mean, open_deals FROM forecast_runs
            WHERE workspace_id = :workspace AND day = :day AND window_days = :days
                AND model = :model
            """,
            {
                "workspace": reading.id(workspace),
                "day": reading.day,
                "days": int(result["timeframe"].removesuffix("d")),
                "model": model,
            },
        )
    ]


def run_of(result: dict[str, Any], open_deals: int) -> tuple[Any, ...]:
    """Today's entry in the forecast history for ``result``, as :func:`recorded_run`
    reads it."""
    return (
        result["worst_case"],
        result["likely_case"],
        result["best_case"],
        result["mean_forecast"],
        open_deals,
    )


def _forecast(
    reading: Reading, refs: WorkspaceRefs, question: ForecastQuestion, model: str
) -> KeptAnswer | None:
    chosen = reading.workspace(refs)
    if chosen is None:
        return None
    if model != REP_MODEL:
        # The full path serves the history model's kept result before it looks at the fit.
        history = asked_forecast(reading, chosen, question)
        answer = _kept_forecast(reading, chosen, history, question.seed)
        if answer is not None or model == MODEL:
            return answer  # (--model history with too little history is the CLI's error)
    asked = asked_rep_forecast(reading, chosen, question, model)
    return None if asked is None else _kept_forecast(reading, chosen, asked, question.seed)


def asked_rep_forecast(
    reading: Reading, workspace: QuickWorkspace, question: ForecastQuestion, model: str
) -> AskedForecast | None:
    """The question put to the reps' model for ``--model MODEL``: always for rep; for
    auto, when today's verdict of too little history holds; else None."""
    if model == REP_MODEL:
        return asked_forecast(reading, workspace, question, REP_MODEL)
    if model != "auto":
        return None
    found = kept_fit(reading, workspace, question.window_days)
    size = (0, 0) if found is None else data_size(reading, workspace)
    note = too_little_history(found, size, reading.today)
    return None if note is None else asked_forecast(reading, workspace, question, REP_MODEL, note)


def _kept_forecast(
    reading: Reading, workspace: QuickWorkspace, asked: AskedForecast, seed: int
) -> KeptAnswer | None:
    found = reading.kept(workspace, forecast_kind(asked.model), asked.params)
    if not isinstance(found, dict):
        return None
    result = found["result"]
    # The full path records today's forecast in the forecast history; answer only when
    # that record already holds these very numbers, so that skipping it changes nothing.
    if recorded_run(reading, workspace, result, asked.model) != [
        run_of(result, found["open_deals"])
    ]:
        return None
    return KeptAnswer(uuid.UUID(workspace.id), asked.answer(workspace, result, seed))
