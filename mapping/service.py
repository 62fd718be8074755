"""The I/O side of analysis: read responses, registry and reference data, hand frames to the
pure functions of :mod:`mapping.indicators` and :mod:`mapping.equity`, and load official
boundaries and populations into the registry.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping as shape_to_geojson
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping import equity
from mapping.boundaries import assign_regions, read_nuts_geojson
from mapping.indicators import IndicatorSpec, indicator_by_area
from mapping.reference import load_country_population
from surveys.campaigns.models import Campaign, CampaignCentre, CampaignQuestionnaire
from surveys.errors import InvalidInput, NotFound
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country, Population, Region
from surveys.responses.models import FINAL_STATUSES, Response

Level = Literal["country", "nuts2"]
NUTS_LEVEL_NAMES = {0: "nuts0", 1: "nuts1", 2: "nuts2", 3: "nuts3"}


class IndicatorNotFound(NotFound):
    code = "indicator_not_found"


class NoRegions(InvalidInput):
    code = "regions_not_loaded"


def indicator_specs(
    session: Session, campaign: Campaign, domains: set[str] | None = None
) -> list[IndicatorSpec]:
    """Every indicator declared by the campaign's questionnaires (of ``domains`` when given)."""
    query = (
        select(QuestionnaireVersion)
        .join(
            CampaignQuestionnaire,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(CampaignQuestionnaire.campaign_id == campaign.id)
        .order_by(QuestionnaireVersion.id)
    )
    if domains is not None:
        query = query.where(Questionnaire.domain.in_(domains))
    versions = session.scalars(query)
    specs = []
    for version in versions:
        form_id = version.definition["settings"]["form_id"]
        specs += [
            IndicatorSpec.from_definition(form_id, item)
            for item in version.definition.get("indicators", [])
        ]
    return specs


def indicator_spec(
    session: Session, campaign: Campaign, indicator_id: str, domains: set[str] | None = None
) -> IndicatorSpec:
    for spec in indicator_specs(session, campaign, domains):
        if spec.id == indicator_id:
            return spec
    raise IndicatorNotFound(f"The campaign declares no indicator {indicator_id!r}.")


def domain_of(session: Session, spec: IndicatorSpec) -> str | None:
    return session.scalar(select(Questionnaire.domain).where(Questionnaire.form_id == spec.form_id))


def _area_column(level: Level) -> Any:
    return Country.iso2 if level == "country" else Region.code


def _responses(
    session: Session, campaign: Campaign, spec: IndicatorSpec, level: Level
) -> pd.DataFrame:
    area = _area_column(level)
    query = (
        select(area, Response.centre_id, Response.answers)
        .join(Centre, Centre.id == Response.centre_id)
        .join(Country, Country.id == Centre.country_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status.in_(FINAL_STATUSES),
            Questionnaire.form_id == spec.form_id,
        )
    )
    if level == "nuts2":
        query = query.join(Region, Region.id == Centre.region_id)
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["area_code", "centre_id", "answers"])


def _expected(session: Session, campaign: Campaign, level: Level) -> pd.DataFrame:
    area = _area_column(level)
    query = (
        select(area, CampaignCentre.centre_id)
        .join(Centre, Centre.id == CampaignCentre.centre_id)
        .join(Country, Country.id == Centre.country_id)
        .where(CampaignCentre.campaign_id == campaign.id)
    )
    if level == "nuts2":
        query = query.join(Region, Region.id == Centre.region_id)
    return pd.DataFrame(session.execute(query).all(), columns=["area_code", "centre_id"])


def areas_frame(session: Session, level: Level, codes: set[str] | None = None) -> pd.DataFrame:
    """The areas of a level with their population, its source and year.

    Countries take the latest imported figure (``accessgap geo import-population``) and fall
    back to the packaged GeoNames figure; regions need imported boundaries and figures.
    """
    imported = _imported_populations(session, "country" if level == "country" else "nuts2")
    if level == "country":
        packaged = load_country_population().set_index("iso2")
        rows: list[tuple[str, str, int | None, str | None, int | None]] = []
        for code, name in session.execute(select(Country.iso2, Country.name)):
            if codes is not None and code not in codes:
                continue
            value: int | None
            source: str | None
            year: int | None
            if code in imported:
                value, source, year = imported[code]
            elif code in packaged.index:
                record: dict[Any, Any] = packaged.loc[code].to_dict()
                value, source = int(record["population"]), str(record["source"])
                year = None if pd.isna(record["year"]) else int(record["year"])
            else:
                value, source, year = None, None, None
            rows.append((code, name, value, source, year))
    else:
        regions = session.execute(
            select(Region.code, Region.name).where(Region.level == 2).order_by(Region.code)
        ).all()
        approximate = {} if len(imported) >= len(regions) else _city_populations(session)
        rows = []
        for code, name in regions:
            if codes is not None and code not in codes:
                continue
            if code in imported:
                rows.append((code, name, *imported[code]))
            elif code in approximate:
                rows.append((code, name, approximate[code], CITY_POPULATION_SOURCE, None))
            else:
                rows.append((code, name, None, None, None))
    return pd.DataFrame(
        rows,
        columns=["area_code", "area_name", "population", "population_source", "population_year"],
    )


CITY_POPULATION_SOURCE = (
    "approximation: GeoNames places of 15,000+ inhabitants in the region; import official "
    "figures with 'accessgap geo import-population'"
)
_CITY_POPULATION_CACHE: dict[int, dict[str, int]] = {}


def _city_populations(session: Session) -> dict[str, int]:
    """A stand-in regional population until official figures are imported: the summed
    population of the packaged GeoNames places in each NUTS-2 region (an undercount, labelled
    as such wherever it is shown)."""
    from mapping.layers import area_layer
    from mapping.reference import load_cities

    regions = area_layer(session, "nuts2").rename(columns={"area_code": "nuts_id"})
    key = len(regions)
    if key not in _CITY_POPULATION_CACHE:
        cities = load_cities()
        points = gpd.GeoDataFrame(
            {"population": cities["population"]},
            geometry=gpd.points_from_xy(cities["longitude"], cities["latitude"]),
            crs="EPSG:4326",
        )
        points["region"] = assign_regions(points, regions).to_numpy()
        totals = points.dropna(subset=["region"]).groupby("region")["population"].sum()
        _CITY_POPULATION_CACHE[key] = {str(k): int(v) for k, v in totals.items()}
    return _CITY_POPULATION_CACHE[key]


def _imported_populations(session: Session, area_level: str) -> dict[str, tuple[int, str, int]]:
    latest: dict[str, tuple[int, str, int]] = {}
    query = select(Population).where(Population.area_level == area_level).order_by(Population.year)
    for row in session.scalars(query):
        latest[row.area_code] = (row.value, row.source, row.year)
    return latest


def indicator_values(
    session: Session,
    campaign: Campaign,
    indicator_id: str,
    *,
    level: Level = "country",
    low_coverage_threshold: float = 0.5,
    domains: set[str] | None = None,
) -> tuple[IndicatorSpec, pd.DataFrame]:
    """The indicator per area for a campaign, from submitted and approved responses only."""
    spec = indicator_spec(session, campaign, indicator_id, domains)
    if level == "nuts2" and session.scalar(select(Region.id).where(Region.level == 2)) is None:
        raise NoRegions(
            "No NUTS-2 regions are loaded; import them with "
            "'accessgap geo import-boundaries FILE --level 2'."
        )
    expected = _expected(session, campaign, level)
    areas = areas_frame(session, level, set(expected["area_code"]) if level == "country" else None)
    frame = indicator_by_area(
        _responses(session, campaign, spec, level),
        expected,
        areas,
        spec,
        low_coverage_threshold=low_coverage_threshold,
    )
    return spec, frame


@dataclass(frozen=True)
class EquitySummary:
    areas_with_data: int
    gini: float
    gini_population_weighted: float
    theil: float
    theil_population_weighted: float
    theil_between: float | None
    theil_within: float | None
    max_min_ratio: float
    coefficient_of_variation: float
    coefficient_of_variation_weighted: float
    benchmark: float | None
    benchmark_kind: str | None
    benchmark_source: str | None
    gaps: dict[str, float]
    units_needed: dict[str, int]


def equity_summary(
    spec: IndicatorSpec, frame: pd.DataFrame, groups: pd.Series | None = None
) -> EquitySummary:
    """Equity metrics across the areas that have data (no-data areas are left out)."""
    data = frame[~frame["no_data"] & frame["value"].notna()]
    values = data["value"].astype(float)
    weights = (
        data["denominator"].astype(float)
        if spec.denominator == "population_per_million"
        else pd.Series([1.0] * len(data), index=data.index)
    )
    weights = weights.where(weights.notna() & (weights > 0), 1.0)
    between = within = None
    if groups is not None and len(data):
        decomposition = equity.theil_decomposition(
            data.assign(group=groups.reindex(data.index).fillna(data["area_code"]), weight=weights),
            "value",
            "group",
            "weight",
        )
        between, within = decomposition.between, decomposition.within
    benchmark, kind, source = _benchmark(spec, values)
    gaps: dict[str, float] = {}
    needed: dict[str, int] = {}
    if benchmark is not None and len(data):
        gap = equity.gap_to_benchmark(values, benchmark)
        gaps = {code: float(g) for code, g in zip(data["area_code"], gap, strict=True)}
        if spec.denominator == "population_per_million" and spec.aggregation in {
            "sum",
            "count_yes",
        }:
            units = equity.units_needed(values, data["denominator"].astype(float), benchmark)
            needed = {
                code: int(u)
                for code, u in zip(data["area_code"], units, strict=True)
                if not pd.isna(u)
            }
    return EquitySummary(
        areas_with_data=len(data),
        gini=equity.gini(values) if len(data) else math.nan,
        gini_population_weighted=equity.gini(values, weights) if len(data) else math.nan,
        theil=equity.theil(values) if len(data) else math.nan,
        theil_population_weighted=equity.theil(values, weights) if len(data) else math.nan,
        theil_between=between,
        theil_within=within,
        max_min_ratio=equity.max_min_ratio(values) if len(data) else math.nan,
        coefficient_of_variation=equity.coefficient_of_variation(values) if len(data) else math.nan,
        coefficient_of_variation_weighted=equity.coefficient_of_variation(values, weights)
        if len(data)
        else math.nan,
        benchmark=benchmark,
        benchmark_kind=kind,
        benchmark_source=source,
        gaps=gaps,
        units_needed=needed,
    )


def _benchmark(
    spec: IndicatorSpec, values: pd.Series
) -> tuple[float | None, str | None, str | None]:
    declared = dict(spec.benchmark or {"kind": "eu_median"})
    kind = str(declared.get("kind"))
    if kind == "rate" and isinstance(declared.get("value"), int | float):
        return float(declared["value"]), kind, str(declared.get("source", "")) or None
    if kind in {"eu_median", "top_quartile"} and len(values):
        return equity.benchmark_value(values, kind), kind, "computed from the areas with data"  # type: ignore[arg-type]
    return None, None, None


def import_boundaries(session: Session, path: Path, *, level: int, nuts_version: str) -> int:
    """Load NUTS regions of one level from a GISCO GeoJSON file; returns how many were stored.

    At level 2, every centre with coordinates gets its NUTS-2 region by point-in-polygon.
    """
    regions = read_nuts_geojson(path)
    regions = regions[regions["level"] == level]
    if regions.empty:
        raise InvalidInput(f"{path.name} holds no NUTS level {level} region; check --level.")
    countries = {c.iso2: c.id for c in session.scalars(select(Country))}
    existing = {
        r.code: r
        for r in session.scalars(
            select(Region).where(Region.nuts_version == nuts_version, Region.level == level)
        )
    }
    stored = 0
    for row in regions.itertuples(index=False):
        country_id = countries.get(row.country_code)
        if country_id is None:
            continue
        region = existing.get(row.nuts_id) or Region(
            code=row.nuts_id, nuts_version=nuts_version, level=level, country_id=country_id
        )
        region.name = row.name
        region.geometry_geojson = json.dumps(shape_to_geojson(row.geometry))
        session.add(region)
        stored += 1
    session.flush()
    if level == 2:
        assign_centre_regions(session, regions, nuts_version)
    return stored


def assign_centre_regions(session: Session, regions: gpd.GeoDataFrame, nuts_version: str) -> int:
    """Give each centre with coordinates the NUTS-2 region it lies in."""
    centres = list(session.scalars(select(Centre).where(Centre.latitude.is_not(None))))
    if not centres:
        return 0
    points = gpd.GeoDataFrame(
        {"id": [c.id for c in centres]},
        geometry=gpd.points_from_xy([c.longitude for c in centres], [c.latitude for c in centres]),
        crs="EPSG:4326",
    )
    found = assign_regions(points, regions.to_crs("EPSG:4326"))
    ids = {
        r.code: r.id
        for r in session.scalars(
            select(Region).where(Region.level == 2, Region.nuts_version == nuts_version)
        )
    }
    assigned = 0
    for centre, code in zip(centres, found, strict=True):
        region_id = ids.get(code) if isinstance(code, str) else None
        if centre.region_id != region_id:
            centre.region_id = region_id
        assigned += region_id is not None
    session.flush()
    return assigned


def import_population(session: Session, path: Path) -> int:
    """Load population figures from a CSV with columns area_code, year, value, source
    (and optionally level: country or nuts0..nuts3). Returns rows stored."""
    stored = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"area_code", "year", "value", "source"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(
                f"{path.name}: missing column(s) {', '.join(sorted(missing))}; "
                "the header must be area_code,year,value,source[,level]"
            )
        for number, row in enumerate(reader, start=2):
            try:
                year, value = int(row["year"]), int(float(row["value"]))
            except ValueError as exc:
                raise InvalidInput(
                    f"{path.name}, row {number}: year and value must be numbers"
                ) from exc
            code = row["area_code"].strip().upper()
            level = (
                row.get("level")
                or ("country" if len(code) == 2 else NUTS_LEVEL_NAMES.get(len(code) - 2, "nuts3"))
            ).strip()
            existing = session.scalar(
                select(Population).where(
                    Population.area_code == code,
                    Population.year == year,
                    Population.source == row["source"].strip(),
                )
            )
            record = existing or Population(area_code=code, year=year, source=row["source"].strip())
            record.area_level = "country" if level in {"country", "nuts0"} else level
            record.value = value
            session.add(record)
            stored += 1
    session.flush()
    return stored


@dataclass
class MapData:
    """Everything an indicator map shows: values, classes, geometry, centres and equity."""

    spec: IndicatorSpec
    frame: pd.DataFrame
    classification: Any
    areas: gpd.GeoDataFrame
    centres: gpd.GeoDataFrame
    equity: EquitySummary
    level: Level


def map_data(
    session: Session,
    campaign: Campaign,
    indicator_id: str,
    *,
    level: Level = "country",
    scheme: str = "quantiles",
    classes: int = 5,
    domains: set[str] | None = None,
    low_coverage_threshold: float = 0.5,
    for_print: bool = False,
) -> MapData:
    """An indicator's map for a campaign: classified values on web (or print) geometry."""
    from mapping.classify import classify
    from mapping.layers import area_layer, centre_points, web_layer, with_geometry

    spec, frame = indicator_values(
        session,
        campaign,
        indicator_id,
        level=level,
        low_coverage_threshold=low_coverage_threshold,
        domains=domains,
    )
    indexed = frame.set_index("area_code")
    classification = classify(
        indexed["value"].astype(float),
        scheme,  # type: ignore[arg-type]
        classes,
        low_coverage=indexed["low_coverage"].astype(bool),
    )
    layer = area_layer(session, level) if for_print else web_layer(session, level)
    areas = with_geometry(layer, frame)
    countries = set(frame["area_code"]) if level == "country" else None
    # Regions are grouped by country, so Theil splits into between- and within-country parts.
    groups = frame["area_code"].str[:2] if level == "nuts2" else frame["area_code"]
    return MapData(
        spec,
        frame,
        classification,
        areas,
        centre_points(session, campaign, spec, countries),
        equity_summary(spec, frame, groups),
        level,
    )


def access_to_care(
    session: Session,
    campaign: Campaign,
    indicator_id: str,
    *,
    level: Level = "country",
    thresholds_km: tuple[float, ...] = (50, 100, 200),
    catchment_km: float = 100,
    domains: set[str] | None = None,
) -> pd.DataFrame:
    """Per area: the share of the population beyond each distance from the nearest centre that
    offers what the indicator counts (across borders), and the population-weighted E2SFCA score.

    Population points are the GeoNames cities of 15,000 inhabitants or more (packaged); the
    centres are those whose submitted answers say they offer it. An area without any city point
    is left out.
    """
    from mapping.access import e2sfca, share_beyond
    from mapping.layers import area_layer, centre_points
    from mapping.reference import load_cities

    spec = indicator_spec(session, campaign, indicator_id, domains)
    cities = load_cities()
    points = gpd.GeoDataFrame(
        {"population": cities["population"].astype(float), "iso2": cities["iso2"]},
        geometry=gpd.points_from_xy(cities["longitude"], cities["latitude"]),
        crs="EPSG:4326",
    )
    if level == "country":
        points["area_code"] = points["iso2"]
    else:
        regions = area_layer(session, "nuts2").rename(columns={"area_code": "nuts_id"})
        if regions.empty:
            raise NoRegions(
                "No NUTS-2 regions are loaded; import them with "
                "'accessgap geo import-boundaries FILE --level 2'."
            )
        points["area_code"] = assign_regions(points, regions).to_numpy()
    centres = centre_points(session, campaign, spec)
    offering = centres[centres["offers"]].copy()
    offering["capacity"] = 1.0
    shares = share_beyond(points, offering, "area_code", thresholds_km)
    points["e2sfca"] = e2sfca(points, offering, "capacity", catchment_km=catchment_km)
    weighted = (
        points.dropna(subset=["area_code"])
        .assign(weighted=lambda f: f["e2sfca"] * f["population"])
        .groupby("area_code")[["weighted", "population"]]
        .sum()
    )
    shares["e2sfca_per_100k"] = weighted["weighted"] / weighted["population"] * 100_000
    shares.index.name = "area_code"
    return shares.reset_index()
