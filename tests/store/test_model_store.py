"""The history model's kept fit and track record, on both databases: a fit serves a week
of forecasts while the data holds still; its verdict of too little history and the track
record (which replays the last months) serve their own day only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np

from vectoros_tui.engine.unpriced import WonAmounts
from vectoros_tui.engine.win_features import FEATURES
from vectoros_tui.engine.win_model import WinModel
from vectoros_tui.store.model_payload import (
    FIT_KEPT_DAYS,
    FIT_VERSION,
    DataSize,
    model_from_json,
    model_to_json,
)

DAY = date(2026, 3, 10)
DATA = DataSize(closed=4_000, deals=10_000)


def a_model() -> WinModel:
    width = len(FEATURES) + 1
    return WinModel(
        won=np.linspace(-1, 1, width),
        lost=np.linspace(1, -1, width),
        mean=np.arange(len(FEATURES), dtype=np.float64),
        scale=np.ones(len(FEATURES)),
        covariance=np.eye(2 * width),
        period_sd=0.3,
        rows=900,
        wins=200,
        losses=300,
        periods=12,
    )


def test_a_fit_serves_a_week_while_the_data_holds(store, workspace) -> None:
    models = store.models
    models.keep_fit(workspace.id, 30, DATA, DAY, (a_model(), 12))
    for days in range(FIT_KEPT_DAYS):
        kept = models.fit(workspace.id, 30, DATA, DAY + timedelta(days=days))
        assert kept is not None, f"{days} days later"
        model, cutoffs = kept
        assert cutoffs == 12 and model.rows == 900
        np.testing.assert_allclose(model.won, a_model().won)
    assert models.fit(workspace.id, 30, DATA, DAY + timedelta(days=FIT_KEPT_DAYS)) is None
    assert models.fit(workspace.id, 30, DATA, DAY - timedelta(days=1)) is None, "clock set back"
    moved = DataSize(closed=DATA.closed + 41, deals=DATA.deals + 41)
    assert models.fit(workspace.id, 30, moved, DAY + timedelta(days=1)) is None
    assert models.fit(workspace.id, 60, DATA, DAY) is None, "another window's fit"


def test_too_little_history_is_a_verdict_for_the_day_and_the_data(store, workspace) -> None:
    models = store.models
    small = DataSize(closed=12, deals=40)
    models.keep_fit(workspace.id, 30, small, DAY, "too little history")
    assert models.fit(workspace.id, 30, small, DAY) == "too little history"
    assert models.fit(workspace.id, 30, small, DAY + timedelta(days=1)) is None
    assert models.fit(workspace.id, 30, DataSize(13, 40), DAY) is None


def test_the_track_record_is_kept_for_its_day_beside_an_older_fit(store, workspace) -> None:
    models = store.models
    track = {"summary": {"history": {"cutoffs": 6, "coverage_p5_p95": 5 / 6}}}
    models.keep_track(workspace.id, 30, DAY, track)
    assert models.track(workspace.id, 30, DATA, DAY) is None, "no fit to keep it beside"

    models.keep_fit(workspace.id, 30, DATA, DAY, (a_model(), 12))
    models.keep_track(workspace.id, 30, DAY, track)
    assert models.track(workspace.id, 30, DATA, DAY) == track
    later = DAY + timedelta(days=2)
    assert models.track(workspace.id, 30, DATA, later) is None, "the months moved on"
    newer = {"summary": {"history": {"cutoffs": 6, "coverage_p5_p95": 1.0}}}
    models.keep_track(workspace.id, 30, later, newer)
    assert models.track(workspace.id, 30, DATA, later) == newer
    assert models.fit(workspace.id, 30, DATA, later) is not None, "the fit is still served"
    moved = DataSize(closed=DATA.closed + 41, deals=DATA.deals)
    assert models.track(workspace.id, 30, moved, later) is None


def test_a_kept_fit_keeps_what_an_unpriced_deal_counts_as(store, workspace) -> None:
    """Where amounts are filled in at the close, the fit carries the won amounts an
    unpriced deal is drawn from; a fit kept by a version before them is fitted again."""
    models = store.models
    # Unrounded: a fit read back simulates exactly as the fresh one did.
    amounts = WonAmounts(mean=3_914.987654321, sd=6_510.1357913, deals=2_506)
    models.keep_fit(workspace.id, 30, DATA, DAY, (replace(a_model(), unpriced=amounts), 12))
    kept = models.fit(workspace.id, 30, DATA, DAY)
    assert kept is not None
    assert kept[0].unpriced == amounts
    models.keep_fit(workspace.id, 30, DATA, DAY, (a_model(), 12))
    kept = models.fit(workspace.id, 30, DATA, DAY)
    assert kept is not None and kept[0].unpriced is None
    assert model_from_json(model_to_json(a_model(), 12)) is not None
    older = model_to_json(a_model(), 12)
    del older["unpriced"]
    assert model_from_json(older) is None
    # A fit trained on an earlier version's grid (no version, or another) is fitted again.
    for version in (None, FIT_VERSION - 1):
        trained_otherwise = model_to_json(a_model(), 12)
        trained_otherwise["version"] = version
        assert model_from_json(trained_otherwise) is None
