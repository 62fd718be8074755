"""Survey waves: the change of an indicator between two campaigns of the same questionnaire,
and its time series over every wave.

Campaigns that ask the same questionnaire are its waves (:func:`mapping.queries.waves_of_form`),
oldest first. :func:`wave_change` puts each area's value in an earlier and a later wave side by
side with the change, where the indicator is comparable (:mod:`mapping.wave_comparability`: the
indicator and the questions it reads did not change between the two versions); where it is not,
both values are shown, no change is computed, and the reasons say why. :func:`wave_series` gives
every wave's value per area, and whether each wave compares with the one before. The results
are plain data objects that a page, a CSV and a report read alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from mapping import layers, queries
from mapping.classify import Classification, Scheme, classify
from mapping.errors import IndicatorNotFound
from mapping.queries import Level
from mapping.service import IndicatorMap, MapRequest, indicator_map
from mapping.wave_comparability import Comparability, indicator_comparability
from surveys.campaigns.models import Campaign
from surveys.errors import InvalidInput
from surveys.policy import Actor, Permission, authorize

CHANGE_COLUMNS = [
    "area_code",
    "area_name",
    "before",
    "after",
    "change",
    "change_percent",
    "before_responding",
    "after_responding",
    "low_coverage",
    "no_data",
]


class NoEarlierWave(InvalidInput):
    """The campaign is the first wave of the indicator's questionnaire: nothing to compare."""

    code = "no_earlier_wave"


@dataclass(frozen=True)
class Wave:
    """One campaign as a wave: its slug, name and the year its figures refer to."""

    slug: str
    name: str
    reference_year: int


@dataclass(frozen=True, eq=False)
class WaveChange:
    """One indicator in two waves: both values per area and, where comparable, the change.

    ``rows`` has :data:`CHANGE_COLUMNS`; ``change`` is empty (NaN) everywhere when the waves do
    not compare, and for an area without a value in either wave. ``low_coverage`` is true when
    either wave's value rests on few answers. ``classification`` classes the change for a map;
    ``areas`` is the change on geometry when asked.
    """

    indicator: str
    label: str
    unit: str
    lower_is_better: bool
    level: Level
    before: Wave
    after: Wave
    comparability: Comparability
    rows: pd.DataFrame
    classification: Classification
    areas: gpd.GeoDataFrame | None = None

    @property
    def value_label(self) -> str:
        """What a change is: "Change in PET/CT per million (units per million), 2024 to 2026"."""
        unit = f" ({self.unit})" if self.unit else ""
        return (
            f"Change in {self.label}{unit}, "
            f"{self.before.reference_year} to {self.after.reference_year}"
        )

    @property
    def note(self) -> str:
        """The line under the map and the table."""
        return (
            f"Earlier wave: {self.before.name} (reference year {self.before.reference_year}). "
            f"Later wave: {self.after.name} (reference year {self.after.reference_year}). "
            f"{self.comparability.explanation}"
        )

    def geometry(self) -> gpd.GeoDataFrame:
        """The change on the areas' geometry; ValueError when it was computed without."""
        if self.areas is None:
            raise ValueError("the change was computed without geometry; ask for it")
        return self.areas

    def table_rows(self) -> list[list[Any]]:
        """A header row, then one row per area (missing values as None)."""
        frame = self.rows
        values = frame.astype(object).where(frame.notna(), None).values.tolist()
        return [list(frame.columns), *values]


@dataclass(frozen=True, eq=False)
class WaveSeries:
    """An indicator in every wave of its questionnaire: one row per area and wave.

    ``frame`` has ``area_code``, ``area_name``, ``wave`` (slug), ``reference_year``, ``value``,
    ``low_coverage``; ``comparable`` says, for each wave after the first, whether it compares
    with the wave before it, and ``reasons`` why not.
    """

    indicator: str
    label: str
    waves: tuple[Wave, ...]
    comparable: dict[str, Comparability]
    frame: pd.DataFrame

    def by_area(self) -> list[dict[str, Any]]:
        """Per area (by name): its values in wave order (None where it has none)."""
        table: dict[str, dict[str, Any]] = {}
        for row in self.frame.to_dict("records"):
            code = str(row["area_code"])
            entry = table.setdefault(code, {"area_code": code, "area_name": row["area_name"]})
            value = float(row["value"])
            entry[str(row["wave"])] = None if math.isnan(value) else value
        return sorted(table.values(), key=lambda e: str(e["area_name"]))


def earlier_waves(session: Session, actor: Actor, campaign: str, indicator: str) -> list[Wave]:
    """The waves before ``campaign`` that ask the indicator's questionnaire, newest first."""
    authorize(actor, Permission.MAPS_READ)
    later = queries.campaign(session, campaign)
    form_id = _form_of(session, actor, later, indicator)
    waves = queries.waves_of_form(session, form_id)
    before = waves[: [w.id for w in waves].index(later.id)] if later in waves else []
    return [_wave(c, None) for c in reversed(before)]


def wave_change(
    session: Session,
    actor: Actor,
    after: str,
    indicator: str,
    *,
    before: str | None = None,
    level: Level = "country",
    scheme: Scheme = "quantiles",
    classes: int = 5,
    low_coverage_threshold: float = 0.5,
    geometry: bool = False,
) -> WaveChange:
    """The indicator in an earlier wave (``before``; the previous one by default) and in
    ``after``, with the change per area where the two compare.

    Raises :class:`NoEarlierWave` when ``after`` is the questionnaire's first wave.
    """
    authorize(actor, Permission.MAPS_READ)
    later = queries.campaign(session, after)
    form_id = _form_of(session, actor, later, indicator)
    if before is None:
        waves = queries.waves_of_form(session, form_id)
        ids = [w.id for w in waves]
        position = ids.index(later.id) if later.id in ids else 0
        if position == 0:
            raise NoEarlierWave(
                f"{later.name} is the first wave of this questionnaire; there is no earlier "
                "wave to compare with."
            )
        before = waves[position - 1].slug
    earlier = queries.campaign(session, before)
    request = MapRequest(
        after, indicator, level, low_coverage_threshold=low_coverage_threshold, geometry="none"
    )
    after_map = indicator_map(session, actor, request)
    comparability, before_map = _earlier(session, actor, earlier, later, request, form_id)
    rows = change_by_area(
        before_map.frame if before_map else None,
        after_map.frame,
        comparable=comparability.comparable,
    )
    indexed = rows.set_index("area_code")
    classification = classify(
        indexed["change"].astype(float),
        scheme,
        classes,
        low_coverage=indexed["low_coverage"].astype(bool),
    )
    areas = None
    if geometry:
        areas = layers.with_geometry(
            layers.web_layer(session, level), rows.assign(value=rows["change"])
        )
    return WaveChange(
        indicator=indicator,
        label=after_map.label,
        unit=after_map.unit,
        lower_is_better=after_map.spec.lower_is_better,
        level=level,
        before=_wave(earlier, before_map),
        after=_wave(later, after_map),
        comparability=comparability,
        rows=rows,
        classification=classification,
        areas=areas,
    )


def wave_series(
    session: Session,
    actor: Actor,
    campaign: str,
    indicator: str,
    *,
    level: Level = "country",
    low_coverage_threshold: float = 0.5,
) -> WaveSeries:
    """The indicator in every wave of its questionnaire up to ``campaign``, oldest first."""
    authorize(actor, Permission.MAPS_READ)
    last = queries.campaign(session, campaign)
    form_id = _form_of(session, actor, last, indicator)
    waves = queries.waves_of_form(session, form_id)
    waves = waves[: [w.id for w in waves].index(last.id) + 1] if last in waves else [last]
    frames: list[pd.DataFrame] = []
    described: list[Wave] = []
    comparable: dict[str, Comparability] = {}
    previous: dict[str, Any] | None = None
    for campaign_ in waves:
        definition = queries.campaign_definition(session, campaign_, form_id) or {}
        declared = any(i.get("id") == indicator for i in definition.get("indicators", []))
        if previous is not None:
            comparable[campaign_.slug] = indicator_comparability(previous, definition, indicator)
        previous = definition
        if not declared:
            described.append(_wave(campaign_, None))
            continue
        result = indicator_map(
            session,
            actor,
            MapRequest(
                campaign_.slug,
                indicator,
                level,
                low_coverage_threshold=low_coverage_threshold,
                geometry="none",
            ),
        )
        described.append(_wave(campaign_, result))
        frames.append(
            result.frame[["area_code", "area_name", "value", "low_coverage"]].assign(
                wave=campaign_.slug, reference_year=result.reference_year
            )
        )
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            columns=["area_code", "area_name", "value", "low_coverage", "wave", "reference_year"]
        )
    )
    return WaveSeries(
        indicator, _label(session, actor, last, indicator), tuple(described), comparable, frame
    )


def change_by_area(
    before: pd.DataFrame | None, after: pd.DataFrame, *, comparable: bool
) -> pd.DataFrame:
    """Pure: each area's values in two waves (indicator frames) and the change between them.

    Examples
    --------
    >>> after = pd.DataFrame({"area_code": ["FR", "DE"], "area_name": ["France", "Germany"],
    ...     "value": [3.0, None], "responding": [4, 0], "low_coverage": [False, False]})
    >>> before = after.assign(value=[2.0, 1.0], responding=[2, 1])
    >>> change_by_area(before, after, comparable=True)[["area_code", "change"]].values.tolist()
    [['DE', nan], ['FR', 1.0]]
    """
    columns = ["area_code", "area_name", "value", "responding", "low_coverage"]
    later = after[columns].rename(
        columns={"value": "after", "responding": "after_responding", "low_coverage": "low_after"}
    )
    if before is None:
        earlier = pd.DataFrame(
            {
                "area_code": later["area_code"],
                "before": math.nan,
                "before_responding": 0,
                "low_before": False,
            }
        )
    else:
        earlier = (
            before[columns]
            .drop(columns=["area_name"])
            .rename(
                columns={
                    "value": "before",
                    "responding": "before_responding",
                    "low_coverage": "low_before",
                }
            )
        )
    merged = later.merge(earlier, on="area_code", how="left")
    merged["before"] = merged["before"].astype(float)
    merged["after"] = merged["after"].astype(float)
    merged["before_responding"] = merged["before_responding"].fillna(0).astype(int)
    merged["change"] = (merged["after"] - merged["before"]) if comparable else math.nan
    merged["change_percent"] = [
        (change / b * 100) if comparable and b and not math.isnan(change) else math.nan
        for change, b in zip(merged["change"], merged["before"], strict=True)
    ]
    merged["low_coverage"] = merged["low_before"].fillna(False).astype(bool) | merged[
        "low_after"
    ].astype(bool)
    merged["no_data"] = merged["change"].isna()
    return merged[CHANGE_COLUMNS].sort_values("area_code").reset_index(drop=True)


def _earlier(
    session: Session,
    actor: Actor,
    earlier: Campaign,
    later: Campaign,
    request: MapRequest,
    form_id: str,
) -> tuple[Comparability, IndicatorMap | None]:
    old = queries.campaign_definition(session, earlier, form_id)
    new = queries.campaign_definition(session, later, form_id) or {}
    if old is None:
        return Comparability(False, (f"{earlier.name} does not ask this questionnaire",)), None
    comparability = indicator_comparability(old, new, request.indicator)
    try:
        before_map = indicator_map(session, actor, replace(request, campaign=earlier.slug))
    except IndicatorNotFound:
        return comparability, None
    return comparability, before_map


def _form_of(session: Session, actor: Actor, campaign: Campaign, indicator: str) -> str:
    for declared in queries.declared_indicators(session, actor, campaign):
        if declared.spec.id == indicator:
            return declared.spec.form_id
    raise IndicatorNotFound(f"The campaign declares no indicator {indicator!r}.")


def _label(session: Session, actor: Actor, campaign: Campaign, indicator: str) -> str:
    for declared in queries.declared_indicators(session, actor, campaign):
        if declared.spec.id == indicator:
            return declared.spec.label.get("en") or indicator
    return indicator


def _wave(campaign: Campaign, result: IndicatorMap | None) -> Wave:
    year = (
        result.reference_year
        if result is not None
        else ((campaign.opens_at or campaign.created_at).year)
    )
    return Wave(campaign.slug, campaign.name, year)
