"""JSON routes of the analysis: indicators per area (JSON and GeoJSON), equity, access to care.

Each route is one call of :func:`mapping.service.indicator_map` (the map pages call the same),
then a translation of its result into JSON. Plain ``def`` handlers: the database work runs in the
thread pool, never on the event loop.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from api.problems import PROBLEM_RESPONSES
from api.v1.json_values import json_value
from mapping import service
from mapping.indicators import IndicatorSpec
from mapping.queries import Level
from surveys.policy import Actor
from surveys.schemas import Schema

router = APIRouter(
    prefix="/campaigns/{slug}/indicators", tags=["analysis"], responses=PROBLEM_RESPONSES
)
LevelParam = Annotated[Literal["country", "nuts2"], Query()]
GEOJSON_PROPERTIES = (
    "area_code",
    "area_name",
    "value",
    "numerator",
    "denominator",
    "denominator_source",
    "denominator_year",
    "denominator_standin",
    "expected",
    "responding",
    "coverage",
    "low_coverage",
    "no_data",
    "in_study",
)


class IndicatorRead(Schema):
    id: str
    form_id: str
    label: dict[str, str]
    unit: dict[str, str]
    aggregation: str
    denominator: str
    higher_is_better: bool


class AreaValue(Schema):
    area_code: str
    area_name: str
    value: float | None
    numerator: float | None
    denominator: float | None
    denominator_kind: str
    denominator_source: str | None
    denominator_year: int | None
    denominator_standin: bool
    expected: int
    responding: int
    coverage: float | None
    low_coverage: bool
    no_data: bool


class DenominatorsRead(Schema):
    """What the values are divided by: the campaign's reference year (each area takes the
    figure of the closest year), the sources and years in use, and the stand-ins."""

    reference_year: int
    note: str
    areas_on_standins: list[str]
    standin_share: float
    warning: str | None


class IndicatorValues(Schema):
    indicator: IndicatorRead
    level: str
    denominators: DenominatorsRead
    areas: list[AreaValue]


def _map(
    session: DbSession,
    settings: AppSettings,
    actor: Actor,
    slug: str,
    indicator: str,
    level: Level,
    *,
    geometry: service.Geometry = "none",
    with_access: bool = False,
) -> service.IndicatorMap:
    """The one computation behind every route: the indicator's map, as the pages get it."""
    asked = service.MapRequest(
        slug,
        indicator,
        level,
        low_coverage_threshold=settings.low_coverage_threshold,
        geometry=geometry,
        with_access=with_access,
    )
    return service.indicator_map(session, actor, asked)


def _spec_read(spec: IndicatorSpec) -> IndicatorRead:
    return IndicatorRead(
        id=spec.id,
        form_id=spec.form_id,
        label=dict(spec.label),
        unit=dict(spec.unit),
        aggregation=spec.aggregation,
        denominator=spec.denominator,
        higher_is_better=spec.higher_is_better,
    )


@router.get("")
def list_indicators(session: DbSession, actor: MapReader, slug: str) -> list[IndicatorRead]:
    """The indicators the campaign's questionnaires declare (a domain lead's domains only)."""
    return [_spec_read(s) for s in service.indicator_specs(session, actor, slug)]


@router.get("/{indicator}")
def indicator_values(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    level: LevelParam = "country",
) -> IndicatorValues:
    """The indicator per area: value, numerator, denominator with source and year, coverage."""
    data = _map(session, settings, actor, slug, indicator, level)
    rows = [{k: json_value(v) for k, v in row.items()} for row in data.frame.to_dict("records")]
    return IndicatorValues(
        indicator=_spec_read(data.spec),
        level=level,
        denominators=DenominatorsRead(
            reference_year=data.reference_year,
            note=data.denominators.note(),
            areas_on_standins=list(data.denominators.standins),
            standin_share=data.denominators.standin_share,
            warning=data.denominators.warning,
        ),
        areas=[AreaValue.model_validate(r) for r in rows],
    )


@router.get(
    "/{indicator}/geojson",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def indicator_geojson(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    level: LevelParam = "country",
) -> JSONResponse:
    """The indicator per area as GeoJSON (EPSG:4326, simplified for the web)."""
    areas = _map(session, settings, actor, slug, indicator, level, geometry="web").geometry()
    collection = json.loads(areas[[*GEOJSON_PROPERTIES, "geometry"]].to_json(na="null"))
    for feature in collection["features"]:
        feature.pop("id", None)
        feature["properties"] = {k: json_value(v) for k, v in feature["properties"].items()}
    return JSONResponse(collection, media_type="application/geo+json")


class EquityRead(Schema):
    """The equity figures of a map.

    ``max_min_ratio`` is ``"unbounded"`` when the lowest area has none (a zero minimum) and
    ``null`` when undefined: no area has data (``areas_with_data`` is 0), or every area has
    zero. The ``*_population_weighted`` and ``*_weighted`` figures are ``null`` for an indicator
    that is not a rate per inhabitant or per new cancer case (``weighted_by`` is ``null``; it
    says what they are weighted by). ``gaps`` are shortfalls below the benchmark, or excesses
    over it when lower is better (``gap_kind``).
    """

    areas_with_data: int
    gini: float | None
    gini_population_weighted: float | None
    theil: float | None
    theil_population_weighted: float | None
    theil_between: float | None
    theil_within: float | None
    max_min_ratio: float | Literal["unbounded"] | None
    coefficient_of_variation: float | None
    coefficient_of_variation_weighted: float | None
    weighted_by: Literal["population", "new cancer cases"] | None
    benchmark: float | None
    benchmark_kind: str | None
    benchmark_label: str | None
    benchmark_source: str | None
    benchmark_areas_with_data: int | None
    benchmark_areas: int | None
    higher_is_better: bool
    gap_kind: Literal["shortfall", "excess"]
    gaps: dict[str, float | None]
    units_needed: dict[str, int]


@router.get("/{indicator}/equity")
def indicator_equity(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    level: LevelParam = "country",
) -> EquityRead:
    """Gini, Theil (between and within countries for regions), max/min, CV, benchmark gaps."""
    data = _map(session, settings, actor, slug, indicator, level)
    summary = {
        k: json_value(v) if not isinstance(v, dict) else v for k, v in asdict(data.equity).items()
    }
    summary["gaps"] = {k: json_value(v) for k, v in summary["gaps"].items()}
    if data.equity.unbounded_ratio:
        summary["max_min_ratio"] = "unbounded"
    return EquityRead.model_validate({**summary, "gap_kind": data.equity.gap_kind})


class AccessRow(Schema):
    area_code: str
    population: float | None
    beyond_50km: float | None
    beyond_100km: float | None
    beyond_200km: float | None
    e2sfca_per_100k: float | None


@router.get("/{indicator}/access")
def indicator_access(
    session: DbSession,
    settings: AppSettings,
    actor: MapReader,
    slug: str,
    indicator: str,
    level: LevelParam = "country",
) -> list[AccessRow]:
    """Share of the population beyond 50, 100 and 200 km of a centre offering it, and E2SFCA."""
    data = _map(session, settings, actor, slug, indicator, level, with_access=True)
    return [
        AccessRow.model_validate({"area_code": code, **{k: json_value(v) for k, v in row.items()}})
        for code, row in data.access_by_area().items()
    ]
