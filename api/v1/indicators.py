"""JSON routes of the analysis: indicators per area (JSON and GeoJSON), equity, access to care."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.auth import MapReader
from api.deps import AppSettings, DbSession
from api.problems import PROBLEM_RESPONSES
from mapping import service
from mapping.indicators import IndicatorSpec
from mapping.layers import web_layer, with_geometry
from surveys.campaigns.lifecycle import get_campaign
from surveys.policy import Actor, Role
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
    "expected",
    "responding",
    "coverage",
    "low_coverage",
    "no_data",
)


def _domains(actor: Actor) -> set[str] | None:
    return set(actor.domains) if actor.role is Role.DOMAIN_LEAD else None


def _clean(value: Any) -> Any:
    """JSON has no NaN: a missing value is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    if value is None or (not isinstance(value, str | bool | int | float) and value != value):
        return None
    return value


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
    expected: int
    responding: int
    coverage: float | None
    low_coverage: bool
    no_data: bool


class IndicatorValues(Schema):
    indicator: IndicatorRead
    level: str
    areas: list[AreaValue]


def _values(
    session: DbSession,
    settings: AppSettings,
    actor: Actor,
    slug: str,
    indicator: str,
    level: Literal["country", "nuts2"],
) -> tuple[IndicatorSpec, pd.DataFrame]:
    return service.indicator_values(
        session,
        get_campaign(session, slug),
        indicator,
        level=level,
        low_coverage_threshold=settings.low_coverage_threshold,
        domains=_domains(actor),
    )


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
    campaign = get_campaign(session, slug)
    return [_spec_read(s) for s in service.indicator_specs(session, campaign, _domains(actor))]


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
    spec, frame = _values(session, settings, actor, slug, indicator, level)
    rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return IndicatorValues(
        indicator=_spec_read(spec), level=level, areas=[AreaValue.model_validate(r) for r in rows]
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
    _, frame = _values(session, settings, actor, slug, indicator, level)
    areas = with_geometry(web_layer(session, level), frame)
    collection = json.loads(areas[[*GEOJSON_PROPERTIES, "geometry"]].to_json(na="null"))
    for feature in collection["features"]:
        feature.pop("id", None)
        feature["properties"] = {k: _clean(v) for k, v in feature["properties"].items()}
    return JSONResponse(collection, media_type="application/geo+json")


class EquityRead(Schema):
    areas_with_data: int
    gini: float | None
    gini_population_weighted: float | None
    theil: float | None
    theil_population_weighted: float | None
    theil_between: float | None
    theil_within: float | None
    max_min_ratio: float | None
    coefficient_of_variation: float | None
    coefficient_of_variation_weighted: float | None
    benchmark: float | None
    benchmark_kind: str | None
    benchmark_source: str | None
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
    spec, frame = _values(session, settings, actor, slug, indicator, level)
    groups = frame["area_code"].str[:2] if level == "nuts2" else frame["area_code"]
    summary = asdict(service.equity_summary(spec, frame, groups))
    summary["gaps"] = {k: _clean(v) for k, v in summary["gaps"].items()}
    return EquityRead.model_validate(
        {k: _clean(v) if not isinstance(v, dict) else v for k, v in summary.items()}
    )


class AccessRow(Schema):
    area_code: str
    population: float | None
    beyond_50km: float | None
    beyond_100km: float | None
    beyond_200km: float | None
    e2sfca_per_100k: float | None


@router.get("/{indicator}/access")
def indicator_access(
    session: DbSession, actor: MapReader, slug: str, indicator: str, level: LevelParam = "country"
) -> list[AccessRow]:
    """Share of the population beyond 50, 100 and 200 km of a centre offering it, and E2SFCA."""
    frame = service.access_to_care(
        session, get_campaign(session, slug), indicator, level=level, domains=_domains(actor)
    )
    return [
        AccessRow.model_validate({k: _clean(v) for k, v in row.items()})
        for row in frame.to_dict("records")
    ]
