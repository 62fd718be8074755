"""The data an interactive map's layer script reads (``choropleth_layer.js``), made compact and
safe to place inside a ``<script>`` element.

Areas travel as rings of integer steps (about half the weight of the same GeoJSON), styles and
hatch patterns as small dicts, centres as a GeoJSON FeatureCollection with short property
names, and the whole as JSON in which no character can close the script element.
"""

from __future__ import annotations

import html
import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from mapping.classify import LOW_COVERAGE, NO_DATA, OUTSIDE_STUDY, Classification
from mapping.render import (
    BORDER_COLOUR,
    CENTRE_NOT_OFFERING_COLOUR,
    CENTRE_OFFERING_COLOUR,
    HATCH_STYLES,
    OUTSIDE_STUDY_COLOUR,
    class_colours,
)
from mapping.render.tooltips import as_text

MAX_DECIMALS = 7


def exact_decimals(geometries: gpd.GeoSeries) -> int:
    """The fewest decimals (at most 6, about 10 cm) that carry every coordinate exactly.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> exact_decimals(gpd.GeoSeries([box(0, 0, 1.25, 1)], crs=4326))
    2
    """
    coordinates = shapely.get_coordinates(geometries.to_numpy())
    for decimals in range(7):
        scaled = coordinates * 10**decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return decimals
    return 6


_ENCODED: dict[tuple[int, int], tuple[shapely.Geometry, list[list[list[int]]]]] = {}
_ENCODED_MAX = 20_000
"""Encoded areas kept per process: the simplified layers are kept per data version
(:mod:`mapping.layers`), so the same geometry objects come back with every map of a level and
are encoded once. Keyed by identity with the geometry held beside it, so an id is never reused
while its entry lives; past the bound the table starts afresh."""


def encode_polygons(geometry: shapely.Geometry, decimals: int) -> list[list[list[int]]]:
    """:func:`encode_rings` of ``geometry``, kept for the geometry objects of the cached layers.

    The lists returned are shared: callers serialise them and never change them.
    """
    found = _ENCODED.get((id(geometry), decimals))
    if found is not None and found[0] is geometry:
        return found[1]
    encoded = encode_rings(geometry, decimals)
    if len(_ENCODED) >= _ENCODED_MAX:
        _ENCODED.clear()
    _ENCODED[(id(geometry), decimals)] = (geometry, encoded)
    return encoded


def encode_rings(geometry: shapely.Geometry, decimals: int) -> list[list[list[int]]]:
    """Polygons as rings of integer steps: ``[x0, y0, dx1, dy1, ...]`` in 10^-decimals degrees.

    Consecutive vertices are close, so their differences take two or three digits where a
    coordinate takes five or six: the geometry weighs about half of the same GeoJSON. Steps
    run on from ring to ring within an area, and the closing vertex is left out (the page
    repeats the first one). The page decodes it back to a GeoJSON MultiPolygon.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> encode_rings(box(0, 0, 1, 1), 0)
    [[[1, 0, 0, 1, -1, 0, 0, -1]]]
    """
    scale = 10**decimals
    x = y = 0
    polygons = []
    for polygon in shapely.get_parts(geometry):
        rings = []
        for ring in (polygon.exterior, *polygon.interiors):
            steps: list[int] = []
            for px, py in np.round(np.asarray(ring.coords)[:-1] * scale).astype(np.int64):
                steps += [int(px) - x, int(py) - y]
                x, y = int(px), int(py)
            rings.append(steps)
        polygons.append(rings)
    return polygons


def class_labels(classification: Classification) -> dict[str, str]:
    """Every class code an area can carry, with its label, even if no area of this map has it."""
    codes = [*(c.index for c in classification.classes), NO_DATA, LOW_COVERAGE, OUTSIDE_STUDY]
    return {str(code): classification.label_of(code) for code in codes}


def area_styles(classification: Classification, map_name: str) -> dict[str, dict[str, Any]]:
    """Leaflet path styles by class code: palette fills, hatch patterns for no data and low
    coverage, plain grey outside the study."""
    line = {"color": BORDER_COLOUR, "weight": 0.6, "opacity": 1, "fillOpacity": 1}
    styles = {
        str(index): {**line, "fillColor": colour}
        for index, colour in enumerate(class_colours(len(classification.classes)))
    }
    for code in HATCH_STYLES:
        styles[str(code)] = {**line, "fillColor": f"url(#{_pattern_id(map_name, code)})"}
    styles[str(OUTSIDE_STUDY)] = {**line, "fillColor": OUTSIDE_STUDY_COLOUR}
    return styles


def patterns(map_name: str) -> list[dict[str, str]]:
    """The SVG hatch patterns of the "no data" and "low coverage" classes, one id per map."""
    return [
        {
            "id": _pattern_id(map_name, code),
            "kind": "lines" if "/" in style.hatch else "dots",
            "background": style.background,
            "ink": style.ink,
        }
        for code, style in HATCH_STYLES.items()
    ]


def centre_payload(centres: gpd.GeoDataFrame, centre_labels: tuple[str, str]) -> dict[str, Any]:
    """The centre layer: points with name, offer flag and tooltip texts, and their styles.

    Raises
    ------
    ValueError
        For a frame without a CRS, without ``name`` or ``offers``, or with other geometries
        than points.
    """
    if centres.crs is None:
        raise ValueError("the centres have no CRS; set it with .set_crs(4326)")
    missing = [column for column in ("name", "offers") if column not in centres.columns]
    if missing:
        raise ValueError(f"the centres have no column {', '.join(map(repr, missing))}")
    points = centres[~(centres.geometry.isna() | centres.geometry.is_empty)]
    if not points.geom_type.eq("Point").all():
        raise ValueError("centres must be Point geometries")
    points = points if points.crs.to_epsg() == 4326 else points.to_crs(4326)
    has_city = "city" in points.columns
    features = []
    for record, point in zip(
        points.drop(columns=points.geometry.name).to_dict("records"), points.geometry, strict=True
    ):
        offers = bool(record["offers"])
        texts = [as_text(record["city"])] if has_city else []
        texts.append(centre_labels[0] if offers else centre_labels[1])
        features.append(
            {
                "type": "Feature",
                "properties": {"n": as_text(record["name"]), "o": int(offers), "t": texts},
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(point.x, 5), round(point.y, 5)],
                },
            }
        )
    marker = {"radius": 4.5, "color": "#000000", "weight": 1.2, "opacity": 1, "fillOpacity": 1}
    return {
        "centres": {"type": "FeatureCollection", "features": features},
        "centreLabels": [*(["City"] if has_city else []), "Technology"],
        "centreStyles": [
            {**marker, "fillColor": CENTRE_NOT_OFFERING_COLOUR, "radius": 4},
            {**marker, "fillColor": CENTRE_OFFERING_COLOUR},
        ],
        # Leaflet's layer control writes overlay names as HTML: escape ours.
        "centreLayer": html.escape("Centres"),
    }


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``</script>``, no ``<!--``.

    Examples
    --------
    >>> script_json({"name": "</script>"})
    '{"name":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for character, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(character, escape)
    return text


def _pattern_id(map_name: str, code: int) -> str:
    return f"{map_name}-{'no-data' if code == NO_DATA else 'low-coverage'}"
