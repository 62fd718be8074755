"""The sentences under a map or a figure: the areas, the denominators, the boundaries.

Pure: an indicator frame (:func:`mapping.indicators.indicator_by_area`) in, text out. Every
figure says where its denominators come from and of which year, as the table's rows give
them (see ``docs/maps.md``, section 6).
"""

from __future__ import annotations

import pandas as pd

from mapping.indicators import IndicatorSpec

BOUNDARIES_NOTE = "Boundaries: Natural Earth; NUTS © EuroGeographics."
LEVEL_LABELS = {"country": "by country", "nuts2": "by NUTS-2 region"}
"""The areas of a map, as its title says them."""


def denominator_note(spec: IndicatorSpec, frame: pd.DataFrame) -> str:
    """The denominators of an indicator frame in a sentence, with their sources and years.

    Examples
    --------
    >>> spec = IndicatorSpec("u", "f", "${units}", "sum", "population_per_million", {}, {})
    >>> frame = pd.DataFrame({"denominator": [5e6, 2e6, None, None],
    ...     "denominator_source": ["Eurostat", "Eurostat", None, None],
    ...     "denominator_year": pd.array([2024, 2024, None, None], dtype="Int64"),
    ...     "no_data": [False, False, False, True]})
    >>> denominator_note(spec, frame)  # the area without answers needs none
    'Population: Eurostat (2024); none for 1 area.'
    """
    if spec.aggregation in {"median", "mean", "share"} or spec.denominator == "none":
        return ""
    if spec.denominator == "centres_responding":
        return "Denominator: the centres that responded."
    # The areas with answers: an area without any has no value and needs no denominator.
    answered = frame[~frame["no_data"].astype(bool)] if "no_data" in frame else frame
    known = answered[answered["denominator"].notna()]
    counts: dict[str, int] = {}
    for source, year in zip(known["denominator_source"], known["denominator_year"], strict=True):
        text = "source unknown" if pd.isna(source) else str(source)
        text = text if pd.isna(year) else f"{text} ({int(year)})"
        counts[text] = counts.get(text, 0) + 1
    parts = [
        text if len(counts) == 1 else f"{text} for {_count_areas(count)}"
        for text, count in sorted(counts.items())
    ]
    missing = len(answered) - len(known)
    if missing:
        parts.append(f"none for {_count_areas(missing)}")
    return f"Population: {'; '.join(parts)}." if parts else ""


def sentences(*parts: str) -> str:
    """The non-empty parts, one after the other.

    Examples
    --------
    >>> sentences("Survey: 2026.", "", "Boundaries: GISCO.")
    'Survey: 2026. Boundaries: GISCO.'
    """
    return " ".join(part.strip() for part in parts if part.strip())


def _count_areas(count: int) -> str:
    return f"{count} area" if count == 1 else f"{count} areas"
