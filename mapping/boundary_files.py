"""Every GISCO NUTS distribution read into one shape: GeoJSON, shapefile (plain or zipped) and
GeoPackage.

GISCO publishes the same regions as GeoJSON, as shapefiles (``.shp`` with its ``.dbf`` and
``.prj``, usually in a ``.shp.zip``, sometimes a zip of zips, one per level and CRS) and as
GeoPackage. :func:`read_nuts_file` reads any of them with the checks and the output of
:func:`mapping.boundaries.read_nuts_geojson`: EPSG:4326, columns ``nuts_id``, ``level``,
``country_code`` (the registry's code), ``name`` and ``geometry``.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pyogrio
from pyproj import CRS

from mapping.boundaries import (
    BoundaryFileError,
    check_properties,
    infer_crs,
    nuts_frame,
    read_nuts_geojson,
    supported_crs,
)

GEOJSON_SUFFIXES = frozenset({".geojson", ".json"})
OGR_SUFFIXES = frozenset({".shp", ".gpkg", ".zip"})
SUPPORTED = ".geojson, .json, .shp, .shp.zip (or .zip) and .gpkg"
_PROPERTIES = ("NUTS_ID", "LEVL_CODE", "CNTR_CODE", "NAME_LATN", "NUTS_NAME")


def read_nuts_file(
    path: str | Path, *, level: int | None = None, crs: str | int | None = None
) -> gpd.GeoDataFrame:
    """Read a GISCO NUTS file of any distribution format into EPSG:4326.

    Parameters
    ----------
    path : str or pathlib.Path
        ``NUTS_RG_20M_2021_4326_LEVL_2.geojson``, ``….shp``, ``….shp.zip`` or ``….gpkg``.
    level : int, optional
        The NUTS level wanted; picks the member of a zip holding several shapefiles
        (``…_LEVL_2…``). The rows of other levels are returned all the same.
    crs : str or int, optional
        The file's CRS when it names none (a shapefile without ``.prj``).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`mapping.boundaries.read_nuts_geojson`.

    Raises
    ------
    BoundaryFileError
        If the format is not supported, the file cannot be read, or it does not hold NUTS
        regions.

    Examples
    --------
    >>> regions = read_nuts_file("NUTS_RG_20M_2024_4326.shp.zip", level=2)  # doctest: +SKIP
    >>> regions.crs.to_epsg()  # doctest: +SKIP
    4326
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        return read_nuts_geojson(path, crs=crs)
    if suffix not in OGR_SUFFIXES:
        raise BoundaryFileError(
            f"{path.name}: unknown boundary file format {path.suffix!r}; GISCO files come as "
            f"{SUPPORTED}."
        )
    with _ogr_source(path, level) as (source, label):
        frame = _read_ogr(source, label)
    return _as_nuts(frame, label, crs)


@contextmanager
def _ogr_source(path: Path, level: int | None) -> Iterator[tuple[str, str]]:
    """The OGR path of the layer to read (a zip member through ``/vsizip/``) and its label."""
    if path.suffix.lower() != ".zip":
        yield str(path), path.name
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            shapefiles = [n for n in names if n.lower().endswith((".shp", ".gpkg"))]
            if shapefiles:
                member = _choose(path, shapefiles, level)
                yield f"/vsizip/{path}/{member}", f"{path.name}!{member}"
                return
            nested = [n for n in names if n.lower().endswith(".zip")]
            if not nested:
                raise BoundaryFileError(
                    f"{path.name} holds no shapefile (.shp) or GeoPackage; GISCO files come as "
                    f"{SUPPORTED}."
                )
            member = _choose(path, nested, level)
            with tempfile.TemporaryDirectory() as folder:
                inner = Path(folder) / PurePosixPath(member).name
                inner.write_bytes(archive.read(member))
                with _ogr_source(inner, level) as (source, label):
                    yield source, f"{path.name}!{label}"
    except zipfile.BadZipFile as error:
        raise BoundaryFileError(
            f"{path.name} is not a readable zip file ({error}); the download may be incomplete."
        ) from error


def _choose(path: Path, members: list[str], level: int | None) -> str:
    """The one member to read: the only one, or the one named for the level in EPSG:4326."""
    if len(members) == 1:
        return members[0]
    if level is not None:
        named = [m for m in members if f"LEVL_{level}" in PurePosixPath(m).name.upper()]
        preferred = [m for m in named if "_4326_" in PurePosixPath(m).name] or named
        if len(preferred) == 1:
            return preferred[0]
    raise BoundaryFileError(
        f"{path.name} holds several files ({', '.join(sorted(members)[:6])}); give --level, or "
        "extract the one to import."
    )


def _read_ogr(source: str, label: str) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(source)
        layer = next((str(name) for name, _ in layers if "NUTS" in str(name).upper()), None)
        return gpd.read_file(source, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise BoundaryFileError(f"{label} cannot be read as boundaries: {error}") from error


def _as_nuts(frame: gpd.GeoDataFrame, label: str, crs: str | int | None) -> gpd.GeoDataFrame:
    if frame.empty:
        raise BoundaryFileError(f"{label} has no features.")
    path = Path(label)
    columns = {str(c).upper(): c for c in frame.columns if c != frame.geometry.name}
    properties: list[dict[str, Any]] = [
        {key: _cell(row.get(columns[key])) for key in _PROPERTIES if key in columns}
        for row in frame.to_dict("records")
    ]
    check_properties(path, [{"properties": props} for props in properties])
    geometries = list(frame.geometry)
    empty = [str(p.get("NUTS_ID")) for p, g in zip(properties, geometries, strict=True) if _no(g)]
    if empty:
        raise BoundaryFileError(f"{label}: regions without geometry: {', '.join(empty[:5])}.")
    if crs is not None:
        source_crs = supported_crs(path, CRS.from_user_input(crs))
    elif frame.crs is not None:
        source_crs = supported_crs(path, CRS.from_user_input(frame.crs))
    else:
        source_crs = infer_crs(path, geometries)
    return nuts_frame(properties, geometries, source_crs)


def _cell(value: Any) -> Any:
    return None if value is None or value != value else value


def _no(geometry: Any) -> bool:
    return geometry is None or bool(geometry.is_empty)
