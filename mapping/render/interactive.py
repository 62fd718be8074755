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

The layer's JavaScript is a file of its own, ``choropleth_layer.js`` next to this module
(package data), which folium inlines into the map's script; the data it reads is built by
:mod:`mapping.render.payload`, the tooltip texts by :mod:`mapping.render.tooltips` and the
legend by :mod:`mapping.render.legend`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import geopandas as gpd

from mapping.classify import Classification
from mapping.render import main_frame
from mapping.render.assets import MapAssets, map_assets
from mapping.render.legend import legend_html
from mapping.render.payload import (
    MAX_DECIMALS,
    area_styles,
    centre_payload,
    class_labels,
    encode_polygons,
    exact_decimals,
    patterns,
    script_json,
)
from mapping.render.tooltips import INDICATOR_TOOLTIP, TooltipField, as_text, tooltip_rows

__all__ = ["INDICATOR_TOOLTIP", "AssetPolicyError", "TooltipField", "choropleth_map", "map_page"]

_NONCE = re.compile(r"^[A-Za-z0-9+/_=-]{8,256}$")
_CSS_LENGTH = re.compile(r"^\d+(\.\d+)?(px|rem|em|vh|%)$")
LAYER_SCRIPT_FILE = "choropleth_layer.js"
"""Our Leaflet layer, package data next to this module: a function expression that takes the
map and the payload. folium renders it inside the map's script, after the map is made."""
_LAYER_TEMPLATE = (
    "{% macro script(this, kwargs) %}\n"
    "{{ this.layer_script }}({{ this._parent.get_name() }}, {{ this.payload }});\n"
    "{% endmacro %}"
)


class AssetPolicyError(RuntimeError):
    """folium asked for an asset that the app does not serve (a CDN URL, a plugin)."""


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
        area the classification does not name is outside the study: drawn plain grey, with a
        legend row of its own; classified ids that are not in ``areas`` are not drawn.
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
    codes = classification.drawn_codes(frame[id_col].to_numpy())
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
        coordinate_decimals = exact_decimals(frame.geometry)
    elif not 0 <= coordinate_decimals <= MAX_DECIMALS:
        raise ValueError(f"coordinate_decimals must be 0 to {MAX_DECIMALS}")
    labels, rows = tooltip_rows(frame, value_col, value_label, tooltip_fields)
    payload: dict[str, Any] = {
        "labels": labels,
        "classLabels": class_labels(classification),
        "scale": 10**coordinate_decimals,
        "areas": [
            [
                str(area_id),
                as_text(name),
                int(code),
                texts,
                encode_polygons(geometry, coordinate_decimals),
            ]
            for area_id, name, code, texts, geometry in zip(
                frame[id_col], frame[name_col], codes, rows, frame.geometry, strict=True
            )
        ],
        "styles": area_styles(classification, map_name),
        "patterns": patterns(map_name),
        "bounds": [[south, west], [north, east]],
    }
    if centres is not None:
        payload.update(centre_payload(centres, centre_labels))

    # Our layer: a folium element that calls choropleth_layer.js with the payload.
    layer: Any = folium.MacroElement()  # type: ignore[no-untyped-call]  # branca is unannotated
    layer._template = Template(_LAYER_TEMPLATE)
    layer.layer_script = layer_script()
    layer.payload = script_json(payload)
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
    parts.append(_tooltip_style(map_name))
    parts.append(
        f'<div class="ag-map__canvas" id="{map_name}" role="region" aria-label="{label}" '
        f'style="position:relative;width:100%;height:{height};background:#ffffff"></div>'
    )
    parts.append(
        legend_html(
            classification,
            value_label,
            centres is not None,
            centre_labels,
            drawn=frame[id_col].to_numpy(),
        )
    )
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


TOOLTIP_MAX_WIDTH = "min(20rem, 80vw)"
"""The widest a tooltip gets; longer texts (a denominator's source) wrap inside it."""


def _tooltip_style(map_name: str) -> str:
    """Tooltips that wrap: Leaflet keeps a tooltip on one line (``white-space: nowrap``), so a
    long source note made it wider than the map. ``max-content`` keeps short tooltips on one
    line (the tooltip pane has no width to wrap against); ``max-width`` wraps the long ones."""
    return (
        f"<style>#{map_name} .leaflet-tooltip{{white-space:normal;width:max-content;"
        f"max-width:{TOOLTIP_MAX_WIDTH}}}"
        # Labels break between words; values anywhere (a long source or URL-like text).
        f"#{map_name} .leaflet-tooltip td{{overflow-wrap:anywhere}}</style>"
    )


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


@cache
def layer_script() -> str:
    """The layer's JavaScript (``choropleth_layer.js``), read once from the package.

    The ``//`` comment lines heading the file are for its readers; the page gets the code.

    Examples
    --------
    >>> layer_script().startswith("(function (map, data) {")
    True
    """
    text = resources.files(__package__).joinpath(LAYER_SCRIPT_FILE).read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    while lines and lines[0].startswith("//"):
        lines.pop(0)
    return "\n".join(lines)
