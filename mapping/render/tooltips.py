"""What an area's tooltip says: the rows after the value and the class, as plain text.

The texts are computed here, in Python, and the page only puts them into DOM nodes with
``textContent`` (``choropleth_layer.js``): no text of an area can become markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TooltipField:
    """One row of an area's tooltip.

    Attributes
    ----------
    column : str
        The column of the areas frame shown in the row.
    label : str
        The row's label.
    of_column : str, optional
        A column shown as "x of y", e.g. the centres expected after the centres responding.
    source_column, year_column : str, optional
        Columns named in brackets after the value, e.g. the denominator's source and year:
        "5,123,000 (Eurostat demo_r_pjan, 2023)".
    """

    column: str
    label: str
    of_column: str | None = None
    source_column: str | None = None
    year_column: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the row reads."""
        optional = (self.of_column, self.source_column, self.year_column)
        return (self.column, *(column for column in optional if column is not None))


INDICATOR_TOOLTIP: tuple[TooltipField, ...] = (
    TooltipField("numerator", "Numerator"),
    TooltipField(
        "denominator",
        "Denominator",
        source_column="denominator_source",
        year_column="denominator_year",
    ),
    TooltipField("responding", "Centres responding", of_column="expected"),
)
"""The rows of an indicator map's tooltip, after the value: numerator, denominator with its
source and year, and the centres responding out of those expected; the column names of
:func:`mapping.indicators.indicator_by_area`."""


def tooltip_rows(
    frame: gpd.GeoDataFrame,
    value_col: str,
    value_label: str,
    tooltip_fields: Sequence[TooltipField],
) -> tuple[list[str], list[list[str]]]:
    """The tooltip labels, and each area's texts (the class label is looked up in the page).

    A source and year that are the same for every area go into the row's label, once, rather
    than into every area's text.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame(
    ...     {"value": [1.5], "numerator": [3]}, geometry=[box(0, 0, 1, 1)], crs=4326
    ... )
    >>> tooltip_rows(frame, "value", "PET per million", [TooltipField("numerator", "Units")])
    (['PET per million', 'Class', 'Units'], [['1.50', '3']])
    """
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    labels = [value_label, "Class"]
    per_area_notes = []
    for field in tooltip_fields:
        notes = {_field_note(record, field) for record in records}
        shared = len(notes) == 1 and "" not in notes
        labels.append(f"{field.label} ({notes.pop()})" if shared else field.label)
        per_area_notes.append(not shared)
    rows = []
    for record in records:
        texts = [format_number(record[value_col])]
        for field, with_note in zip(tooltip_fields, per_area_notes, strict=True):
            texts.append(_field_text(record, field, with_note=with_note))
        rows.append(texts)
    return labels, rows


def format_number(value: Any) -> str:
    """A number as a tooltip shows it: thousands separators, few decimals, "no data" if NaN.

    Examples
    --------
    >>> format_number(1234567), format_number(12.5), format_number(float("nan"))
    ('1,234,567', '12.50', 'no data')
    """
    if is_missing(value):
        return "no data"
    if isinstance(value, str):
        return value
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    magnitude = abs(number)
    decimals = 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{number:,.{decimals}f}"


def as_text(value: Any) -> str:
    """A value as text, and a missing value as an empty string.

    Examples
    --------
    >>> as_text("Wien"), as_text(None), as_text(float("nan"))
    ('Wien', '', '')
    """
    return "" if is_missing(value) else str(value)


def is_missing(value: Any) -> bool:
    """Whether a cell holds no value (None, NA, NaT or NaN).

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0)
    (True, True, False)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _field_text(record: Mapping[str, Any], field: TooltipField, *, with_note: bool) -> str:
    value = record[field.column]
    if is_missing(value):
        return "no data"
    text = format_number(value)
    if field.of_column is not None and not is_missing(record[field.of_column]):
        text = f"{text} of {format_number(record[field.of_column])}"
    note = _field_note(record, field) if with_note else ""
    return f"{text} ({note})" if note else text


def _field_note(record: Mapping[str, Any], field: TooltipField) -> str:
    """The source and year of a row's value, e.g. "Eurostat demo_r_pjan, 2023"."""
    notes = []
    if field.source_column is not None and not is_missing(record[field.source_column]):
        notes.append(as_text(record[field.source_column]))
    if field.year_column is not None and not is_missing(record[field.year_column]):
        notes.append(_format_year(record[field.year_column]))
    return ", ".join(notes)


def _format_year(value: Any) -> str:
    return str(int(value)) if isinstance(value, int | float | np.integer) else as_text(value)
