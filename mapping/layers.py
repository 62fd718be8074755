"""The geometry behind the maps: area layers (countries, NUTS-2 regions) and centre points.

Area layers are kept whole for print and simplified for the web (topology kept, neighbours
seamless). Both, and the NUTS-2 region of each packaged city, are computed once per process
**and data version**: the packaged country layer never changes, and the NUTS-2 layer (of the
active NUTS version only) is keyed on :func:`mapping.queries.boundary_version`, the hash of the
layer that the latest boundary import or version switch left (recorded with its audit event),
so a new vintage is served at once even when it has as many regions as the old one. Each cache
keeps one version per layer (the newest asked for).
Everything is in EPSG:4326 here; distances and figures use EPSG:3035.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
from shapely.geometry import shape
from sqlalchemy.orm import Session

from mapping import queries
from mapping.boundaries import assign_regions
from mapping.queries import Level
from mapping.reference import load_cities, load_countries
from mapping.simplify import simplify_coverage

WEB_TOLERANCE_M = {"country": 8_000.0, "nuts2": 3_000.0}
PACKAGED = "packaged"
"""The data version of the packaged layers (they change only with the installed package)."""

_T = TypeVar("_T")
_CACHE: dict[tuple[str, Level], tuple[str, Any]] = {}
_LOCK = threading.Lock()


def layer_version(session: Session, level: Level) -> str:
    """The data version of a level's boundaries: "packaged" for countries, else the import's."""
    return PACKAGED if level == "country" else queries.boundary_version(session)


def area_layer(session: Session, level: Level) -> gpd.GeoDataFrame:
    """Every area of a level with ``area_code``, ``layer_name`` and geometry (EPSG:4326), full
    detail."""
    version = layer_version(session, level)
    return _cached("full", level, version, lambda: _full_layer(session, level)).copy()


def web_layer(session: Session, level: Level) -> gpd.GeoDataFrame:
    """The area layer simplified for the browser, computed once per level and data version."""
    version = layer_version(session, level)
    return _cached(
        "web",
        level,
        version,
        lambda: simplify_coverage(area_layer(session, level), WEB_TOLERANCE_M[level]),
    ).copy()


def country_outlines() -> bytes:
    """The packaged country outlines as GeoJSON (EPSG:4326, simplified as the country web
    layer, with ``iso2`` and ``name``): the only layer of the location picker of a geopoint
    question, which has no tiles. Built once per process; the packaged layer never changes."""

    def build() -> bytes:
        countries = load_countries()[["iso2", "name", "geometry"]]
        simplified = simplify_coverage(countries, WEB_TOLERANCE_M["country"])
        text: str = simplified.to_json(drop_id=True, ensure_ascii=False)
        return text.encode("utf-8")

    found: bytes = _cached("outlines", "country", PACKAGED, build)
    return found


def city_regions(session: Session) -> pd.Series:
    """The NUTS-2 region of each packaged city (:func:`mapping.reference.load_cities` order),
    by point in polygon; missing outside every region. Computed once per data version."""

    def assign() -> pd.Series:
        cities = load_cities()
        points = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(cities["longitude"], cities["latitude"]),
            crs="EPSG:4326",
        )
        regions = area_layer(session, "nuts2").rename(columns={"area_code": "nuts_id"})
        return assign_regions(points, regions)

    found: pd.Series = _cached("cities", "nuts2", queries.boundary_version(session), assign)
    return found.copy()


def with_geometry(layer: gpd.GeoDataFrame, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Every area of the layer with the indicator frame's columns; areas outside the study (not
    in the frame) are kept with ``in_study`` False, without a value (never as zero)."""
    merged = layer.merge(frame, on="area_code", how="left")
    merged["in_study"] = merged["area_code"].isin(set(frame["area_code"]))
    merged["area_name"] = merged["area_name"].fillna(merged["layer_name"])
    merged["no_data"] = merged["no_data"].fillna(True).astype(bool)
    merged["low_coverage"] = merged["low_coverage"].fillna(False).astype(bool)
    merged = merged.drop(columns=["layer_name"])
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=layer.crs)


def centre_points(centres: pd.DataFrame) -> gpd.GeoDataFrame:
    """Centres as points (EPSG:4326) with ``name``, ``city`` and ``offers``.

    ``centres`` holds ``name``, ``city``, ``latitude``, ``longitude`` and ``offers`` (bool);
    rows without coordinates are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"name": ["A", "B"], "city": ["Wien", None],
    ...     "latitude": [48.2, None], "longitude": [16.4, None], "offers": [True, False]})
    >>> centre_points(frame)[["name", "offers"]].to_dict("records")
    [{'name': 'A', 'offers': True}]
    """
    located = centres[centres["latitude"].notna() & centres["longitude"].notna()]
    return gpd.GeoDataFrame(
        {
            "name": located["name"],
            "city": located["city"],
            "offers": located["offers"].astype(bool),
        },
        geometry=gpd.points_from_xy(located["longitude"], located["latitude"]),
        crs="EPSG:4326",
    )


def offers(value: Any) -> bool:
    """Whether a centre's numerator says it offers what the indicator counts.

    Examples
    --------
    >>> offers("yes"), offers(2), offers(0), offers(float("nan")), offers(None)
    (True, True, False, False, False)
    """
    if isinstance(value, str):
        return value.lower() in {"yes", "true"}
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == value and value > 0
    return False


def _full_layer(session: Session, level: Level) -> gpd.GeoDataFrame:
    if level == "country":
        countries = load_countries()
        return gpd.GeoDataFrame(
            {"area_code": countries["iso2"], "layer_name": countries["name"]},
            geometry=countries.geometry,
            crs="EPSG:4326",
        )
    rows = queries.nuts2_shapes(session)
    return gpd.GeoDataFrame(
        {"area_code": [code for code, _, _ in rows], "layer_name": [name for _, _, name in rows]},
        geometry=[shape(json.loads(text)) for _, text, _ in rows],
        crs="EPSG:4326",
    )


def _cached(kind: str, level: Level, version: str, build: Callable[[], _T]) -> _T:
    """The value of ``build()`` for this layer and version, built once; an older version of the
    same layer is dropped. Two threads may build the same value at once; both get it right."""
    found = _CACHE.get((kind, level))
    if found is not None and found[0] == version:
        value: _T = found[1]
        return value
    value = build()
    with _LOCK:
        _CACHE[(kind, level)] = (version, value)
    return value
