"""Official statistics beside the survey: importing a series, and comparing it with the survey.

A coordinator loads a series of official figures (area, year, indicator, value, source, flag)
with :func:`import_reference` (``accessgap reference import FILE``): checked whole first
(:mod:`mapping.reference_series`), written only when no row has a problem, audited as
``reference.import``. :func:`survey_vs_official` puts the survey's figure of each area beside
the official one of the closest year: for an indicator that adds up counts (``sum``,
``count_yes``) the survey's count beside the official count, else the two values. The
*capture ratio* is survey / official: how much of what the official statistics count the
survey found. A ratio beyond :data:`DISAGREEMENT_RATIO` either way is flagged; where few of the
expected centres answered, the note says that this alone may explain an undercount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping import queries
from mapping.imports import known_areas
from mapping.indicators import IndicatorSpec
from mapping.queries import Level
from mapping.reference_series import check_reference_file
from mapping.service import MapRequest, indicator_map
from surveys.audit.service import record
from surveys.errors import InvalidInput, RowProblem
from surveys.policy import Actor, Permission, authorize
from surveys.registry.models import ReferenceFigure

REFERENCE_IMPORTED = "reference.import"
DISAGREEMENT_RATIO = 1.5
"""A capture ratio above 1.5 or below 1/1.5 (0.67) is a large disagreement."""
COUNTED = ("sum", "count_yes")
"""Aggregations whose survey figure is a count, compared with an official count."""
COMPARISON_COLUMNS = [
    "area_code",
    "area_name",
    "survey",
    "official",
    "official_year",
    "official_source",
    "official_flag",
    "capture_ratio",
    "disagreement",
    "responding",
    "expected",
    "coverage",
    "low_coverage",
    "note",
]


class ReferenceFileRefused(InvalidInput):
    """A reference series with problems; nothing was written. ``problems`` lists them by row."""

    code = "reference_file_refused"

    def __init__(self, detail: str, problems: list[RowProblem]) -> None:
        super().__init__(detail)
        self.problems = problems


@dataclass(frozen=True)
class ReferenceImport:
    """What an import wrote: figures new and replaced, per indicator the areas it covers."""

    created: int
    updated: int
    areas_by_indicator: dict[str, int]


def import_reference(
    session: Session, actor: Actor, path: Path, *, request_id: str | None = None
) -> ReferenceImport:
    """Load a series of official figures, all rows or none, and audit it.

    Raises :class:`ReferenceFileRefused` (nothing written, nothing recorded) when any row has a
    problem; its ``problems`` name each by row and column.
    """
    authorize(actor, Permission.REGISTRY_WRITE)
    checked = check_reference_file(
        path, known_areas(session), queries.declared_indicator_ids(session)
    )
    if checked.problems:
        raise ReferenceFileRefused(
            f"{path.name}: {len(checked.problems)} problem(s); nothing was imported.",
            checked.problems,
        )
    stored = {
        (f.area_code, f.year, f.indicator, f.source): f
        for f in session.scalars(select(ReferenceFigure))
    }
    created = updated = 0
    areas: dict[str, set[str]] = {}
    for figure in checked.figures:
        key = (figure.area_code, figure.year, figure.indicator, figure.source)
        row = stored.get(key)
        if row is None:
            row = ReferenceFigure(
                area_code=figure.area_code,
                year=figure.year,
                indicator=figure.indicator,
                source=figure.source,
            )
            session.add(row)
            created += 1
        else:
            updated += 1
        row.area_level = figure.area_level
        row.value = figure.value
        row.flag = figure.flag
        row.nuts_version = figure.nuts_version
        areas.setdefault(figure.indicator, set()).add(figure.area_code)
    session.flush()
    result = ReferenceImport(created, updated, {k: len(v) for k, v in sorted(areas.items())})
    record(
        session,
        actor=actor,
        action=REFERENCE_IMPORTED,
        object_type="reference_figure",
        details={
            "count": created + updated,
            "created": created,
            "indicators": result.areas_by_indicator,
            "file": path.name,
        },
        request_id=request_id,
    )
    return result


@dataclass(frozen=True)
class OfficialComparison:
    """The survey beside the official statistics for one indicator, campaign and level.

    ``rows`` is a frame with :data:`COMPARISON_COLUMNS`, one row per area of the study with an
    official figure, largest disagreements first. ``terms`` says what is compared ("count of
    the numerator" or "value"). A plain data object: pages, the CSV and a report read it alike.
    """

    campaign: str
    campaign_name: str
    indicator: str
    label: str
    terms: str
    unit: str
    reference_year: int
    level: Level
    rows: pd.DataFrame

    @property
    def flagged(self) -> pd.DataFrame:
        """The areas whose survey and official figures disagree by more than the threshold."""
        return self.rows[self.rows["disagreement"]]

    @property
    def sources(self) -> list[str]:
        """The official sources shown, each once."""
        return sorted(set(self.rows["official_source"]))

    def table_rows(self) -> list[list[Any]]:
        """A header row, then one row per area (missing values as None)."""
        frame = self.rows
        values = frame.astype(object).where(frame.notna(), None).values.tolist()
        return [list(frame.columns), *values]


def survey_vs_official(
    session: Session, actor: Actor, campaign: str, indicator: str, *, level: Level = "country"
) -> OfficialComparison:
    """The survey's figure of each area beside the official one of the closest year."""
    authorize(actor, Permission.MAPS_READ)
    result = indicator_map(session, actor, MapRequest(campaign, indicator, level, geometry="none"))
    official = queries.reference_figures(session, indicator, level)
    rows = compare_with_official(result.frame, official, result.spec, result.reference_year)
    return OfficialComparison(
        campaign=result.campaign.slug,
        campaign_name=result.campaign.name,
        indicator=indicator,
        label=result.label,
        terms=compared_terms(result.spec),
        unit=result.unit,
        reference_year=result.reference_year,
        level=level,
        rows=rows,
    )


def compared_terms(spec: IndicatorSpec) -> str:
    """What the comparison puts side by side for this indicator."""
    if spec.aggregation == "sum":
        return "count (the total the indicator divides)"
    if spec.aggregation == "count_yes":
        return "count of centres offering it"
    return "value"


def compare_with_official(
    frame: pd.DataFrame,
    official: pd.DataFrame,
    spec: IndicatorSpec,
    reference_year: int,
    *,
    ratio: float = DISAGREEMENT_RATIO,
) -> pd.DataFrame:
    """Pure: the indicator frame beside the official figures (closest year to the survey's).

    Examples
    --------
    >>> frame = pd.DataFrame({"area_code": ["FR", "DE"], "area_name": ["France", "Germany"],
    ...     "value": [1.0, 2.0], "numerator": [90.0, 300.0], "responding": [9, 20],
    ...     "expected": [10, 40], "coverage": [0.9, 0.5], "low_coverage": [False, False]})
    >>> official = pd.DataFrame({"area_code": ["FR", "FR", "DE"], "year": [2020, 2024, 2024],
    ...     "value": [80.0, 100.0, 700.0], "source": ["S", "S", "S"], "flag": ["", "", "e"]})
    >>> spec = IndicatorSpec("u", "f", "${u}", "sum", "population_per_million", {}, {})
    >>> rows = compare_with_official(frame, official, spec, 2025)
    >>> rows[["area_code", "official_year", "capture_ratio", "disagreement"]].values.tolist()
    [['DE', 2024, 0.43, True], ['FR', 2024, 0.9, False]]
    """
    column = "numerator" if spec.aggregation in COUNTED else "value"
    chosen = _closest_year(official, reference_year)
    rows = []
    for record_ in frame.to_dict("records"):
        area: dict[str, Any] = {str(k): v for k, v in record_.items()}
        found = chosen.get(str(area["area_code"]))
        if found is None:
            continue
        survey = float(area[column])
        official_value = float(found["value"])
        capture = (
            round(survey / official_value, 2)
            if official_value > 0 and not math.isnan(survey)
            else math.nan
        )
        disagreement = not math.isnan(capture) and not 1 / ratio <= capture <= ratio
        rows.append(
            {
                "area_code": area["area_code"],
                "area_name": area["area_name"],
                "survey": survey,
                "official": official_value,
                "official_year": int(found["year"]),
                "official_source": str(found["source"]),
                "official_flag": str(found["flag"] or ""),
                "capture_ratio": capture,
                "disagreement": disagreement,
                "responding": int(area["responding"]),
                "expected": int(area["expected"]),
                "coverage": float(area["coverage"]),
                "low_coverage": bool(area["low_coverage"]),
                "note": _note(survey, capture, disagreement, area, ratio),
            }
        )
    result = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    distance = (result["capture_ratio"].astype(float).map(math.log).abs()).fillna(-1.0)
    order = sorted(range(len(result)), key=lambda i: (-distance.iloc[i], result["area_code"][i]))
    return result.iloc[order].reset_index(drop=True)


def _closest_year(official: pd.DataFrame, year: int) -> dict[str, pd.Series]:
    """Each area's official figure of the year closest to ``year`` (the later one on a tie)."""
    chosen: dict[str, pd.Series] = {}
    for code, figures in official.groupby("area_code", sort=True):
        ranked = figures.assign(
            distance=(figures["year"] - year).abs(), later=-figures["year"]
        ).sort_values(["distance", "later", "source"])
        chosen[str(code)] = ranked.iloc[0]
    return chosen


def _note(
    survey: float, capture: float, disagreement: bool, area: dict[str, Any], ratio: float
) -> str:
    if math.isnan(survey):
        return "No centre of the area has answered."
    if math.isnan(capture):
        return "The official figure is zero: no ratio."
    if not disagreement:
        return ""
    direction = "more" if capture > 1 else "less"
    text = f"The survey finds {direction} than the official figure (ratio {capture:.2f})."
    if capture < 1 and (bool(area["low_coverage"]) or float(area["coverage"]) < 1 / ratio):
        text += (
            f" Only {int(area['responding'])} of {int(area['expected'])} expected centres answered,"
            " which alone may explain it."
        )
    return text
