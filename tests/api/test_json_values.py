"""JSON cells of the table routes: no NaN, no numpy scalars, no pandas missing markers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from api.v1.json_values import json_records, json_value


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (float("nan"), None),
        (float("inf"), None),
        (np.float64("nan"), None),
        (pd.NA, None),
        (pd.NaT, None),
        (None, None),
        (np.int64(7), 7),
        (np.float64(0.25), 0.25),
        (np.bool_(True), True),
        ("FR", "FR"),
    ],
)
def test_json_value(cell: object, expected: object) -> None:
    assert json_value(cell) == expected


def test_a_frame_with_missing_values_becomes_strict_json() -> None:
    frame = pd.DataFrame(
        {"area": ["FR", "MT"], "value": [1.5, np.nan], "year": pd.array([2024, None], "Int64")}
    )
    records = json_records(list(frame.columns), frame.values.tolist())
    assert json.loads(json.dumps(records, allow_nan=False)) == [
        {"area": "FR", "value": 1.5, "year": 2024},
        {"area": "MT", "value": None, "year": None},
    ]
