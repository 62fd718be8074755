"""Spatial access to care: how far people live from a centre offering a technology.

Three measures, all on straight-line distances in EPSG:3035 (LAEA Europe, metres; distances are
true to within a fraction of a percent over Europe) and all across borders (the nearest centre
may be in the next country):

* :func:`nearest_distance_km`: distance from each population point to the nearest centre.
* :func:`share_beyond`: per area, the share of the population living farther than given
  distances from the nearest centre.
* :func:`e2sfca`: the enhanced two-step floating catchment area score of Luo & Qi (2009):
  capacity per inhabitant within reach, with competition between population points for the
  same centre and weights falling with distance.

:func:`access_by_area` puts the last two together per area, as the map pages show them.

Straight-line distance understates travel on islands, in mountains and across the sea; the
measures rank access, they do not time journeys. Pass only the centres that offer the technology
(the caller filters them); ``population_points`` are usually the packaged GeoNames cities
(:func:`mapping.reference.load_cities`) or a population grid.

References
----------
Luo, W., & Qi, Y. (2009). An enhanced two-step floating catchment area (E2SFCA) method for
measuring spatial accessibility to primary care physicians. *Health & Place*, 15(4), 1100-1107.

Dai, D. (2010). Black residential segregation, disparities in spatial access to health care
facilities, and late-stage breast cancer diagnosis in metropolitan Detroit. *Health & Place*,
16(5), 1038-1052 (the Gaussian weights used here).

Why one module past 400 lines: the three measures share the projection, the nearest-centre
search and the per-area weighting; each public function carries a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

Decay: TypeAlias = Literal["gaussian", "step"]
WeightFunction: TypeAlias = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]

LUO_QI_STEP_WEIGHTS: tuple[tuple[float, float], ...] = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))
"""Luo & Qi's (2009) zone weights: the catchment split into three equal rings (their 0-10,
10-20 and 20-30 minute zones) weighted 1.00, 0.68 and 0.22, values they derived from a Gaussian
decay. Each pair is (outer edge as a share of the catchment, weight)."""

_PROJECTED = 3035
_METRES_PER_KM = 1000.0


def nearest_distance_km(
    population_points: gpd.GeoDataFrame, centres: gpd.GeoDataFrame
) -> pd.Series[float]:
    """Distance from each population point to the nearest centre, across borders.

    Parameters
    ----------
    population_points : geopandas.GeoDataFrame
        Points where people live, in any CRS.
    centres : geopandas.GeoDataFrame
        Points of the centres that offer the technology, in any CRS.

    Returns
    -------
    pandas.Series
        Kilometres, indexed like ``population_points`` and named ``distance_km``; ``inf``
        for every point when there is no centre, ``NaN`` for a point without geometry.

    Raises
    ------
    ValueError
        If a frame has no CRS or holds other geometries than points.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> people = gpd.GeoDataFrame(geometry=[Point(4_000_000, 3_000_000)], crs=3035)
    >>> centres = gpd.GeoDataFrame(
    ...     geometry=[Point(4_030_000, 3_040_000), Point(4_000_000, 3_100_000)], crs=3035
    ... )
    >>> nearest_distance_km(people, centres).tolist()  # a 30-40-50 km triangle
    [50.0]
    """
    points = _projected_points(population_points, "population_points")
    sites = _projected_points(centres, "centres")
    distance = np.full(len(points), np.nan)
    present = _located(points)
    site_geoms = sites[_located(sites)]
    if len(site_geoms) == 0:
        distance[present] = math.inf
    elif present.any():
        tree = shapely.STRtree(site_geoms)
        (query, _), metres = tree.query_nearest(
            points[present], return_distance=True, all_matches=False
        )
        found = np.flatnonzero(present)[query]
        distance[found] = metres / _METRES_PER_KM
    return pd.Series(distance, index=population_points.index, name="distance_km")


def share_beyond(
    population_points: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    area_col: str,
    thresholds_km: Sequence[float] = (50, 100, 200),
    *,
    population_col: str = "population",
) -> pd.DataFrame:
    """Per area, the share of the population living beyond each distance from a centre.

    Parameters
    ----------
    population_points : geopandas.GeoDataFrame
        Points with a population and the area they belong to (e.g. cities with their NUTS-2
        region from :func:`mapping.boundaries.assign_regions`).
    centres : geopandas.GeoDataFrame
        The centres offering the technology, anywhere (across borders).
    area_col : str
        The column of ``population_points`` naming the area. Points without an area, a
        population or a geometry are left out.
    thresholds_km : sequence of float, default (50, 100, 200)
        Distances in km. "Beyond" is strictly farther than the threshold.
    population_col : str, default "population"
        The column with the number of people at each point.

    Returns
    -------
    pandas.DataFrame
        Indexed by area (sorted), with ``population`` (the total counted) and one column per
        threshold, ``beyond_50km`` etc., holding shares between 0 and 1.

    Raises
    ------
    ValueError
        For a missing column, a negative population or a threshold that is not positive.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> people = gpd.GeoDataFrame(
    ...     {"area": ["A", "A", "B"], "population": [300, 100, 50]},
    ...     geometry=[Point(0, 0), Point(0, 120_000), Point(0, 30_000)],
    ...     crs=3035,
    ... )
    >>> centres = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3035)
    >>> shares = share_beyond(people, centres, "area", thresholds_km=[100])
    >>> shares["population"].to_dict()
    {'A': 400, 'B': 50}
    >>> shares["beyond_100km"].to_dict()  # in A, 100 people live 120 km away: 100 / 400
    {'A': 0.25, 'B': 0.0}
    """
    for column in (area_col, population_col):
        if column not in population_points.columns:
            raise ValueError(f"population_points has no column {column!r}")
    thresholds = [float(t) for t in thresholds_km]
    if any(not t > 0 for t in thresholds):
        raise ValueError(f"thresholds must be positive distances in km, got {thresholds}")
    population = pd.to_numeric(population_points[population_col], errors="raise")
    if (population < 0).any():
        raise ValueError(f"{population_col} must not be negative")

    distance = nearest_distance_km(population_points, centres)
    frame = pd.DataFrame(
        {"area": population_points[area_col], "population": population, "distance": distance}
    ).dropna()
    columns = {"population": frame.groupby("area")["population"].sum()}
    for threshold in thresholds:
        beyond = frame["population"].where(frame["distance"] > threshold, 0)
        columns[f"beyond_{threshold:g}km"] = beyond.groupby(frame["area"]).sum()
    result = pd.DataFrame(columns).sort_index()
    for threshold in thresholds:
        column = f"beyond_{threshold:g}km"
        result[column] = result[column] / result["population"].where(result["population"] > 0)
    result.index.name = area_col
    return result


def e2sfca(
    population_points: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    capacity_col: str,
    catchment_km: float = 100,
    decay: Decay = "gaussian",
    *,
    population_col: str = "population",
    step_weights: Sequence[tuple[float, float]] = LUO_QI_STEP_WEIGHTS,
) -> pd.Series[float]:
    """Enhanced two-step floating catchment area (E2SFCA) score of each population point.

    Step 1, for each centre ``j``: its capacity over the weighted population within the
    catchment, ``R_j = S_j / sum_k P_k W(d_kj)`` over the points ``k`` with ``d_kj <= d0``.
    Step 2, for each point ``i``: the weighted sum of the ratios of the centres within the
    catchment, ``A_i = sum_j R_j W(d_ij)`` over ``d_ij <= d0``. The score is capacity per
    inhabitant (multiply by 10**6 for "per million"); summed over all points, population times
    score equals the total capacity of the centres that reach anyone.

    Weights ``W(d)``:

    ``"gaussian"``
        ``(exp(-d²/(2 d0²)) - exp(-1/2)) / (1 - exp(-1/2))`` for ``d <= d0`` (Dai 2010): 1 at
        the centre, 0 at the edge of the catchment, about 0.70 half way.
    ``"step"``
        Constant weights on rings of the catchment, by default Luo & Qi's 1.00, 0.68 and
        0.22 on its inner, middle and outer thirds (:data:`LUO_QI_STEP_WEIGHTS`).

    Parameters
    ----------
    population_points : geopandas.GeoDataFrame
        Points with a population column, in any CRS.
    centres : geopandas.GeoDataFrame
        The centres offering the technology, with a capacity column (e.g. number of scanners
        or of treatment slots), in any CRS.
    capacity_col : str
        The capacity column of ``centres``.
    catchment_km : float, default 100
        The catchment radius ``d0``.
    decay : {"gaussian", "step"}, default "gaussian"
        How the weight falls with distance.
    population_col : str, default "population"
        The population column of ``population_points``.
    step_weights : sequence of (float, float), default LUO_QI_STEP_WEIGHTS
        For ``decay="step"``: (outer edge as a share of the catchment, weight) per ring,
        inner ring first; the last edge must be 1.

    Returns
    -------
    pandas.Series
        The score of each point, indexed like ``population_points`` and named ``e2sfca``:
        0 for a point with no centre within reach, ``NaN`` for a point without geometry or
        population.

    Raises
    ------
    ValueError
        For a missing column, negative population or capacity, a catchment that is not
        positive, an unknown decay or malformed step weights.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> people = gpd.GeoDataFrame(
    ...     {"population": [1000, 3000]}, geometry=[Point(0, 0), Point(10_000, 0)], crs=3035
    ... )
    >>> centres = gpd.GeoDataFrame({"scanners": [2]}, geometry=[Point(0, 0)], crs=3035)
    >>> # Both points lie in the inner third: weight 1. R = 2 / 4000; A = R for both.
    >>> e2sfca(people, centres, "scanners", catchment_km=60, decay="step").tolist()
    [0.0005, 0.0005]
    """
    if population_col not in population_points.columns:
        raise ValueError(f"population_points has no column {population_col!r}")
    if capacity_col not in centres.columns:
        raise ValueError(f"centres has no column {capacity_col!r}")
    if not catchment_km > 0:
        raise ValueError(f"catchment_km must be positive, got {catchment_km}")
    weight = _weight_function(decay, step_weights)
    population = pd.to_numeric(population_points[population_col], errors="raise").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    capacity = pd.to_numeric(centres[capacity_col], errors="raise").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if (population < 0).any() or (capacity < 0).any():
        raise ValueError("populations and capacities must not be negative")

    points = _projected_points(population_points, "population_points")
    sites = _projected_points(centres, "centres")
    usable_point = _located(points) & ~np.isnan(population)
    usable_site = _located(sites) & ~np.isnan(capacity)
    point_pos = np.flatnonzero(usable_point)
    site_pos = np.flatnonzero(usable_site)

    score = np.full(len(points), np.nan)
    score[point_pos] = 0.0
    if len(point_pos) and len(site_pos):
        radius = catchment_km * _METRES_PER_KM
        tree = shapely.STRtree(points[point_pos])
        site_idx, point_idx = tree.query(sites[site_pos], predicate="dwithin", distance=radius)
        metres = shapely.distance(sites[site_pos][site_idx], points[point_pos][point_idx])
        w = weight(metres / radius)
        # Step 1: supply-to-demand ratio of each centre over its weighted catchment population.
        demand = np.bincount(
            site_idx, weights=population[point_pos][point_idx] * w, minlength=len(site_pos)
        )
        ratio = np.divide(capacity[site_pos], demand, out=np.zeros(len(site_pos)), where=demand > 0)
        # Step 2: each point sums the ratios of the centres it reaches, with the same weights.
        score[point_pos] = np.bincount(
            point_idx, weights=ratio[site_idx] * w, minlength=len(point_pos)
        )
    return pd.Series(score, index=population_points.index, name="e2sfca")


def access_by_area(
    population_points: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    area_col: str,
    thresholds_km: Sequence[float] = (50, 100, 200),
    catchment_km: float = 100,
) -> pd.DataFrame:
    """Per area: the share of the population beyond each distance from the nearest centre, and
    the population-weighted E2SFCA score per 100,000 inhabitants (every centre's capacity 1).

    Parameters
    ----------
    population_points : geopandas.GeoDataFrame
        Points with ``population`` and the area column; points without an area count for the
        centres' catchments but are not reported.
    centres : geopandas.GeoDataFrame
        The centres offering the technology, anywhere (across borders).
    area_col : str
        The area column of ``population_points``; the result's area column has its name.
    thresholds_km, catchment_km
        As for :func:`share_beyond` and :func:`e2sfca` (Gaussian decay).

    Returns
    -------
    pandas.DataFrame
        One row per area: ``area_col``, ``population``, ``beyond_<d>km`` per threshold and
        ``e2sfca_per_100k``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> people = gpd.GeoDataFrame(
    ...     {"area": ["A", "B"], "population": [1000, 1000]},
    ...     geometry=[Point(0, 0), Point(0, 300_000)], crs=3035,
    ... )
    >>> centres = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3035)
    >>> table = access_by_area(people, centres, "area", thresholds_km=[100])
    >>> table[["area", "beyond_100km", "e2sfca_per_100k"]].values.tolist()
    [['A', 0.0, 100.0], ['B', 1.0, 0.0]]
    """
    offering = centres.assign(capacity=1.0)
    shares = share_beyond(population_points, offering, area_col, thresholds_km)
    scores = e2sfca(population_points, offering, "capacity", catchment_km=catchment_km)
    weighted = (
        population_points.assign(weighted=scores * population_points["population"])
        .dropna(subset=[area_col])
        .groupby(area_col)[["weighted", "population"]]
        .sum()
    )
    shares["e2sfca_per_100k"] = weighted["weighted"] / weighted["population"] * 100_000
    shares.index.name = area_col
    return shares.reset_index()


def _weight_function(decay: Decay, step_weights: Sequence[tuple[float, float]]) -> WeightFunction:
    """The weight as a function of the distance as a share of the catchment radius."""
    if decay == "gaussian":
        edge = math.exp(-0.5)

        def gaussian(share: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            result: npt.NDArray[np.float64] = (np.exp(-0.5 * share**2) - edge) / (1 - edge)
            return np.clip(result, 0.0, 1.0)

        return gaussian
    if decay == "step":
        edges = np.array([edge for edge, _ in step_weights], dtype=np.float64)
        weights = np.array([w for _, w in step_weights], dtype=np.float64)
        if (
            len(edges) == 0
            or not np.all(np.diff(edges) > 0)
            or not math.isclose(edges[-1], 1.0)
            or edges[0] <= 0
            or (weights < 0).any()
        ):
            raise ValueError(
                "step_weights must be (edge, weight) pairs with edges increasing from above 0 "
                f"to 1 and weights >= 0, got {list(step_weights)}"
            )

        def step(share: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            ring = np.searchsorted(edges, share, side="left")  # the edge itself is inside
            result: npt.NDArray[np.float64] = weights[np.minimum(ring, len(weights) - 1)]
            return result

        return step
    raise ValueError(f"unknown decay {decay!r}; choose 'gaussian' or 'step'")


def _projected_points(frame: gpd.GeoDataFrame, name: str) -> npt.NDArray[np.object_]:
    if frame.crs is None:
        raise ValueError(f"{name} has no CRS; set it with .set_crs() (WGS 84: EPSG:4326)")
    geometry = frame.geometry
    kinds = set(geometry.dropna().geom_type.unique()) - {"Point"}
    if kinds:
        raise ValueError(f"{name} must be points, found {', '.join(sorted(kinds))}")
    projected = geometry if frame.crs.to_epsg() == _PROJECTED else geometry.to_crs(_PROJECTED)
    result: npt.NDArray[np.object_] = projected.to_numpy()
    return result


def _located(points: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    result: npt.NDArray[np.bool_] = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    return result
