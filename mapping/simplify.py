"""Lighter boundaries for web maps, without gaps or overlaps between neighbours.

Simplifying each polygon on its own (``GeoSeries.simplify``) moves a shared border differently on
its two sides: slivers of overlap and gaps open along every border. :func:`simplify_coverage`
treats the layer as a *coverage* (polygons that do not overlap and whose shared edges have the
same vertices, as GISCO NUTS files and the packaged country layer are) and simplifies each shared
edge once, with GEOS' coverage simplification (``shapely.coverage_simplify``, Visvalingam-Whyatt
on edges), in EPSG:3035 metres. The result goes back to EPSG:4326 with rounded coordinates;
because both sides of a border have the same vertices, rounding moves them identically too.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

_METRES_PER_DEGREE = 111_320.0  # of latitude; a degree of longitude is shorter in Europe
_MAX_DECIMALS = 7  # about 1 cm; more is noise


class CoverageError(ValueError):
    """The polygons do not form a coverage: they overlap or their shared edges do not match."""


def simplify_coverage(
    gdf: gpd.GeoDataFrame, tolerance_m: float, *, decimals: int | None = None
) -> gpd.GeoDataFrame:
    """Simplify a polygon coverage for the web, keeping neighbours seamless.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons or multipolygons that form a coverage, in any CRS that names itself (GISCO
        NUTS regions of one level, :func:`mapping.reference.load_countries`).
    tolerance_m : float
        How much detail to drop, in metres: about the square root of the area of the smallest
        triangles kept (Visvalingam-Whyatt). 5,000 to 15,000 suits a map of all of Europe;
        0 only rounds the coordinates.
    decimals : int, optional
        Decimal places kept in the EPSG:4326 coordinates. By default the grid is at most a
        fifth of the tolerance (2 decimals, about 1 km, for 10 km), and 6 for a tolerance of 0.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gdf`` in EPSG:4326 with simplified, rounded, valid geometries; the same
        rows, index and other columns. Every area keeps at least a triangle.

    Raises
    ------
    ValueError
        If ``gdf`` has no CRS, a row has no geometry or a non-polygonal one, or the tolerance
        or the number of decimals is negative.
    CoverageError
        If the polygons overlap or their shared edges do not match, so the simplification
        could open gaps.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Polygon
    >>> left = Polygon([(0, 0), (1, 0), (1.01, 0.5), (1, 1), (0, 1)])
    >>> right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1.01, 0.5)])
    >>> areas = gpd.GeoDataFrame({"id": ["L", "R"]}, geometry=[left, right], crs=4326)
    >>> simple = simplify_coverage(areas, tolerance_m=20_000, decimals=3)
    >>> [len(g.exterior.coords) for g in simple.geometry]  # the kink is gone on both sides
    [5, 5]
    >>> simple.geometry.iloc[0].intersection(simple.geometry.iloc[1]).area
    0.0
    >>> round(simple.union_all().area, 6)  # and no gap opened
    2.0
    """
    if tolerance_m < 0 or not math.isfinite(tolerance_m):
        raise ValueError(f"tolerance_m must be a finite number >= 0, got {tolerance_m}")
    if decimals is None:
        decimals = _default_decimals(tolerance_m)
    if not 0 <= decimals <= _MAX_DECIMALS:
        raise ValueError(f"decimals must be between 0 and {_MAX_DECIMALS}, got {decimals}")
    _check_polygons(gdf)

    projected = gdf.geometry.to_crs(3035).to_numpy()
    if not shapely.coverage_is_valid(projected):
        invalid = shapely.coverage_invalid_edges(projected)
        bad = np.flatnonzero(~shapely.is_empty(invalid))
        labels = ", ".join(str(gdf.index[i]) for i in bad[:5])
        raise CoverageError(
            f"{len(bad)} polygons overlap a neighbour or do not share its border vertices "
            f"(rows {labels}); simplifying them could open gaps. Use boundaries published as a "
            "coverage (GISCO NUTS 'RG' files of one level, one year and one scale)."
        )
    simplified = shapely.coverage_simplify(projected, tolerance_m) if tolerance_m else projected
    degrees = gpd.GeoSeries(simplified, crs=3035).to_crs(4326).to_numpy()

    result = gdf.copy()
    result = result.set_geometry(
        gpd.GeoSeries(_round_coverage(degrees, decimals), index=gdf.index, crs=4326),
        crs=4326,
    )
    return result


def _default_decimals(tolerance_m: float) -> int:
    if tolerance_m == 0:
        return 6
    grid_degrees = tolerance_m / 5 / _METRES_PER_DEGREE
    return max(0, min(_MAX_DECIMALS, math.ceil(-math.log10(grid_degrees))))


def _check_polygons(gdf: gpd.GeoDataFrame) -> None:
    if gdf.crs is None:
        raise ValueError("the areas have no CRS; set it with .set_crs() (GISCO: EPSG:4326)")
    geometries = gdf.geometry
    missing = geometries.isna() | geometries.is_empty
    if missing.any():
        labels = ", ".join(str(label) for label in gdf.index[missing.to_numpy()][:5])
        raise ValueError(f"areas without geometry: {labels}")
    kinds = set(geometries.geom_type) - {"Polygon", "MultiPolygon"}
    if kinds:
        raise ValueError(f"areas must be polygons, found {', '.join(sorted(kinds))}")


def _round_coverage(geometries: npt.NDArray[np.object_], decimals: int) -> npt.NDArray[np.object_]:
    """Round every vertex; repair the rare polygon the rounding folds or empties.

    Shared vertices round to the same point on both sides, so the coverage stays seamless. A
    polygon that rounding makes invalid (a spike folding over) is snap-rounded to the same grid
    by GEOS instead, which keeps it valid; one that the grid empties (an islet smaller than a
    grid cell) keeps more decimals. Both are local and tiny.
    """
    rounded = _rounded(geometries, decimals)
    for position in np.flatnonzero(~shapely.is_valid(rounded) | shapely.is_empty(rounded)):
        for extra in range(decimals, _MAX_DECIMALS + 1):
            candidate = shapely.set_precision(geometries[position], 10.0**-extra)
            if not candidate.is_empty:
                rounded[position] = candidate
                break
        else:
            rounded[position] = geometries[position]
    return rounded


def _rounded(geometries: npt.NDArray[np.object_], decimals: int) -> npt.NDArray[np.object_]:
    """Every vertex rounded, repeated vertices dropped; empty where a ring collapses."""

    def snap(coordinates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.round(coordinates, decimals)

    snapped = shapely.transform(geometries, snap)
    try:
        result: npt.NDArray[np.object_] = shapely.remove_repeated_points(snapped)
    except shapely.errors.GEOSException:
        # A ring rounded onto fewer than three distinct points cannot be built: mark its
        # polygon empty (the caller repairs it) and keep the others.
        result = np.array([_without_repeats(geometry) for geometry in snapped], dtype=object)
    return result


def _without_repeats(geometry: shapely.Geometry) -> shapely.Geometry:
    try:
        return shapely.remove_repeated_points(geometry)
    except shapely.errors.GEOSException:
        return shapely.Polygon()
