"""Placing points (cancer centres) in NUTS regions: inside a polygon, else the nearest region of
their own country within reach, else nowhere, and saying which.

Generalised boundaries (GISCO 1:20 million) leave real places outside every polygon: the whole
of Vatican City is a hole in Lazio's, and coastal hospitals fall in the sea up to some 17 km
off the simplified coast. A point outside every region goes to the nearest region of its own
country within :data:`PROXIMITY_KM` (distance in EPSG:3035), flagged as placed by proximity;
beyond that it stays unplaced, and is listed so that someone checks its coordinates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from mapping.boundaries import assign_regions

PROXIMITY_KM = 25.0
"""How far outside every polygon a point may lie and still be placed in the nearest region."""
PLACEMENT_COLUMNS = ["region", "placement", "distance_km", "nearest", "nearest_km"]
_LAEA = "EPSG:3035"


def place_points(
    points: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    within_km: float = PROXIMITY_KM,
    country_col: str = "country",
) -> pd.DataFrame:
    """The region of each point, and how it was found.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Points with a CRS and a ``country_col`` column (the registry's country code).
    regions : geopandas.GeoDataFrame
        Regions of one level with ``nuts_id`` and ``country_code`` columns
        (:func:`mapping.boundaries.read_nuts_geojson`), with a CRS.
    within_km : float, default 25
        How far outside every polygon a point is still placed in the nearest region.
    country_col : str, default "country"
        The column of ``points`` naming each point's country; only regions of that country are
        near enough for a point outside every polygon.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``region`` (the NUTS code, missing when unplaced),
        ``placement`` (``"inside"``, ``"proximity"`` or missing), ``distance_km`` (0 inside,
        the distance to the region placed by proximity), and for every point outside its
        regions the ``nearest`` region of its country and ``nearest_km``, placed or not.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> regions = gpd.GeoDataFrame({"nuts_id": ["AT13"], "country_code": ["AT"]},
    ...     geometry=[box(16.18, 48.12, 16.58, 48.32)], crs=4326)
    >>> points = gpd.GeoDataFrame({"country": ["AT", "AT", "AT"]},
    ...     geometry=[Point(16.37, 48.21), Point(16.70, 48.21), Point(17.50, 48.21)], crs=4326)
    >>> placed = place_points(points, regions)
    >>> placed["placement"].tolist()
    ['inside', 'proximity', None]
    >>> placed["region"].tolist()
    ['AT13', 'AT13', None]
    """
    if points.crs is None or regions.crs is None:
        raise ValueError("points and regions need a CRS; set it with .set_crs() first")
    regions = regions.to_crs(points.crs)
    inside = assign_regions(points, regions)
    found = [code if isinstance(code, str) else None for code in inside.tolist()]
    result = pd.DataFrame(
        {
            "region": found,
            "placement": ["inside" if code else None for code in found],
            "distance_km": [0.0 if code else np.nan for code in found],
            "nearest": [None] * len(found),
            "nearest_km": [np.nan] * len(found),
        },
        index=points.index,
        columns=PLACEMENT_COLUMNS,
    )
    outside = points[inside.isna() & points.geometry.notna() & ~points.geometry.is_empty]
    if outside.empty:
        return _with_none(result)
    projected_points = outside.to_crs(_LAEA)
    projected_regions = regions.to_crs(_LAEA)
    for country, group in projected_points.groupby(country_col):
        candidates = projected_regions[projected_regions["country_code"] == country]
        if candidates.empty:
            continue
        for label, point in group.geometry.items():
            distances = candidates.geometry.distance(point)
            # The nearest region; of two as near, the smallest code (independent of row order).
            order = np.lexsort((candidates["nuts_id"].to_numpy(), distances.to_numpy()))
            best = order[0]
            code = str(candidates["nuts_id"].iloc[best])
            kilometres = float(distances.iloc[best]) / 1000
            result.at[label, "nearest"] = code
            result.at[label, "nearest_km"] = kilometres
            if kilometres <= within_km:
                result.at[label, "region"] = code
                result.at[label, "placement"] = "proximity"
                result.at[label, "distance_km"] = kilometres
    return _with_none(result)


def _with_none(result: pd.DataFrame) -> pd.DataFrame:
    """Missing codes as ``None``, whatever dtype pandas chose for the text columns."""
    for column in ("region", "placement", "nearest"):
        values = result[column].astype(object)
        result[column] = values.where(values.notna(), None)
    return result
