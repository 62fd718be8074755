"""Official statistical boundaries (Eurostat GISCO NUTS) and assigning points to them.

GISCO distributes NUTS regions as GeoJSON for several years (2013 to 2024), scales and coordinate
reference systems. :func:`read_nuts_geojson` reads any of them into one shape: EPSG:4326 and
columns ``nuts_id``, ``level``, ``country_code`` (ISO 3166-1 alpha-2), ``name`` and ``geometry``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from surveys.registry.codes import UnknownCode, country_code

NUTS_COLUMNS = ["nuts_id", "level", "country_code", "name", "geometry"]

_REQUIRED_PROPERTIES = ("NUTS_ID", "LEVL_CODE", "CNTR_CODE")
_NAME_PROPERTIES = ("NAME_LATN", "NUTS_NAME")  # Latin-script name first, native name as fallback
_SUPPORTED_EPSG = {4326: "WGS 84", 4258: "ETRS89", 3035: "ETRS89-LAEA", 3857: "Web Mercator"}
_GISCO_HINT = (
    "Download the GeoJSON from https://gisco-services.ec.europa.eu/distribution/v2/nuts/ "
    "(e.g. NUTS_RG_20M_2021_4326_LEVL_2.geojson)"
)
# Where the bulk of Europe lies in EPSG:3035 metres (Azores to the Caucasus, Canaries to the
# North Cape); used only when a file names no CRS and its coordinates are not degrees.
_LAEA_EUROPE = (1.0e6, 0.5e6, 8.0e6, 6.0e6)


class BoundaryFileError(ValueError):
    """A boundary file cannot be read as NUTS regions; the message says why and how to fix it."""


def read_nuts_geojson(path: str | Path, *, crs: str | int | None = None) -> gpd.GeoDataFrame:
    """Read a Eurostat GISCO NUTS GeoJSON file of any year into EPSG:4326.

    The CRS is taken from, in order: the ``crs`` argument, the file's ``crs`` member (GISCO files
    have one), or the coordinates themselves (degrees mean EPSG:4326, metres centred on Europe
    mean EPSG:3035). Projected coordinates are read as easting, northing, as GISCO and GDAL
    write them. Eurostat's country codes are turned into ISO 3166-1 alpha-2 (``EL`` -> ``GR``,
    ``UK`` -> ``GB``); NUTS identifiers are kept as published (``EL30``, ``UKI3``).

    Parameters
    ----------
    path : str or pathlib.Path
        A GISCO NUTS file such as ``NUTS_RG_20M_2021_4326_LEVL_2.geojson`` or its EPSG:3035
        variant.
    crs : str or int, optional
        The file's CRS when it names none and cannot be inferred, e.g. ``"EPSG:3035"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``nuts_id`` (str), ``level`` (int), ``country_code`` (str), ``name`` (str, the
        Latin-script name) and ``geometry``, in EPSG:4326, sorted by level and ``nuts_id``.

    Raises
    ------
    BoundaryFileError
        If the file is not a GeoJSON FeatureCollection of NUTS regions (missing ``NUTS_ID``,
        ``LEVL_CODE``, ``CNTR_CODE`` or a name, or a feature without geometry), or its CRS is
        unknown or unsupported (EPSG:4326, 4258, 3035 and 3857 are supported).

    Examples
    --------
    >>> regions = read_nuts_geojson("NUTS_RG_20M_2021_4326_LEVL_2.geojson")  # doctest: +SKIP
    >>> attica = regions.set_index("nuts_id").loc["EL30"]  # doctest: +SKIP
    >>> attica["country_code"], attica["name"]  # doctest: +SKIP
    ('GR', 'Attiki')
    ['GR', 'Attiki']
    """
    path = Path(path)
    document = _load_feature_collection(path)
    features: list[dict[str, Any]] = document["features"]
    check_properties(path, features)
    geometries = [_geometry_of(path, feature) for feature in features]
    properties = [feature.get("properties") or {} for feature in features]
    missing_geometry = [
        str(props.get("NUTS_ID"))
        for props, geometry in zip(properties, geometries, strict=True)
        if geometry is None or geometry.is_empty
    ]
    if missing_geometry:
        raise BoundaryFileError(
            f"{path.name}: regions without geometry: {_some(missing_geometry)}. "
            f"Use a region (RG) file, not a label-point (LB) or boundary-line (BN) file. "
            f"{_GISCO_HINT}."
        )
    source_crs = _resolve_crs(path, document, geometries, crs)
    return nuts_frame(properties, geometries, source_crs)


def nuts_frame(
    properties: Sequence[Mapping[str, Any]],
    geometries: Sequence[shapely.Geometry | None],
    source_crs: CRS,
) -> gpd.GeoDataFrame:
    """The regions of checked GISCO properties and geometries, in EPSG:4326 and the columns of
    :data:`NUTS_COLUMNS`; every reader (GeoJSON, shapefile, GeoPackage) ends here."""
    country = [str(props["CNTR_CODE"]).strip() for props in properties]
    frame = gpd.GeoDataFrame(
        {
            "nuts_id": [str(props["NUTS_ID"]).strip() for props in properties],
            "level": np.array(
                [int(float(props["LEVL_CODE"])) for props in properties], dtype=np.int64
            ),
            "country_code": [_registry_country(code) for code in country],
            "name": [_name_of(props) for props in properties],
        },
        geometry=list(geometries),
        crs=source_crs,
    )
    if source_crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame = frame.sort_values(["level", "nuts_id"], ignore_index=True)
    return frame[NUTS_COLUMNS]


def _registry_country(code: str) -> str:
    # Through the one crosswalk (EL -> GR, UK -> GB); a code it does not know is kept, and the
    # import then finds no registry country for it.
    try:
        return country_code(code)
    except UnknownCode:
        return code


def assign_regions(
    points: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, *, id_col: str = "nuts_id"
) -> pd.Series[Any]:
    """Find the region each point lies in.

    A point lies in a region when it is within it (spatial join, predicate ``"within"``). A
    point on a border lies within no region; it is given the region with the smallest id among
    those it touches, so the answer does not depend on row order. Points outside every region,
    or without geometry, get a missing value.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Points, e.g. cancer centres or city centroids.
    regions : geopandas.GeoDataFrame
        Polygons with an id column, e.g. the output of :func:`read_nuts_geojson` for one level.
        Pass a single level: overlapping regions of several levels give the smallest id.
    id_col : str, default "nuts_id"
        The column of ``regions`` to return.

    Returns
    -------
    pandas.Series
        The region id of each point, indexed like ``points`` and named ``id_col``.

    Raises
    ------
    ValueError
        If either frame has no CRS, the CRSs differ, ``id_col`` is not a column of ``regions``
        or a geometry in ``points`` is not a point.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> regions = gpd.GeoDataFrame(
    ...     {"nuts_id": ["AA1", "AA2"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326
    ... )
    >>> points = gpd.GeoDataFrame(
    ...     geometry=[Point(0.5, 0.5), Point(1, 0.5), Point(5, 5)], crs=4326
    ... )
    >>> assign_regions(points, regions).tolist()
    ['AA1', 'AA1', nan]
    """
    if points.crs is None or regions.crs is None:
        raise ValueError("points and regions need a CRS; set it with .set_crs() before joining")
    if points.crs != regions.crs:
        raise ValueError(
            f"points are in {points.crs.to_string()} but regions in {regions.crs.to_string()}; "
            "reproject one of them with .to_crs() first"
        )
    if id_col not in regions.columns:
        raise ValueError(f"regions has no column {id_col!r}; pass id_col= to name the id column")
    geometry_types = points.geom_type.dropna()
    if not geometry_types.eq("Point").all():
        others = sorted(set(geometry_types) - {"Point"})
        raise ValueError(f"points must be Point geometries, found {', '.join(others)}")

    # Join on positions so duplicate index labels in either frame cannot mix rows up.
    point_frame = gpd.GeoDataFrame(
        {"point_pos": np.arange(len(points))}, geometry=points.geometry.to_numpy(), crs=points.crs
    )
    region_ids: pd.Series[Any] = regions[id_col].reset_index(drop=True)
    region_frame = gpd.GeoDataFrame(
        {"region_pos": np.arange(len(regions)), "region_id": region_ids.to_numpy()},
        geometry=regions.geometry.to_numpy(),
        crs=regions.crs,
    )
    columns = ["point_pos", "region_pos", "region_id"]
    inside = point_frame.sjoin(region_frame, how="inner", predicate="within")[columns]
    on_border = point_frame[~point_frame["point_pos"].isin(inside["point_pos"])]
    touching = on_border.sjoin(region_frame, how="inner", predicate="intersects")[columns]
    matches = (
        pd.concat([inside, touching], ignore_index=True)
        .sort_values(["point_pos", "region_id"], kind="stable")
        .drop_duplicates("point_pos")
    )

    region_of_point = np.full(len(points), -1, dtype=np.int64)
    region_of_point[matches["point_pos"].to_numpy()] = matches["region_pos"].to_numpy()
    result = region_ids.reindex(region_of_point)  # position -1 is no region: missing
    result.index = points.index
    result.name = id_col
    return result


def _load_feature_collection(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise BoundaryFileError(
            f"{path.name} is not UTF-8 text ({error.reason}); is it a shapefile or GeoPackage? "
            f"Convert it to GeoJSON or download the GeoJSON variant. {_GISCO_HINT}."
        ) from error
    except json.JSONDecodeError as error:
        raise BoundaryFileError(
            f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); the download may be incomplete. {_GISCO_HINT}."
        ) from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        found = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise BoundaryFileError(
            f"{path.name} should be a GeoJSON FeatureCollection, found {found!r}. {_GISCO_HINT}."
        )
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryFileError(f"{path.name} has no features. {_GISCO_HINT}.")
    return document


def check_properties(path: Path, features: Sequence[Mapping[str, Any]]) -> None:
    problems = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        missing = [key for key in _REQUIRED_PROPERTIES if props.get(key) in (None, "")]
        if not any(props.get(key) for key in _NAME_PROPERTIES):
            missing.append(" or ".join(_NAME_PROPERTIES))
        if missing:
            label = props.get("NUTS_ID") or f"feature {number}"
            problems.append(f"{label} lacks {', '.join(missing)}")
        elif not _is_level(props["LEVL_CODE"]):
            problems.append(f"{props['NUTS_ID']} has LEVL_CODE {props['LEVL_CODE']!r}, not 0-3")
    if problems:
        raise BoundaryFileError(
            f"{path.name} does not look like a GISCO NUTS file: {_some(problems)}. Each region "
            f"needs the properties {', '.join(_REQUIRED_PROPERTIES)} and NAME_LATN or "
            f"NUTS_NAME. {_GISCO_HINT}."
        )


def _geometry_of(path: Path, feature: Mapping[str, Any]) -> shapely.Geometry | None:
    if not feature.get("geometry"):
        return None
    try:
        return shapely.geometry.shape(feature["geometry"])
    except (ValueError, TypeError, KeyError, IndexError) as error:
        label = (feature.get("properties") or {}).get("NUTS_ID", "a feature")
        raise BoundaryFileError(
            f"{path.name}: the geometry of {label} is not valid GeoJSON ({error}). {_GISCO_HINT}."
        ) from error


def _is_level(value: object) -> bool:
    # GISCO writes integers; files that passed through other tools may hold "2" or 2.0.
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return float(value) in {0.0, 1.0, 2.0, 3.0}
    return isinstance(value, str) and value.strip() in {"0", "1", "2", "3"}


def _name_of(props: Mapping[str, Any]) -> str:
    # GISCO names sometimes carry a trailing no-break space.
    return next(str(props[key]).strip() for key in _NAME_PROPERTIES if props.get(key))


def _resolve_crs(
    path: Path,
    document: Mapping[str, Any],
    geometries: Sequence[shapely.Geometry | None],
    override: str | int | None,
) -> CRS:
    if override is not None:
        return supported_crs(path, _parse_crs(path, override, "the crs argument"))
    member = document.get("crs")
    if member is not None:
        return supported_crs(path, _crs_from_member(path, member))
    return infer_crs(path, geometries)


def _crs_from_member(path: Path, member: object) -> CRS:
    # GeoJSON 2008 named CRSs two ways; RFC 7946 dropped the member (and means WGS 84).
    if isinstance(member, dict):
        props = member.get("properties") or {}
        if member.get("type") == "name" and "name" in props:
            return _parse_crs(path, props["name"], "its crs member")
        if member.get("type") == "EPSG" and "code" in props:
            return _parse_crs(path, f"EPSG:{props['code']}", "its crs member")
    raise BoundaryFileError(
        f"{path.name} has a crs member this reader does not understand: {member!r}. "
        'Expected {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}; '
        "fix the member or pass crs='EPSG:...'."
    )


def _parse_crs(path: Path, value: object, where: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError as error:
        raise BoundaryFileError(
            f"{path.name}: unknown CRS {value!r} in {where}; use a GISCO file in EPSG:4326 or "
            "EPSG:3035, or pass crs='EPSG:...'."
        ) from error


def supported_crs(path: Path, crs: CRS) -> CRS:
    if crs.to_authority() == ("OGC", "CRS84"):  # WGS 84 in longitude, latitude order
        return CRS.from_epsg(4326)
    epsg = crs.to_epsg()
    if epsg in _SUPPORTED_EPSG:
        return CRS.from_epsg(epsg)  # "urn:ogc:def:crs:EPSG::4326" and "EPSG:4326" alike
    supported = ", ".join(f"EPSG:{code} ({name})" for code, name in _SUPPORTED_EPSG.items())
    raise BoundaryFileError(
        f"{path.name} is in {crs.to_string()} ({crs.name}), which this reader does not support; "
        f"supported: {supported}. Download the EPSG:4326 variant from GISCO or reproject the "
        "file, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson."
    )


def infer_crs(path: Path, geometries: Sequence[shapely.Geometry | None]) -> CRS:
    bounds = shapely.bounds(np.asarray(geometries, dtype=object))
    min_x, min_y = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    max_x, max_y = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    if min_x >= -180 and max_x <= 180 and min_y >= -90 and max_y <= 90:
        return CRS.from_epsg(4326)
    centre_x = float(np.median((bounds[:, 0] + bounds[:, 2]) / 2))
    centre_y = float(np.median((bounds[:, 1] + bounds[:, 3]) / 2))
    left, bottom, right, top = _LAEA_EUROPE
    if left <= centre_x <= right and bottom <= centre_y <= top:
        return CRS.from_epsg(3035)
    raise BoundaryFileError(
        f"{path.name} names no CRS and its coordinates (x {min_x:.0f} to {max_x:.0f}, "
        f"y {min_y:.0f} to {max_y:.0f}) are neither degrees nor EPSG:3035 metres over Europe; "
        "pass crs='EPSG:...' or use a GISCO file, which names its CRS."
    )


def _some(items: Sequence[str], limit: int = 5) -> str:
    shown = "; ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} (and {len(items) - limit} more)"
