"""--json text: orjson's speed, the standard library's exact text."""

from __future__ import annotations

import datetime
import json
import uuid

import numpy as np
import pytest

from vectoros_tui.cli.output import json_text


def standard(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


@pytest.mark.parametrize(
    "data",
    [
        {"deal": "Acme — renewal", "value": 45000.5, "p": np.float64(0.1234), "n": np.int64(3)},
        {"when": datetime.datetime(2026, 12, 5, 9, 30, tzinfo=datetime.UTC)},
        {"day": datetime.date(2026, 12, 5), "id": uuid.UUID(int=7), 3: "non-string key"},
        {"big": 2**70, "nested": [[], {}, [1, [2, {"a": None, "b": True}]]]},
        {"text": "line\u2028break \u202e bidi \x1b esc", "empty": ""},
        [{"winProbabilityInWindow": 0.7553, "reasons": [{"logit": -3.993}]}] * 3,
    ],
)
def test_the_text_is_the_standard_librarys(data: object) -> None:
    assert json_text(data) == standard(data)


def test_a_forecast_sized_document_is_the_same_text() -> None:
    rng = np.random.default_rng(1)
    rows = [
        {
            "deal_id": str(uuid.UUID(int=int(i))),
            "value": round(float(v), 2),
            "winProbabilityInWindow": round(float(p), 4),
        }
        for i, v, p in zip(range(5_000), rng.uniform(0, 1e6, 5_000), rng.random(5_000), strict=True)
    ]
    document = {"forecasted_deals": rows, "likely_case": 1e15, "huge": 1e16}
    assert json_text(document) == standard(document)
    # A number under 1e-4 is written 1e-7 rather than 1e-07: the same number.
    tiny = {"tiny": 1e-7}
    assert json.loads(json_text(tiny)) == tiny
