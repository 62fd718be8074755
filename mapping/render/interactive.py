"""Interactive choropleth maps for the web pages, built with folium, served without any CDN.

:func:`choropleth_map` returns an **HTML fragment**, not a whole page: the page that shows a map
also shows its data table (the accessible alternative), the class choice and the download
buttons, and the app's CSP forbids framing (``frame-ancestors 'none'``), so the map goes into the
page itself. :func:`map_page` wraps a fragment into a standalone document (benchmarks, files).

What the fragment holds, and why:

* folium builds the element tree and the Leaflet script (the map, our layer element, the names).
  Its asset lists are *replaced* before rendering (``default_js`` / ``default_css`` on the map
  instance) by Leaflet served by the app (:func:`mapping.render.assets.map_assets`); rendering
  fails if folium asks for any other asset, so a folium upgrade cannot quietly add a CDN.
* The page is assembled from folium's rendered parts: the asset links it collected and the
  script. folium's own page template and the map's header (inline styles and an inline
  ``<script>`` without a nonce) are not used; every ``<script>`` here carries the nonce, so the
  fragment runs under ``script-src 'self' 'nonce-...'``.
* The areas are one GeoJSON layer drawn by our own element, not ``folium.GeoJson``: folium's
  ``GeoJsonTooltip`` writes property values into ``innerHTML`` unescaped (markup in a centre or
  region name would run), and its per-feature style switch and indented JSON weigh more. Our
  tooltips are built with ``textContent``, so user text can never become markup; strings that
  go into HTML (the legend, the layer control) are escaped with :func:`html.escape`.
* No tile layer: the map shows only the areas and the centres, on white.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapping.classify import LOW_COVERAGE, NO_DATA, Classification
from mapping.render import (
    BORDER_COLOUR,
    CENTRE_NOT_OFFERING_COLOUR,
    CENTRE_OFFERING_COLOUR,
    HATCH_STYLES,
    HatchStyle,
    class_colours,
    main_frame,
)
from mapping.render.assets import MapAssets, map_assets

_NONCE = re.compile(r"^[A-Za-z0-9+/_=-]{8,256}$")
_CSS_LENGTH = re.compile(r"^\d+(\.\d+)?(px|rem|em|vh|%)$")
_MAX_DECIMALS = 7


class AssetPolicyError(RuntimeError):
    """folium asked for an asset that the app does not serve (a CDN URL, a plugin)."""


@dataclass(frozen=True)
class TooltipField:
    """One row of an area's tooltip.

    Attributes
    ----------
    column : str
        The column of the areas frame shown in the row.
    label : str
        The row's label.
    of_column : str, optional
        A column shown as "x of y", e.g. the centres expected after the centres responding.
    source_column, year_column : str, optional
        Columns named in brackets after the value, e.g. the denominator's source and year:
        "5,123,000 (Eurostat demo_r_pjan, 2023)".
    """

    column: str
    label: str
    of_column: str | None = None
    source_column: str | None = None
    year_column: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the row reads."""
        optional = (self.of_column, self.source_column, self.year_column)
        return (self.column, *(column for column in optional if column is not None))


INDICATOR_TOOLTIP: tuple[TooltipField, ...] = (
    TooltipField("numerator", "Numerator"),
    TooltipField(
        "denominator",
        "Denominator",
        source_column="denominator_source",
        year_column="denominator_year",
    ),
    TooltipField("responding", "Centres responding", of_column="expected"),
)
"""The rows of an indicator map's tooltip, after the value: numerator, denominator with its
source and year, and the centres responding out of those expected; the column names of
:func:`mapping.indicators.indicator_by_area`."""


def choropleth_map(
    areas: gpd.GeoDataFrame,
    classification: Classification,
    *,
    nonce: str,
    value_label: str,
    tooltip_fields: Sequence[TooltipField] = INDICATOR_TOOLTIP,
    centres: gpd.GeoDataFrame | None = None,
    asset_base_url: str = "/vendor",
    id_col: str = "area_code",
    name_col: str = "area_name",
    value_col: str = "value",
    centre_labels: tuple[str, str] = ("Centre offering it", "Centre not offering it"),
    title: str | None = None,
    source_note: str | None = None,
    height: str = "32rem",
    include_assets: bool = True,
    coordinate_decimals: int | None = None,
) -> str:
    """An interactive choropleth of one indicator, as an HTML fragment for a page.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        One row per area, in any CRS: the id, name, value and tooltip columns and the geometry
        (the indicator frame of :func:`mapping.indicators.indicator_by_area` joined to the
        boundaries). Simplify it first (:func:`mapping.simplify.simplify_coverage`): the
        geometry is embedded as given.
    classification : Classification
        The classes of the values, indexed by area id (:func:`mapping.classify.classify`). An
        area the classification does not name is drawn as "no data"; classified ids that are
        not in ``areas`` are not drawn.
    nonce : str
        The CSP nonce of the response; every ``<script>`` of the fragment carries it.
    value_label : str
        What the value is, with its unit: the legend title and the tooltip's first row.
    tooltip_fields : sequence of TooltipField, default INDICATOR_TOOLTIP
        The tooltip rows after the value and the class.
    centres : geopandas.GeoDataFrame, optional
        Centre points with columns ``name``, ``offers`` (bool) and, optionally, ``city``: a
        layer of filled (offering) and hollow (not offering) dots that can be switched off.
    asset_base_url : str, default "/vendor"
        Where the app serves :func:`mapping.render.assets.vendor_packages`; a same-origin path.
    id_col, name_col, value_col : str
        Column names in ``areas``.
    centre_labels : (str, str)
        Legend and tooltip wording for centres offering and not offering the technology.
    title : str, optional
        Accessible name of the map (``aria-label``); ``value_label`` by default.
    source_note : str, optional
        A line under the legend, e.g. "Boundaries © EuroGeographics. Survey 2025."
    height : str, default "32rem"
        CSS height of the map.
    include_assets : bool, default True
        Include Leaflet's ``<link>`` and ``<script src>``; pass False for the second map of a
        page that already loads them.
    coordinate_decimals : int, optional
        Decimals of the coordinates sent to the browser; by default the fewest (up to 6) that
        carry the coordinates exactly, which is what :func:`mapping.simplify.simplify_coverage`
        rounded them to.

    Returns
    -------
    str
        A ``<div class="ag-map">`` holding the map, its legend and its scripts. It loads
        only ``asset_base_url`` URLs and contains no absolute URL.

    Raises
    ------
    ValueError
        For a frame without a CRS or without a needed column, non-point centres, an unsafe
        nonce, height or ``asset_base_url``.
    AssetPolicyError
        If folium asks for an asset the app does not serve.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import pandas as pd
    >>> from shapely.geometry import box
    >>> from mapping.classify import classify
    >>> areas = gpd.GeoDataFrame(
    ...     {"area_code": ["AT", "CH"], "area_name": ["Austria", "Switzerland"],
    ...      "value": [4.2, 6.1]},
    ...     geometry=[box(9.5, 46.4, 17.2, 49.0), box(5.9, 45.8, 10.5, 47.8)],
    ...     crs=4326,
    ... )
    >>> classes = classify(areas.set_index("area_code")["value"], "quantiles", k=2)
    >>> fragment = choropleth_map(
    ...     areas, classes, nonce="r4nd0mN0nce", value_label="PET-CT per million",
    ...     tooltip_fields=[],
    ... )
    >>> fragment.startswith('<div class="ag-map"')
    True
    >>> fragment.count("<script"), fragment.count('nonce="r4nd0mN0nce"')
    (2, 2)
    """
    import folium
    from folium.template import Template

    if not _NONCE.match(nonce):
        raise ValueError("nonce must be 8 to 256 base64 characters, as the CSP nonce is")
    if not _CSS_LENGTH.match(height):
        raise ValueError(f"height must be a CSS length such as '32rem' or '480px', got {height!r}")
    assets = map_assets(asset_base_url)
    frame = _checked_areas(areas, id_col, name_col, value_col, tooltip_fields)
    codes = (
        classification.codes.reindex(frame[id_col].to_numpy())
        .fillna(NO_DATA)
        .astype("int64")
        .to_numpy()
    )
    (west, south, east, north), _ = main_frame(frame.geometry)

    leaflet_map = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=4,
        tiles=None,
        control_scale=True,
    )
    # Replace folium's asset lists (eleven CDN URLs) on this instance before anything renders.
    leaflet_map.default_js = list(assets.js)
    leaflet_map.default_css = list(assets.css)
    leaflet_map.options.update(min_zoom=2, max_zoom=11, zoom_snap=0.25)
    map_name = leaflet_map.get_name()

    if coordinate_decimals is None:
        coordinate_decimals = _coordinate_decimals(frame.geometry)
    elif not 0 <= coordinate_decimals <= _MAX_DECIMALS:
        raise ValueError(f"coordinate_decimals must be 0 to {_MAX_DECIMALS}")
    labels, rows = _tooltip_rows(frame, value_col, value_label, tooltip_fields)
    payload: dict[str, Any] = {
        "labels": labels,
        "classLabels": _class_labels(classification),
        "scale": 10**coordinate_decimals,
        "areas": [
            [
                str(area_id),
                _text(name),
                int(code),
                texts,
                _encode_polygons(geometry, coordinate_decimals),
            ]
            for area_id, name, code, texts, geometry in zip(
                frame[id_col], frame[name_col], codes, rows, frame.geometry, strict=True
            )
        ],
        "styles": _area_styles(classification, map_name),
        "patterns": _patterns(map_name),
        "bounds": [[south, west], [north, east]],
    }
    if centres is not None:
        payload.update(_centre_payload(centres, centre_labels))

    # Our layer: a folium element whose template is the script below; it reads `payload`.
    layer: Any = folium.MacroElement()  # type: ignore[no-untyped-call]  # branca is unannotated
    layer._template = Template(_LAYER_SCRIPT)
    layer.payload = _script_json(payload)
    leaflet_map.add_child(layer, name="accessgap_choropleth")

    figure: Any = leaflet_map.get_root()
    figure.render()
    links = _asset_links(figure, assets, map_name)
    script = figure.script.render()

    nonce_attr = html.escape(nonce, quote=True)
    label = html.escape(title or value_label, quote=True)
    parts = [f'<div class="ag-map" data-map="{map_name}">']
    if include_assets:
        parts += [f'<link rel="stylesheet" href="{html.escape(url)}">' for url in links.css]
    parts.append(
        f'<div class="ag-map__canvas" id="{map_name}" role="region" aria-label="{label}" '
        f'style="position:relative;width:100%;height:{height};background:#ffffff"></div>'
    )
    parts.append(_legend_html(classification, value_label, centres is not None, centre_labels))
    if source_note:
        parts.append(
            f'<p class="ag-map__source" style="font-size:0.85em;margin:0.25em 0">'
            f"{html.escape(source_note)}</p>"
        )
    if include_assets:
        parts += [
            f'<script src="{html.escape(url)}" nonce="{nonce_attr}"></script>' for url in links.js
        ]
    parts.append(f'<script nonce="{nonce_attr}">\n{script}\n</script>')
    parts.append("</div>")
    return "\n".join(parts)


def map_page(fragment: str, *, title: str, lang: str = "en") -> str:
    """A standalone HTML document around a :func:`choropleth_map` fragment.

    Examples
    --------
    >>> map_page('<div class="ag-map"></div>', title="Access <map>").splitlines()[0]
    '<!DOCTYPE html>'
    >>> "<title>Access &lt;map&gt;</title>" in map_page("", title="Access <map>")
    True
    """
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang, quote=True)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )


# --- the data the layer script reads ----------------------------------------------------------


def _checked_areas(
    areas: gpd.GeoDataFrame,
    id_col: str,
    name_col: str,
    value_col: str,
    tooltip_fields: Sequence[TooltipField],
) -> gpd.GeoDataFrame:
    if areas.crs is None:
        raise ValueError("the areas have no CRS; set it with .set_crs() (GISCO: EPSG:4326)")
    needed = [id_col, name_col, value_col, *(c for f in tooltip_fields for c in f.columns)]
    missing = [column for column in dict.fromkeys(needed) if column not in areas.columns]
    if missing:
        raise ValueError(
            f"the areas have no column {', '.join(map(repr, missing))}; join the indicator "
            "frame to the boundaries first, or pass tooltip_fields= and the *_col names"
        )
    empty = areas.geometry.isna() | areas.geometry.is_empty
    if empty.any():
        labels = ", ".join(str(v) for v in areas.loc[empty, id_col].head(5))
        raise ValueError(f"areas without geometry: {labels}")
    return areas if areas.crs.to_epsg() == 4326 else areas.to_crs(4326)


def _tooltip_rows(
    frame: gpd.GeoDataFrame,
    value_col: str,
    value_label: str,
    tooltip_fields: Sequence[TooltipField],
) -> tuple[list[str], list[list[str]]]:
    """The tooltip labels, and each area's texts (the class label is looked up in the page).

    A source and year that are the same for every area go into the row's label, once, rather
    than into every area's text.
    """
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    labels = [value_label, "Class"]
    per_area_notes = []
    for field in tooltip_fields:
        notes = {_field_note(record, field) for record in records}
        shared = len(notes) == 1 and "" not in notes
        labels.append(f"{field.label} ({notes.pop()})" if shared else field.label)
        per_area_notes.append(not shared)
    rows = []
    for record in records:
        texts = [_format_number(record[value_col])]
        for field, with_note in zip(tooltip_fields, per_area_notes, strict=True):
            texts.append(_field_text(record, field, with_note=with_note))
        rows.append(texts)
    return labels, rows


def _class_labels(classification: Classification) -> dict[str, str]:
    """Every class code an area can carry, with its label, even if no area of this map has it."""
    codes = [*(c.index for c in classification.classes), NO_DATA, LOW_COVERAGE]
    return {str(code): classification.label_of(code) for code in codes}


def _coordinate_decimals(geometries: gpd.GeoSeries) -> int:
    """The fewest decimals (at most 6, about 10 cm) that carry every coordinate exactly."""
    coordinates = shapely.get_coordinates(geometries.to_numpy())
    for decimals in range(7):
        scaled = coordinates * 10**decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return decimals
    return 6


def _encode_polygons(geometry: shapely.Geometry, decimals: int) -> list[list[list[int]]]:
    """Polygons as rings of integer steps: ``[x0, y0, dx1, dy1, ...]`` in 10^-decimals degrees.

    Consecutive vertices are close, so their differences take two or three digits where a
    coordinate takes five or six: the geometry weighs about half of the same GeoJSON. Steps
    run on from ring to ring within an area, and the closing vertex is left out (the page
    repeats the first one). The page decodes it back to a GeoJSON MultiPolygon.
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


def _area_styles(classification: Classification, map_name: str) -> dict[str, dict[str, Any]]:
    line = {"color": BORDER_COLOUR, "weight": 0.6, "opacity": 1, "fillOpacity": 1}
    styles = {
        str(index): {**line, "fillColor": colour}
        for index, colour in enumerate(class_colours(len(classification.classes)))
    }
    for code in HATCH_STYLES:
        styles[str(code)] = {**line, "fillColor": f"url(#{_pattern_id(map_name, code)})"}
    return styles


def _patterns(map_name: str) -> list[dict[str, str]]:
    return [
        {
            "id": _pattern_id(map_name, code),
            "kind": "lines" if "/" in style.hatch else "dots",
            "background": style.background,
            "ink": style.ink,
        }
        for code, style in HATCH_STYLES.items()
    ]


def _pattern_id(map_name: str, code: int) -> str:
    return f"{map_name}-{'no-data' if code == NO_DATA else 'low-coverage'}"


def _centre_payload(centres: gpd.GeoDataFrame, centre_labels: tuple[str, str]) -> dict[str, Any]:
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
        texts = [_text(record["city"])] if has_city else []
        texts.append(centre_labels[0] if offers else centre_labels[1])
        features.append(
            {
                "type": "Feature",
                "properties": {"n": _text(record["name"]), "o": int(offers), "t": texts},
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


def _field_text(record: Mapping[str, Any], field: TooltipField, *, with_note: bool) -> str:
    value = record[field.column]
    if _missing(value):
        return "no data"
    text = _format_number(value)
    if field.of_column is not None and not _missing(record[field.of_column]):
        text = f"{text} of {_format_number(record[field.of_column])}"
    note = _field_note(record, field) if with_note else ""
    return f"{text} ({note})" if note else text


def _field_note(record: Mapping[str, Any], field: TooltipField) -> str:
    """The source and year of a row's value, e.g. "Eurostat demo_r_pjan, 2023"."""
    notes = []
    if field.source_column is not None and not _missing(record[field.source_column]):
        notes.append(_text(record[field.source_column]))
    if field.year_column is not None and not _missing(record[field.year_column]):
        notes.append(_format_year(record[field.year_column]))
    return ", ".join(notes)


def _format_number(value: Any) -> str:
    """A number as a tooltip shows it: thousands separators, few decimals, "no data" if NaN."""
    if _missing(value):
        return "no data"
    if isinstance(value, str):
        return value
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    magnitude = abs(number)
    decimals = 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{number:,.{decimals}f}"


def _format_year(value: Any) -> str:
    return str(int(value)) if isinstance(value, int | float | np.integer) else _text(value)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``</script>``, no ``<!--``."""
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


# --- the page parts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Links:
    js: tuple[str, ...]
    css: tuple[str, ...]


def _asset_links(figure: Any, assets: MapAssets, map_name: str) -> _Links:
    """The asset URLs folium collected in the page header, checked against what we serve."""
    from branca.element import CssLink, JavascriptLink

    js: list[str] = []
    css: list[str] = []
    for name, element in figure.header._children.items():
        if isinstance(element, JavascriptLink | CssLink):
            if element.url not in assets.urls:
                raise AssetPolicyError(
                    f"folium asks for {element.url!r} ({name}), which the app does not serve; "
                    "add it to mapping.render.assets or drop the feature that needs it"
                )
            (js if isinstance(element, JavascriptLink) else css).append(element.url)
        elif name not in {"meta_http", map_name}:
            # The map's own header (inline styles and an un-nonced script) is replaced by the
            # fragment's container; anything else would be silently lost, so refuse it.
            raise AssetPolicyError(f"folium added an unexpected header element {name!r}")
    return _Links(tuple(js), tuple(css))


_SWATCH = (
    "display:inline-block;width:1.4em;height:1em;vertical-align:middle;"
    f"margin-right:0.4em;border:1px solid {BORDER_COLOUR};"
)


def _legend_html(
    classification: Classification,
    value_label: str,
    with_centres: bool,
    centre_labels: tuple[str, str],
) -> str:
    colours = class_colours(len(classification.classes))
    items = []
    for entry in classification.legend():
        if entry.code in HATCH_STYLES:
            background = _css_hatch(HATCH_STYLES[entry.code])
        else:
            background = f"background:{colours[entry.code]}"
        items.append(
            f'<li><span aria-hidden="true" style="{_SWATCH}{background}"></span>'
            f"{html.escape(entry.label)} <span>({entry.count})</span></li>"
        )
    if with_centres:
        for colour, text in (
            (CENTRE_OFFERING_COLOUR, centre_labels[0]),
            (CENTRE_NOT_OFFERING_COLOUR, centre_labels[1]),
        ):
            items.append(
                '<li><span aria-hidden="true" style="display:inline-block;width:0.7em;'
                "height:0.7em;border-radius:50%;border:1.5px solid #000000;margin:0 0.75em 0 "
                f'0.3em;vertical-align:middle;background:{colour}"></span>'
                f"{html.escape(text)}</li>"
            )
    return (
        '<div class="ag-map__legend" style="margin:0.5em 0">'
        f'<p style="font-weight:bold;margin:0 0 0.25em">{html.escape(value_label)}</p>'
        '<ul style="list-style:none;margin:0;padding:0">' + "".join(items) + "</ul></div>"
    )


def _css_hatch(style: HatchStyle) -> str:
    if "/" in style.hatch:
        return (
            f"background:repeating-linear-gradient(45deg,{style.ink} 0 1px,"
            f"{style.background} 1px 5px)"
        )
    return (
        f"background:radial-gradient(circle,{style.ink} 0 1px,transparent 1.5px) 0 0/5px 5px,"
        f"{style.background}"
    )


# Our Leaflet layer. The tooltips are DOM nodes filled with textContent: a name holding markup
# shows as text. The hatch patterns go into the SVG Leaflet draws in, found through the pane,
# and reuse its namespace (so no namespace URL appears in the page).
_LAYER_SCRIPT = """
{% macro script(this, kwargs) %}
(function (map, data) {
  "use strict";
  function add(parent, tag, text) {
    var node = document.createElement(tag);
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function card(title, labels, texts) {
    var box = document.createElement("div");
    add(box, "strong", title);
    var table = document.createElement("table");
    for (var i = 0; i < labels.length; i++) {
      var row = table.insertRow();
      add(row, "th", labels[i]).scope = "row";
      add(row, "td", texts[i]);
    }
    box.appendChild(table);
    return box;
  }
  function set(node, attributes) {
    for (var key in attributes) { node.setAttribute(key, attributes[key]); }
    return node;
  }
  function addPatterns(svg, patterns) {
    var ns = svg.namespaceURI;
    var defs = document.createElementNS(ns, "defs");
    patterns.forEach(function (p) {
      var pattern = set(document.createElementNS(ns, "pattern"),
        {id: p.id, width: 6, height: 6, patternUnits: "userSpaceOnUse"});
      pattern.appendChild(set(document.createElementNS(ns, "rect"),
        {width: 6, height: 6, fill: p.background}));
      if (p.kind === "lines") {
        pattern.setAttribute("patternTransform", "rotate(45)");
        pattern.appendChild(set(document.createElementNS(ns, "line"),
          {x1: 1, y1: 0, x2: 1, y2: 6, stroke: p.ink, "stroke-width": 1.2}));
      } else {
        pattern.appendChild(set(document.createElementNS(ns, "circle"),
          {cx: 3, cy: 3, r: 1.1, fill: p.ink}));
      }
      defs.appendChild(pattern);
    });
    svg.insertBefore(defs, svg.firstChild);
  }
  function decode(area) {
    var x = 0, y = 0;
    var polygons = area[4].map(function (polygon) {
      return polygon.map(function (steps) {
        var ring = [];
        for (var i = 0; i < steps.length; i += 2) {
          x += steps[i];
          y += steps[i + 1];
          ring.push([x / data.scale, y / data.scale]);
        }
        ring.push(ring[0]);
        return ring;
      });
    });
    return {type: "Feature", id: area[0], properties: {n: area[1], c: area[2], t: area[3]},
            geometry: {type: "MultiPolygon", coordinates: polygons}};
  }
  var areas = L.geoJSON({type: "FeatureCollection", features: data.areas.map(decode)}, {
    style: function (feature) { return data.styles[feature.properties.c]; }
  });
  areas.bindTooltip(function (layer) {
    var p = layer.feature.properties;
    var texts = [p.t[0], data.classLabels[p.c]].concat(p.t.slice(1));
    return card(p.n, data.labels, texts);
  }, {sticky: true});
  areas.addTo(map);
  var svg = map.getPane("overlayPane").querySelector("svg");
  if (svg) { addPatterns(svg, data.patterns); }
  if (data.centres) {
    var centres = L.geoJSON(data.centres, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, data.centreStyles[feature.properties.o]);
      }
    });
    centres.bindTooltip(function (layer) {
      var p = layer.feature.properties;
      return card(p.n, data.centreLabels, p.t);
    });
    centres.addTo(map);
    var overlays = {};
    overlays[data.centreLayer] = centres;
    L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  }
  map.fitBounds(data.bounds);
})({{ this._parent.get_name() }}, {{ this.payload }});
{% endmacro %}
"""
