"""The geometry behind the maps: area layers (countries, NUTS-2 regions) and centre points.

Area layers are simplified for the web once per process (topology kept, neighbours seamless) and
kept whole for print. Everything is in EPSG:4326 here; distances and figures use EPSG:3035.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping.indicators import IndicatorSpec, numerator_values
from mapping.reference import load_countries
from mapping.simplify import simplify_coverage
from surveys.campaigns.models import Campaign, CampaignCentre
from surveys.questionnaires.models import Questionnaire
from surveys.registry.models import Centre, Country, Region
from surveys.responses.models import FINAL_STATUSES, Response

Level = Literal["country", "nuts2"]
WEB_TOLERANCE_M = {"country": 8_000.0, "nuts2": 3_000.0}
_WEB_CACHE: dict[tuple[str, int], gpd.GeoDataFrame] = {}


def area_layer(session: Session, level: Level) -> gpd.GeoDataFrame:
    """Every area of a level with ``area_code`` and geometry (EPSG:4326), full detail."""
    if level == "country":
        countries = load_countries()
        return gpd.GeoDataFrame(
            {"area_code": countries["iso2"], "layer_name": countries["name"]},
            geometry=countries.geometry,
            crs="EPSG:4326",
        )
    rows = session.execute(
        select(Region.code, Region.geometry_geojson, Region.name)
        .where(Region.level == 2, Region.geometry_geojson.is_not(None))
        .order_by(Region.code)
    ).all()
    return gpd.GeoDataFrame(
        {"area_code": [code for code, _, _ in rows], "layer_name": [name for _, _, name in rows]},
        geometry=[shape(json.loads(text or "null")) for _, text, _ in rows],
        crs="EPSG:4326",
    )


def web_layer(session: Session, level: Level) -> gpd.GeoDataFrame:
    """The area layer simplified for the browser, computed once per level and content size."""
    full = area_layer(session, level)
    key = (level, len(full))
    if key not in _WEB_CACHE:
        _WEB_CACHE[key] = simplify_coverage(full, WEB_TOLERANCE_M[level])
    return _WEB_CACHE[key].copy()


def with_geometry(layer: gpd.GeoDataFrame, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Every area of the layer with the indicator frame's columns; areas the campaign does not
    cover are kept, as "no data" (never as zero)."""
    merged = layer.merge(frame, on="area_code", how="left")
    merged["area_name"] = merged["area_name"].fillna(merged["layer_name"])
    merged["no_data"] = merged["no_data"].fillna(True).astype(bool)
    merged["low_coverage"] = merged["low_coverage"].fillna(False).astype(bool)
    merged = merged.drop(columns=["layer_name"])
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=layer.crs)


def centre_points(
    session: Session, campaign: Campaign, spec: IndicatorSpec, countries: set[str] | None = None
) -> gpd.GeoDataFrame:
    """The campaign's expected centres as points: whether each offers what the indicator counts
    (from its submitted response), or is unknown when it has not answered."""
    query = (
        select(Centre.id, Centre.name, Centre.city, Centre.latitude, Centre.longitude, Country.iso2)
        .join(CampaignCentre, CampaignCentre.centre_id == Centre.id)
        .join(Country, Country.id == Centre.country_id)
        .where(CampaignCentre.campaign_id == campaign.id, Centre.latitude.is_not(None))
    )
    rows = pd.DataFrame(
        session.execute(query).all(),
        columns=["centre_id", "name", "city", "latitude", "longitude", "iso2"],
    )
    if countries is not None:
        rows = rows[rows["iso2"].isin(countries)]
    answers = pd.DataFrame(
        session.execute(
            select(Response.centre_id, Response.answers)
            .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
            .where(
                Response.campaign_id == campaign.id,
                Response.status.in_(FINAL_STATUSES),
                Questionnaire.form_id == spec.form_id,
            )
        ).all(),
        columns=["centre_id", "answers"],
    )
    offers: dict[int, bool] = {}
    if len(answers):
        values = numerator_values(answers, spec)
        for centre_id, value in zip(answers["centre_id"], values, strict=True):
            offers[int(centre_id)] = _offers(value)
    answered = rows[rows["centre_id"].isin(offers)]
    return gpd.GeoDataFrame(
        {
            "name": answered["name"],
            "city": answered["city"],
            "offers": [offers[int(c)] for c in answered["centre_id"]],
        },
        geometry=gpd.points_from_xy(answered["longitude"], answered["latitude"]),
        crs="EPSG:4326",
    )


def _offers(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"yes", "true"}
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == value and value > 0
    return False
