"""Today's kept forecast brought up to date after deals changed, with the database driver
alone.

`vectoros forecast --json` after a deal was saved used to mean the whole CLI: importing
SQLAlchemy and SQLModel, reading every open deal with its activities, and building a row
with reasons for each. Most of that is what the forecast kept earlier today already
holds. Here, when only deals changed since (not activities) and the day's fit still
serves, the open deals' own rows are read with the driver; each deal's last activity is
taken from the kept forecast (new deals' are read); the simulation is run again; and the
rows of the deals whose fields did not change are taken as they were
(store.history_forecast.known_deal_rows). The result, and today's entry in the forecast
history, are written as the full path writes them, in one transaction.

The reps' model (`--model rep`, or auto on a workspace with too little history to learn
from) needs neither a fit nor activities: its forecast is computed from the open deals'
rows, read with the driver, and kept as the full path keeps it.

It answers only what the full path would answer with the very same numbers: the same
workspace, question, fit and deals. Anything else gives None, and the full path runs.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.plain_json import dumps
from vectoros_tui.store.driver_reads import Write, in_chunks, update_database
from vectoros_tui.store.driver_values import (
    OPEN_RECORDS,
    RECORD_FIELDS,
    REVISIONS,
    id_text,
    record_from_row,
)
from vectoros_tui.store.kept_answer import (
    MODEL,
    REP_MODEL,
    AskedForecast,
    ForecastQuestion,
    KeptAnswer,
    Reading,
    WorkspaceRefs,
    asked_forecast,
    data_size,
    kept_fit,
    run_of,
    too_little_history,
)
from vectoros_tui.store.kept_payload import forecast_kind, params_key, unpack
from vectoros_tui.store.kept_writes import kept_result_writes, written_at
from vectoros_tui.store.model_payload import DataSize, close_enough, fit_holds, model_from_json
from vectoros_tui.store.quick_start import QuickWorkspace


def update_kept_forecast(
    url: str, refs: WorkspaceRefs, question: ForecastQuestion, today: date, model: str = "auto"
) -> KeptAnswer | None:
    """The answer to a plain `forecast --json --model MODEL`, computed (from the forecast
    kept earlier today, for the history model) and kept; None where the full path must
    answer."""
    return update_database(
        url,
        lambda rows, write, postgres: _update(
            Reading(rows, postgres, today), write, refs, question, model
        ),
    )


def _update(
    reading: Reading,
    write: Write,
    refs: WorkspaceRefs,
    question: ForecastQuestion,
    model: str,
) -> KeptAnswer | None:
    from vectoros_tui.store.history_forecast import kept_forecast

    chosen = reading.workspace(refs)
    if chosen is None:
        return None
    if model == REP_MODEL:
        return _rep_forecast(
            reading, write, chosen, question, asked_forecast(reading, chosen, question, model)
        )
    # One read of the kept fit, and of the counts it was kept for, decides between the
    # history model and (auto, too little history) the reps'.
    kept = kept_fit(reading, chosen, question.window_days)
    if kept is None:
        return None
    size = data_size(reading, chosen)
    note = too_little_history(kept, size, reading.today)
    if note is not None:
        if model != "auto":
            return None  # --model history: the CLI's error
        asked = asked_forecast(reading, chosen, question, REP_MODEL, note)
        return _rep_forecast(reading, write, chosen, question, asked)
    rows, workspace = reading.rows, reading.id(chosen)
    asked = asked_forecast(reading, chosen, question)
    kind, key = forecast_kind(MODEL), params_key(asked.params)
    # The revisions before anything they label is read (see store.kept_results).
    revision = rows(REVISIONS, {"workspace": workspace})[0]
    earlier = _earlier(reading, workspace, kind, key, revision)
    fitted = _kept_fit(kept, size, reading.today)
    if earlier is None or fitted is None:
        return None
    win_model, cutoffs = fitted
    deals = rows(OPEN_RECORDS, {"workspace": workspace})
    last_activity = _last_activities(reading, deals, earlier["inputs"]["deals"])
    records = [record_from_row(row, last_activity.get(row[0])) for row in deals]
    moment = utc_now()
    if moment.date() != reading.today:
        return None  # midnight passed: the full path starts the new day's forecast
    found = kept_forecast(
        win_model,
        cutoffs,
        records,
        moment,
        question.window_days,
        question.simulations,
        question.seed,
        asked.goal,
        question.scenario,
        earlier=earlier,
        with_inputs=True,
    )
    write(_keeping(reading, workspace, asked, revision, found))
    return KeptAnswer(uuid.UUID(chosen.id), asked.answer(chosen, found["result"], question.seed))


# The reps' model counts the open deals due by the window's last day, or undated (the
# engine's _closes_in_window), in the store's order: a team's workspace has more than as
# many open deals again due later, which it would read only to pass over.
_DUE_RECORDS = f"""
    SELECT {", ".join(RECORD_FIELDS)} FROM deals
    WHERE workspace_id = :workspace AND outcome IS NULL AND stage != 'closed'
        AND (close_date IS NULL OR close_date <= :last_day)
    ORDER BY id
"""
_OPEN_DEALS = """
    SELECT count(*) FROM deals
    WHERE workspace_id = :workspace AND outcome IS NULL AND stage != 'closed'
"""


def _rep_forecast(
    reading: Reading,
    write: Write,
    chosen: QuickWorkspace,
    question: ForecastQuestion,
    asked: AskedForecast,
) -> KeptAnswer | None:
    """The reps' model's forecast as the store's Analytics.forecast computes and keeps it:
    from the open deals alone (it reads no activity, slip or funnel history)."""
    from vectoros_tui.engine.forecast import forecast_revenue

    workspace = reading.id(chosen)
    moment = utc_now()
    last_day = (moment + timedelta(days=question.window_days)).date()
    revision = reading.rows(REVISIONS, {"workspace": workspace})[0]
    due = reading.rows(
        _DUE_RECORDS,
        {
            "workspace": workspace,
            "last_day": last_day if reading.postgres else last_day.isoformat(),
        },
    )
    open_deals = reading.rows(_OPEN_DEALS, {"workspace": workspace})[0][0]
    if utc_now().date() != reading.today:
        return None  # midnight passed: the full path starts the new day's forecast
    result = forecast_revenue(
        [record_from_row(row) for row in due],
        timeframe=question.timeframe,
        scenario=question.scenario,
        simulations=question.simulations,
        seed=question.seed,
        now=moment,
        goal=asked.goal,
    )
    found = {"result": result, "open_deals": int(open_deals)}
    write(_keeping(reading, workspace, asked, revision, found))
    return KeptAnswer(uuid.UUID(chosen.id), asked.answer(chosen, result, question.seed))


def _earlier(
    reading: Reading, workspace: Any, kind: str, key: str, revision: tuple[Any, ...]
) -> dict[str, Any] | None:
    """The forecast kept for today at earlier deal revisions and the present activities
    revision, with its inputs; None when there is none (or it is today's already)."""
    found = reading.rows(
        """
        SELECT payload, deals_revision, activities_revision FROM kept_results
        WHERE workspace_id = :workspace AND kind = :kind AND params = :params
            AND computed_for = :day
        """,
        {"workspace": workspace, "kind": kind, "params": key, "day": reading.day},
    )
    if not found:
        return None
    payload, deals_revision, activities_revision = found[0]
    # The same deals: the kept answer stood, and was not printed for another reason.
    # Other activities: the last activity kept for a deal may have moved.
    if deals_revision == revision[0] or activities_revision != revision[1]:
        return None
    kept = unpack(bytes(payload))
    if not isinstance(kept, dict) or not isinstance(kept.get("inputs"), dict):
        return None
    return kept


def _kept_fit(kept: tuple[date, dict[str, Any]], size: tuple[int, int], today: date) -> Any | None:
    """The fit ``kept`` (see kept_answer.kept_fit) if it serves today's data (``size``), as
    the store's ModelStore.fit finds it; None when it does not (the full path fits)."""
    fitted_for, payload = kept
    then = payload.get("data")
    if not fit_holds(fitted_for, today) or not isinstance(then, list):
        return None
    if not close_enough(DataSize(*then), DataSize(*size)):
        return None
    return model_from_json(payload)


def _last_activities(reading: Reading, deals: list[Any], kept: dict[str, Any]) -> dict[Any, Any]:
    """Each open deal's last activity done (raw id -> when): as kept, or read for the deals
    the kept forecast did not have (created or reopened since)."""
    found: dict[Any, Any] = {}
    unknown = []
    for row in deals:
        then = kept.get(id_text(row[0]))
        if then is None:
            unknown.append(row[0])
        elif then[1] is not None:
            found[row[0]] = datetime.fromisoformat(then[1])
    for chunk in in_chunks(unknown):
        names = {f"d{i}": raw for i, raw in enumerate(chunk)}
        found.update(
            reading.rows(
                f"""
                SELECT deal_id, max(date) FROM activities
                WHERE deal_id IN ({", ".join(f":{name}" for name in names)}) AND done = :done
                GROUP BY deal_id
                """,
                {**names, "done": True},
            )
        )
    return found


def _keeping(
    reading: Reading,
    workspace: Any,
    asked: AskedForecast,
    revision: tuple[Any, ...],
    found: dict[str, Any],
) -> list[tuple[str, dict[str, Any]]]:
    """The writes of store.kept_results.KeptResults.keep and of today's forecast run."""
    at = written_at(reading)
    result = found["result"]
    p5, p50, p95, mean, open_deals = run_of(result, found["open_deals"])
    kind, key = forecast_kind(asked.model), params_key(asked.params)
    return [
        *kept_result_writes(reading, workspace, kind, key, revision, dumps(found), at),
        (
            """
            INSERT INTO forecast_runs (workspace_id, day, window_days, model, p5, p50, p95,
                mean, open_deals, computed_at)
            VALUES (:workspace, :day, :days, :model, :p5, :p50, :p95, :mean, :open, :at)
            ON CONFLICT (workspace_id, day, window_days, model) DO UPDATE SET
                p5 = excluded.p5, p50 = excluded.p50, p95 = excluded.p95,
                mean = excluded.mean, open_deals = excluded.open_deals,
                computed_at = excluded.computed_at
            """,
            {
                "workspace": workspace,
                "day": reading.day,
                "at": at,
                "days": int(result["timeframe"].removesuffix("d")),
                "model": asked.model,
                "p5": p5,
                "p50": p50,
                "p95": p95,
                "mean": mean,
                "open": open_deals,
            },
        ),
    ]
