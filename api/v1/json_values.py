"""Values of pandas and numpy frames as JSON holds them, for every JSON route that returns rows
of a table (indicator maps, the evidence for the paper)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd


def json_value(value: Any) -> Any:
    """A cell as JSON can hold it: NaN, infinities, ``pd.NA`` and ``NaT`` become null, numpy
    scalars Python ones.

    >>> import numpy as np
    >>> values = (float("nan"), np.int64(3), np.float64(0.5), pd.NA, pd.NaT, "FR", None)
    >>> [json_value(v) for v in values]
    [None, 3, 0.5, None, None, 'FR', None]
    """
    if value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if hasattr(value, "item"):
        return json_value(value.item())
    if value is None or (not isinstance(value, str | bool | int | float) and value != value):
        return None
    return value


def json_records(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows under a header row as JSON objects, each cell through :func:`json_value`.

    >>> json_records(["area", "value"], [["FR", float("nan")]])
    [{'area': 'FR', 'value': None}]
    """
    return [
        {str(name): json_value(cell) for name, cell in zip(header, row, strict=True)}
        for row in rows
    ]
