"""The history model's features of hand-built deals at a moment, and their phrases."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from vectoros_tui.engine.dates import end_of_day
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.engine.win_features import (
    AGE_FEATURES,
    FEATURES,
    QUARTER_END_DAYS,
    REASON_GROUPS,
    OwnerRates,
    deal_features,
    describe,
    quarter_end_share,
    quarter_shares,
    reason_group,
)

# The end of 20 May 2025, when every forecast made that day takes its features (see
# test_a_days_forecasts_take_the_same_features): its 30-day window runs into June, the
# last month of its quarter.
MOMENT = end_of_day(datetime(2025, 5, 20, tzinfo=UTC))
TODAY = MOMENT.date()
WINDOW = 30


def deal(**fields) -> DealRecord:
    defaults = {
        "id": "d1",
        "title": "Deal",
        "stage": "proposal",
        "value": 10_000.0,
        "probability": 40.0,
        "created_at": MOMENT - timedelta(days=10),
    }
    return DealRecord(**{**defaults, **fields})


def row(record: DealRecord, moment: datetime = MOMENT) -> dict[str, float]:
    """One deal's features by name."""
    features = deal_features([record], moment, WINDOW)
    return dict(zip(FEATURES, features.matrix[0], strict=True))


def phrase(group: str, record: DealRecord, moment: datetime = MOMENT) -> str:
    return describe(group, deal_features([record], moment, WINDOW), 0)


# --------------------------------------------------------------------------- names


def test_age_features_are_the_bands_above_the_first():
    assert AGE_FEATURES == ("age:15-30", "age:31-60", "age:61-120", "age:121-240", "age:241+")
    assert set(AGE_FEATURES) <= set(FEATURES)
    assert len(set(FEATURES)) == len(FEATURES)


def test_reason_groups_gather_the_features_of_one_reason():
    for name in ("no_close_date", "close_overdue", "closes_in_window", "days_to_close"):
        assert reason_group(name) == "close"
    for stage in (*OPEN_STAGES, "unknown"):
        assert reason_group(f"stage:{stage}") == "stage"
    for name in AGE_FEATURES:
        assert reason_group(name) == "age"
    assert reason_group("no_activity") == reason_group("days_since_activity") == "activity"
    assert reason_group("rep_probability") == reason_group("no_rep_probability") == "rep"
    assert reason_group("quarter_month:2") == reason_group("quarter_month:3") == "quarter_month"
    assert reason_group("value") == "value"
    assert reason_group("days_in_stage") == "days_in_stage"
    assert REASON_GROUPS == (
        "stage",
        "age",
        "days_in_stage",
        "value",
        "close",
        "activity",
        "rep",
        "owner",
        "quarter_month",
        "quarter_end",
    )


# --------------------------------------------------------------------------- features


def test_the_matrix_has_a_row_per_deal_and_a_column_per_feature():
    features = deal_features([deal(id="a"), deal(id="b"), deal(id="c")], MOMENT, WINDOW)
    assert features.matrix.shape == (3, len(FEATURES))
    empty = deal_features([], MOMENT, WINDOW)
    assert empty.matrix.shape == (0, len(FEATURES))


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_an_open_stage_is_one_hot(stage):
    features = row(deal(stage=stage))
    stages = {k: v for k, v in features.items() if k.startswith("stage:")}
    assert stages == {f"stage:{s}": float(s == stage) for s in (*OPEN_STAGES, "unknown")}


@pytest.mark.parametrize("stage", ["closed", "", "discovery-call"])
def test_a_stage_not_among_the_open_ones_is_unknown(stage):
    record = deal(stage=stage)
    features = row(record)
    assert features["stage:unknown"] == 1.0
    assert sum(v for k, v in features.items() if k.startswith("stage:")) == 1.0
    assert deal_features([record], MOMENT, WINDOW).stages == ("unknown",)
    assert phrase("stage", record) == "stage not known then"


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (0, None),
        (14, None),
        (15, "age:15-30"),
        (30, "age:15-30"),
        (31, "age:31-60"),
        (60, "age:31-60"),
        (61, "age:61-120"),
        (120, "age:61-120"),
        (121, "age:121-240"),
        (240, "age:121-240"),
        (241, "age:241+"),
        (2_000, "age:241+"),
    ],
)
def test_age_bands_at_their_boundaries(days, band):
    features = row(deal(created_at=MOMENT - timedelta(days=days)))
    assert {name: features[name] for name in AGE_FEATURES} == {
        name: float(name == band) for name in AGE_FEATURES
    }


def test_a_deal_without_a_creation_date_is_in_the_first_band():
    record = deal(created_at=None)
    features = row(record)
    assert not any(features[name] for name in AGE_FEATURES)
    assert math.isnan(deal_features([record], MOMENT, WINDOW).age_days[0])
    assert phrase("age", record) == "? days old"


def test_a_deal_created_after_the_moment_is_zero_days_old():
    record = deal(created_at=MOMENT + timedelta(days=3))
    assert deal_features([record], MOMENT, WINDOW).age_days[0] == 0.0


def test_days_in_stage_count_from_the_stage_change_else_the_creation():
    moved = deal(
        created_at=MOMENT - timedelta(days=100), stage_changed_at=MOMENT - timedelta(days=9)
    )
    features = deal_features([moved, deal(created_at=MOMENT - timedelta(days=20))], MOMENT, WINDOW)
    assert features.stage_days.tolist() == [9.0, 20.0]
    assert features.age_days.tolist() == [100.0, 20.0]
    column = FEATURES.index("days_in_stage")
    assert features.matrix[:, column] == pytest.approx([math.log1p(9), math.log1p(20)])


def test_value_is_on_a_log_scale():
    features = deal_features([deal(value=12_345.0), deal(value=None)], MOMENT, WINDOW)
    column = FEATURES.index("value")
    assert features.matrix[:, column] == pytest.approx([math.log1p(12_345), 0.0])
    assert features.values.tolist() == [12_345.0, 0.0]


def test_no_close_date():
    record = deal(close_date=None)
    features = row(record)
    assert features["no_close_date"] == 1.0
    assert features["close_overdue"] == features["closes_in_window"] == 0.0
    assert features["days_to_close"] == 0.0
    assert math.isnan(deal_features([record], MOMENT, WINDOW).close_days[0])


@pytest.mark.parametrize(
    ("offset", "overdue", "in_window"),
    [
        (-3, 1.0, 0.0),
        (-1, 1.0, 0.0),
        (0, 0.0, 1.0),
        (1, 0.0, 1.0),
        (WINDOW, 0.0, 1.0),
        (WINDOW + 1, 0.0, 0.0),
        (200, 0.0, 0.0),
    ],
)
def test_close_date_features(offset, overdue, in_window):
    record = deal(close_date=TODAY + timedelta(days=offset))
    features = row(record)
    assert features["no_close_date"] == 0.0
    assert features["close_overdue"] == overdue
    assert features["closes_in_window"] == in_window
    # A signed log of the days: before the moment is negative.
    assert features["days_to_close"] == pytest.approx(
        math.copysign(math.log1p(abs(offset)), offset)
    )
    assert deal_features([record], MOMENT, WINDOW).close_days[0] == offset


def test_the_close_date_is_counted_from_the_moments_day_not_its_time():
    late = datetime(2025, 5, 20, 23, 59, tzinfo=UTC)
    features = row(deal(close_date=date(2025, 5, 20)), late)
    assert features["close_overdue"] == 0.0
    assert features["closes_in_window"] == 1.0


def test_activity_features():
    quiet = deal(last_activity_at=None)
    busy = deal(last_activity_at=MOMENT - timedelta(days=2))
    features = deal_features([quiet, busy], MOMENT, WINDOW)
    named = [dict(zip(FEATURES, r, strict=True)) for r in features.matrix]
    assert named[0]["no_activity"] == 1.0
    assert named[0]["days_since_activity"] == 0.0
    assert named[1]["no_activity"] == 0.0
    assert named[1]["days_since_activity"] == pytest.approx(math.log1p(2.0))
    assert math.isnan(features.activity_days[0])
    assert features.activity_days[1] == pytest.approx(2.0)


def test_rep_probability_features():
    features = deal_features([deal(probability=40.0), deal(probability=None)], MOMENT, WINDOW)
    named = [dict(zip(FEATURES, r, strict=True)) for r in features.matrix]
    assert named[0]["rep_probability"] == pytest.approx(0.4)
    assert named[0]["no_rep_probability"] == 0.0
    assert named[1]["rep_probability"] == 0.0
    assert named[1]["no_rep_probability"] == 1.0
    assert features.rep_probability[0] == 40.0
    assert math.isnan(features.rep_probability[1])


@pytest.mark.parametrize(
    ("moment", "shares"),
    [
        # Jan 16 - Feb 14: 16 days in a first month, 14 in a second.
        (datetime(2025, 1, 15, 12, tzinfo=UTC), (16 / 30, 14 / 30, 0.0)),
        # April, whole: a first month.
        (datetime(2025, 3, 31, 12, tzinfo=UTC), (1.0, 0.0, 0.0)),
        # Jun 11 - Jul 10: 20 days of a quarter's last month, then 10 of the next's first.
        (datetime(2025, 6, 10, 12, tzinfo=UTC), (10 / 30, 0.0, 20 / 30)),
        # Dec 2 - Dec 31: all in a last month.
        (datetime(2025, 12, 1, 12, tzinfo=UTC), (0.0, 0.0, 1.0)),
    ],
)
def test_the_window_is_placed_in_its_quarter(moment, shares):
    features = deal_features(
        [deal(created_at=moment - timedelta(days=5)), deal(id="d2", created_at=moment)],
        moment,
        WINDOW,
    )
    assert features.quarter_share == pytest.approx(shares)
    assert quarter_shares(moment, WINDOW) == pytest.approx(shares)
    for r in features.matrix:
        named = dict(zip(FEATURES, r, strict=True))
        assert named["quarter_month:2"] == pytest.approx(shares[1])
        assert named["quarter_month:3"] == pytest.approx(shares[2])


def test_features_of_several_deals_stay_with_their_deal():
    records = [
        deal(id="a", stage="prospect", close_date=None, probability=None),
        deal(id="b", stage="negotiation", close_date=TODAY - timedelta(days=5), probability=80.0),
        deal(id="c", stage="closed", close_date=TODAY + timedelta(days=10)),
    ]
    features = deal_features(records, MOMENT, WINDOW)
    column = {name: i for i, name in enumerate(FEATURES)}
    m = features.matrix
    assert features.stages == ("prospect", "negotiation", "unknown")
    assert m[:, column["stage:prospect"]].tolist() == [1.0, 0.0, 0.0]
    assert m[:, column["no_close_date"]].tolist() == [1.0, 0.0, 0.0]
    assert m[:, column["close_overdue"]].tolist() == [0.0, 1.0, 0.0]
    assert m[:, column["closes_in_window"]].tolist() == [0.0, 0.0, 1.0]
    assert m[:, column["no_rep_probability"]].tolist() == [1.0, 0.0, 0.0]
    assert np.isnan(features.close_days[0]) and features.close_days[1:].tolist() == [-5.0, 10.0]


# --------------------------------------------------------------------------- phrases


def test_stage_phrase():
    assert phrase("stage", deal(stage="negotiation")) == "in negotiation"


@pytest.mark.parametrize(
    ("days", "text"),
    [(0, "0 days old"), (1, "1 day old"), (2, "2 days old"), (1_500, "1,500 days old")],
)
def test_age_phrase(days, text):
    assert phrase("age", deal(created_at=MOMENT - timedelta(days=days))) == text


def test_a_day_and_a_half_is_said_as_one_day():
    assert phrase("age", deal(created_at=MOMENT - timedelta(hours=36))) == "1 day old"


def test_days_in_stage_phrase():
    record = deal(
        created_at=MOMENT - timedelta(days=50), stage_changed_at=MOMENT - timedelta(days=1)
    )
    assert phrase("days_in_stage", record) == "1 day in its stage"


def test_value_phrase():
    assert phrase("value", deal(value=1_234_567.0)) == "value 1,234,567"


@pytest.mark.parametrize(
    ("close_date", "text"),
    [
        (None, "no close date"),
        (TODAY, "closes today"),
        (TODAY + timedelta(days=1), "closes in 1 day"),
        (TODAY + timedelta(days=12), "closes in 12 days"),
        (TODAY - timedelta(days=1), "close date 1 day past"),
        (TODAY - timedelta(days=3), "close date 3 days past"),
    ],
)
def test_close_phrase(close_date, text):
    assert phrase("close", deal(close_date=close_date)) == text


def test_activity_phrases():
    assert phrase("activity", deal(last_activity_at=None)) == "no activity logged"
    assert (
        phrase("activity", deal(last_activity_at=MOMENT - timedelta(days=1)))
        == "last activity 1 day ago"
    )
    assert (
        phrase("activity", deal(last_activity_at=MOMENT - timedelta(days=45, hours=5)))
        == "last activity 45 days ago"
    )


def test_rep_phrases():
    assert phrase("rep", deal(probability=40.0)) == "rep says 40%"
    assert phrase("rep", deal(probability=None)) == "no rep probability"


@pytest.mark.parametrize(
    ("moment", "days"),
    [
        # Dec 2 - Dec 31: the whole last week of Q4 (Dec 25-31).
        (datetime(2025, 12, 1, 12, tzinfo=UTC), 7),
        # Jun 11 - Jul 10: Jun 24-30, the last week of Q2, then July.
        (datetime(2025, 6, 10, 12, tzinfo=UTC), 7),
        # Mar 1 - Mar 30 (the window starts the day after): Mar 25-30, not the 31st.
        (datetime(2025, 2, 28, 12, tzinfo=UTC), 6),
        # Apr 1 - Apr 30: a first month, no quarter's end.
        (datetime(2025, 3, 31, 12, tzinfo=UTC), 0),
        # Feb 15 - Mar 16: a quarter's last month, but not its last week.
        (datetime(2025, 2, 14, 12, tzinfo=UTC), 0),
    ],
)
def test_the_quarters_last_week_in_the_window_is_a_feature(moment, days):
    """Deals are pushed to close by a quarter's end: a window mostly of a quarter's last
    month can end before the rush, and one mostly of the next first month can hold it."""
    assert quarter_end_share(moment, WINDOW) == pytest.approx(days / QUARTER_END_DAYS)
    features = deal_features([deal()], moment, WINDOW)
    assert features.quarter_end == pytest.approx(days / QUARTER_END_DAYS)
    assert dict(zip(FEATURES, features.matrix[0], strict=True))["quarter_end"] == pytest.approx(
        days / QUARTER_END_DAYS
    )


def test_quarter_end_phrases():
    assert phrase("quarter_end", deal(), datetime(2025, 12, 1, 12, tzinfo=UTC)) == (
        "a quarter's last week in the window"
    )
    assert phrase("quarter_end", deal(), datetime(2025, 2, 28, 12, tzinfo=UTC)) == (
        "6 of a quarter's last 7 days in the window"
    )
    assert phrase("quarter_end", deal(), datetime(2025, 3, 31, 12, tzinfo=UTC)) == (
        "no quarter end in the window"
    )
    # A 200-day window from April holds June's and September's last weeks.
    long = deal_features([deal()], datetime(2025, 3, 31, 12, tzinfo=UTC), 200)
    assert long.quarter_end == pytest.approx(2.0)
    assert describe("quarter_end", long, 0) == "2 quarters' last weeks in the window"


def test_quarter_month_phrases():
    # 20 May + 30 days: 11 days of May, 19 of June (a quarter's last month).
    assert phrase("quarter_month", deal()) == "63% of the window in a quarter's last month"
    april = datetime(2025, 3, 31, 12, tzinfo=UTC)
    assert phrase("quarter_month", deal(), april) == "100% of the window in a quarter's first month"


def test_every_reason_group_has_a_phrase_of_its_own():
    record = deal(
        close_date=TODAY + timedelta(days=4),
        last_activity_at=MOMENT - timedelta(days=3),
        stage_changed_at=MOMENT - timedelta(days=6),
    )
    phrases = [phrase(group, record) for group in REASON_GROUPS]
    assert len(set(phrases)) == len(REASON_GROUPS)
    assert all(p != group for p, group in zip(phrases, REASON_GROUPS, strict=True))


def test_an_owners_past_rate_leans_on_everyones_until_there_are_enough_rows():
    rates = OwnerRates.learn(
        ["ann"] * 10 + ["bob"] * 400 + [None] * 90,
        [True] * 10 + [True] * 20 + [False] * 380 + [False] * 90,
    )
    assert rates.base == pytest.approx(30 / 500)
    # Ann won all 10 of hers: shrunk by 40 rows of the base rate, well below 100%.
    assert rates.rate("ann") == pytest.approx((10 + 40 * 0.06) / (10 + 40))
    assert rates.rate("bob") == pytest.approx((20 + 40 * 0.06) / 440)
    assert rates.rate(None) == rates.rate("nobody") == pytest.approx(0.06)
    features = deal_features(
        [deal(id="a", owner_id="ann"), deal(id="b", owner_id="bob"), deal(id="c")],
        MOMENT,
        WINDOW,
        rates,
    )
    column = features.matrix[:, FEATURES.index("owner_rate")]
    assert column[0] > 0 > column[1]  # a better rep than average, a worse one
    assert column[2] == pytest.approx(0.0)  # nobody's: everyone's rate
    assert (
        describe("owner", features, 0) == "its owner won 25% within a window before (everyone 6%)"
    )
