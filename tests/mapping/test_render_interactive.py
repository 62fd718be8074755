import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from branca.element import Figure, JavascriptLink
from shapely.geometry import Point, box

from mapping.boundaries import read_nuts_geojson
from mapping.classify import LOW_COVERAGE, NO_DATA, OUTSIDE_STUDY, classify
from mapping.render import OUTSIDE_STUDY_COLOUR, interactive
from mapping.render.assets import asset_file, map_assets
from mapping.render.interactive import (
    AssetPolicyError,
    TooltipField,
    _asset_links,
    choropleth_map,
    layer_script,
    map_page,
)
from mapping.simplify import simplify_coverage
from tests.mapping.shared_data import GISCO_LEVEL_2

NONCE = "n0nce-For-Tests_123"
SCRIPT_MARKUP = "<script>alert(1)</script>"
ATTRIBUTE_MARKUP = '"><img src=x onerror=alert(1)>'


def areas_frame(*, names: tuple[str, str, str] = ("Aland", "Boland", "Coland")) -> gpd.GeoDataFrame:
    """Three 10-degree squares side by side; the third has no value."""
    return gpd.GeoDataFrame(
        {
            "area_code": ["AA", "BB", "CC"],
            "area_name": list(names),
            "value": [1.5, 12.25, np.nan],
            "numerator": [3, 49, np.nan],
            "denominator": [2_000_000, 4_000_000, 1_000_000],
            "denominator_source": ["Eurostat demo_r_pjan"] * 3,
            "denominator_year": [2023] * 3,
            "responding": [1, 4, 0],
            "expected": [2, 5, 3],
        },
        geometry=[box(0, 40, 10, 50), box(10, 40, 20, 50), box(20, 40, 30, 50)],
        crs=4326,
    )


def centres_frame(*, names: tuple[str, str] = ("Centre One", "Centre Two")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": list(names), "city": ["Alpha", "Beta"], "offers": [True, False]},
        geometry=[Point(5, 45), Point(15, 45)],
        crs=4326,
    )


def render(areas: gpd.GeoDataFrame | None = None, **kwargs: Any) -> str:
    areas = areas_frame() if areas is None else areas
    classes = classify(areas.set_index("area_code")["value"], "equal_interval", k=2)
    options: dict[str, Any] = {"nonce": NONCE, "value_label": "PET-CT per million"}
    return choropleth_map(areas, classes, **{**options, **kwargs})


def payload(fragment: str) -> dict[str, Any]:
    """The data our layer script receives, decoded as the browser's JSON parser would."""
    match = re.search(r"\}\)\((map_[0-9a-f]+), (\{.*\})\);\s*</script>", fragment, re.DOTALL)
    assert match, "the layer script's call was not found"
    data: dict[str, Any] = json.loads(match.group(2))
    return data


def decode_area(area: list[Any], scale: int) -> shapely.Geometry:
    """Python twin of the page's decoder: integer steps back to polygons."""
    x = y = 0
    polygons = []
    for polygon in area[4]:
        rings = []
        for steps in polygon:
            ring = []
            for dx, dy in zip(steps[::2], steps[1::2], strict=True):
                x, y = x + dx, y + dy
                ring.append((x / scale, y / scale))
            rings.append(ring)
        polygons.append(shapely.Polygon(rings[0], rings[1:]))
    return shapely.MultiPolygon(polygons)


# --- the CSP: nonces and no other host --------------------------------------------------------


def test_every_script_carries_the_nonce() -> None:
    fragment = render(centres=centres_frame())
    scripts = re.findall(r"<script\b[^>]*>", fragment)
    assert len(scripts) == 2  # Leaflet, then the map
    assert all(f'nonce="{NONCE}"' in tag for tag in scripts)


def test_the_layer_script_is_package_data_inlined_with_the_nonce() -> None:
    source = resources.files("mapping.render").joinpath("choropleth_layer.js")
    assert source.is_file()
    code = layer_script()
    assert code.startswith("(function (map, data) {")
    assert code in render(centres=centres_frame())  # the file's code, run under the nonce
    python = Path(interactive.__file__).read_text(encoding="utf-8")
    assert "createElement" not in python  # no JavaScript left in Python strings


def test_no_url_to_another_host_and_no_tiles() -> None:
    fragment = render(centres=centres_frame(), source_note="Boundaries: GISCO.")
    assert re.findall(r"https?://", fragment) == []
    assert "tileLayer" not in fragment
    assert "L.tileLayer" not in fragment


def test_only_leaflet_is_loaded_from_the_asset_base_url() -> None:
    fragment = render(asset_base_url="/static/vendor")
    sources = re.findall(r'<script src="([^"]+)"', fragment)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', fragment)
    assert sources == ["/static/vendor/leaflet/leaflet.js"]
    assert styles == ["/static/vendor/leaflet/leaflet.css"]
    for url in (*sources, *styles):
        assert asset_file(url, "/static/vendor").is_file()
    others = r"jquery|bootstrap|font-?awesome|awesome-markers|d3(\.min)?\.js"
    assert re.search(others, fragment, re.IGNORECASE) is None


def test_include_assets_false_leaves_out_leaflet() -> None:
    fragment = render(include_assets=False)
    assert "<link" not in fragment
    assert re.findall(r"<script\b[^>]*>", fragment) == [f'<script nonce="{NONCE}">']


def test_folium_defaults_are_replaced_on_the_instance_not_patched_globally() -> None:
    render()
    # folium's class-level lists are untouched: other users of folium are not affected.
    assert any("cdn.jsdelivr.net" in url for _, url in folium.Map.default_js)


def test_an_asset_the_app_does_not_serve_is_refused() -> None:
    figure = Figure()
    figure.header.add_child(JavascriptLink("https://cdn.example.org/d3.js"), name="d3")
    with pytest.raises(AssetPolicyError, match=r"cdn\.example\.org"):
        _asset_links(figure, map_assets("/vendor"), "map_x")


@pytest.mark.parametrize("nonce", ['abc" onload="x', "short", "a b c d e f g h"])
def test_unsafe_nonces_are_refused(nonce: str) -> None:
    with pytest.raises(ValueError, match="nonce"):
        render(nonce=nonce)


def test_unsafe_asset_base_url_and_height_are_refused() -> None:
    with pytest.raises(ValueError, match="path on this server"):
        render(asset_base_url="https://cdn.example.org")
    with pytest.raises(ValueError, match="CSS length"):
        render(height="1px;background:url(x)")


# --- escaping user text -------------------------------------------------------------------------


def test_markup_in_names_is_delivered_as_text_never_as_markup() -> None:
    areas = areas_frame(names=(SCRIPT_MARKUP, ATTRIBUTE_MARKUP, "Coland"))
    centres = centres_frame(names=(SCRIPT_MARKUP, ATTRIBUTE_MARKUP))
    fragment = render(
        areas,
        centres=centres,
        value_label=f"Rate {SCRIPT_MARKUP}",
        title=ATTRIBUTE_MARKUP,
        source_note=SCRIPT_MARKUP,
    )
    # Never as markup anywhere in the page...
    assert SCRIPT_MARKUP not in fragment
    assert ATTRIBUTE_MARKUP not in fragment
    assert "<img" not in fragment
    assert fragment.count("<script") == 2
    # ...escaped where it is HTML (legend, accessible name, source note)...
    assert "Rate &lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert 'aria-label="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in fragment
    # ...and exact text in the data the tooltips read: the script puts it in with textContent.
    data = payload(fragment)
    assert [area[1] for area in data["areas"]] == [SCRIPT_MARKUP, ATTRIBUTE_MARKUP, "Coland"]
    assert [f["properties"]["n"] for f in data["centres"]["features"]] == [
        SCRIPT_MARKUP,
        ATTRIBUTE_MARKUP,
    ]
    assert data["labels"][0] == f"Rate {SCRIPT_MARKUP}"
    script = fragment.split(f'<script nonce="{NONCE}">')[1]
    assert "innerHTML" not in script
    assert "textContent" in script


# --- what the tooltips and the legend say -------------------------------------------------------


def test_tooltips_show_value_class_numerator_denominator_and_centres() -> None:
    data = payload(render())
    # The source and year are the same for every area: said once, in the row label.
    assert data["labels"] == [
        "PET-CT per million",
        "Class",
        "Numerator",
        "Denominator (Eurostat demo_r_pjan, 2023)",
        "Centres responding",
    ]
    texts = {area[0]: area[3] for area in data["areas"]}
    assert texts["AA"] == ["1.50", "3", "2,000,000", "1 of 2"]
    assert texts["BB"] == ["12.25", "49", "4,000,000", "4 of 5"]
    assert texts["CC"] == ["no data", "no data", "1,000,000", "0 of 3"]
    codes = {area[0]: area[2] for area in data["areas"]}
    assert codes == {"AA": 0, "BB": 1, "CC": NO_DATA}
    assert data["classLabels"][str(NO_DATA)] == "No data"
    assert data["classLabels"][str(LOW_COVERAGE)] == "Low coverage"


def test_per_area_sources_stay_with_each_area() -> None:
    areas = areas_frame()
    areas["denominator_source"] = ["Eurostat", "INSEE", None]
    areas["denominator_year"] = [2023, 2022, np.nan]
    texts = {area[0]: area[3] for area in payload(render(areas))["areas"]}
    assert texts["AA"][2] == "2,000,000 (Eurostat, 2023)"
    assert texts["BB"][2] == "4,000,000 (INSEE, 2022)"
    assert texts["CC"][2] == "1,000,000"


def test_legend_lists_class_bounds_no_data_and_low_coverage() -> None:
    areas = areas_frame()
    flagged = pd.Series([False, True, False], index=["AA", "BB", "CC"])
    classes = classify(areas.set_index("area_code")["value"], "quantiles", 3, low_coverage=flagged)
    fragment = choropleth_map(
        areas, classes, nonce=NONCE, value_label="Rate", centres=centres_frame()
    )
    legend = fragment.split('<div class="ag-map__legend"')[1].split("</div>")[0]
    assert "1.5 <span>(1)</span>" in legend  # a single value: its own class
    assert "No data <span>(1)</span>" in legend
    assert "Low coverage <span>(1)</span>" in legend
    assert "repeating-linear-gradient" in legend  # hatched no data
    assert "Centre offering it" in legend
    assert "Centre not offering it" in legend
    assert "d3" not in legend


def test_areas_the_classification_does_not_name_are_outside_the_study() -> None:
    areas = areas_frame()
    classes = classify(pd.Series([1.0, None], index=["AA", "BB"]), "quantiles", k=1)
    fragment = choropleth_map(areas, classes, nonce=NONCE, value_label="x")
    data = payload(fragment)
    assert [area[2] for area in data["areas"]] == [0, NO_DATA, OUTSIDE_STUDY]
    assert data["classLabels"][str(OUTSIDE_STUDY)] == "Outside the study"
    assert data["styles"][str(OUTSIDE_STUDY)]["fillColor"] == OUTSIDE_STUDY_COLOUR
    legend = fragment.split('<div class="ag-map__legend"')[1].split("</div>")[0]
    # The counts are the table's (one area with data, one without) and the grey area apart.
    assert "No data <span>(1)</span>" in legend
    assert "Outside the study <span>(1)</span>" in legend
    assert f"background:{OUTSIDE_STUDY_COLOUR}" in legend


def test_tooltips_wrap_within_a_maximum_width() -> None:
    fragment = render()
    name = payload_name(fragment)
    style = re.search(r"<style>(.*?)</style>", fragment, re.DOTALL)
    assert style is not None
    assert f"#{name} .leaflet-tooltip" in style.group(1)
    assert "white-space:normal" in style.group(1)
    assert "max-width:" in style.group(1)


def payload_name(fragment: str) -> str:
    match = re.search(r'data-map="(map_[0-9a-f]+)"', fragment)
    assert match
    return match.group(1)


def test_custom_tooltip_fields_and_missing_columns() -> None:
    fields = [TooltipField("numerator", "Scanners")]
    data = payload(render(tooltip_fields=fields))
    assert data["labels"] == ["PET-CT per million", "Class", "Scanners"]
    with pytest.raises(ValueError, match="'beds'"):
        render(tooltip_fields=[TooltipField("beds", "Beds")])


def test_centres_layer_has_two_styles() -> None:
    data = payload(render(centres=centres_frame()))
    offering = [f["properties"]["o"] for f in data["centres"]["features"]]
    assert offering == [1, 0]
    not_offering, offers = data["centreStyles"]
    assert offers["fillColor"] != not_offering["fillColor"]
    assert data["centres"]["features"][0]["properties"]["t"] == ["Alpha", "Centre offering it"]


def test_projected_areas_are_drawn_in_degrees() -> None:
    data = payload(render(areas_frame().to_crs(3035)))
    assert data["bounds"][0][0] == pytest.approx(40, abs=0.01)


def test_areas_without_crs_are_refused() -> None:
    with pytest.raises(ValueError, match="no CRS"):
        render(areas_frame().set_crs(None, allow_override=True))


# --- geometry on the page ----------------------------------------------------------------------


def test_geometry_round_trips_through_the_compact_encoding() -> None:
    areas = areas_frame()
    areas.loc[0, "geometry"] = shapely.MultiPolygon(
        [box(0, 40, 5, 45), box(6, 46, 9, 49).difference(box(7, 47, 8, 48))]
    )
    data = payload(render(areas))
    assert data["scale"] == 1  # whole degrees: no decimals needed
    for area, original in zip(data["areas"], areas.geometry, strict=True):
        decoded = decode_area(area, data["scale"])
        assert decoded.equals(original)
        assert np.array_equal(shapely.get_coordinates(decoded), shapely.get_coordinates(original))


@pytest.fixture(scope="module")
def nuts_2() -> gpd.GeoDataFrame:
    if not GISCO_LEVEL_2.exists():
        message = f"GISCO reference file {GISCO_LEVEL_2} is absent (see ../shared/data/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    regions = read_nuts_geojson(GISCO_LEVEL_2).rename(
        columns={"nuts_id": "area_code", "name": "area_name"}
    )
    rng = np.random.default_rng(5)
    return regions.assign(value=rng.gamma(2.0, 2.0, len(regions)))


def test_nuts_2_page_is_small_and_faithful(nuts_2: gpd.GeoDataFrame) -> None:
    simple = simplify_coverage(nuts_2, 5_000)
    classes = classify(simple.set_index("area_code")["value"], "quantiles", k=5)
    fragment = choropleth_map(simple, classes, nonce=NONCE, value_label="Rate", tooltip_fields=[])
    # The naive folium choropleth of this layer weighs about 450 kB (bench/map_render.py).
    assert len(fragment.encode()) < 150_000
    data = payload(fragment)
    assert data["scale"] == 1000
    assert len(data["areas"]) == 333
    for area, original in zip(data["areas"], simple.geometry, strict=True):
        decoded = decode_area(area, data["scale"])
        assert np.allclose(shapely.get_coordinates(decoded), shapely.get_coordinates(original))


def test_standalone_page() -> None:
    page = map_page(render(), title="Map <1>")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>Map &lt;1&gt;</title>" in page
    assert '<meta charset="utf-8">' in page


# --- in a real browser, under the app's CSP -----------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.web.live_server import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.mark.browser
def test_map_runs_under_the_csp_without_other_hosts_and_shows_markup_as_text(
    chromium: Any,
) -> None:
    origin = "http://maps.test"
    fragment = render(
        areas_frame(names=(SCRIPT_MARKUP, ATTRIBUTE_MARKUP, "Coland")),
        centres=centres_frame(names=(ATTRIBUTE_MARKUP, "Centre Two")),
    )
    page_html = map_page(fragment, title="map")
    csp = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{NONCE}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"
    )
    requested: list[str] = []
    problems: list[str] = []

    def serve(route: Any) -> None:
        url = route.request.url
        requested.append(url)
        if url == f"{origin}/map":
            route.fulfill(
                body=page_html,
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": csp},
            )
        elif url.startswith(f"{origin}/vendor/"):
            route.fulfill(path=asset_file(url.removeprefix(origin)))
        else:
            route.abort()

    context = chromium.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.route("**/*", serve)
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    try:
        page.goto(f"{origin}/map")
        page.wait_for_selector(".leaflet-overlay-pane path")
        assert page.locator(".leaflet-overlay-pane path").count() == 5  # 3 areas, 2 centres
        fills = page.locator(".leaflet-overlay-pane path").evaluate_all(
            "paths => paths.map(p => p.getAttribute('fill'))"
        )
        assert any(fill and fill.startswith("url(#") for fill in fills)
        assert page.locator(".leaflet-overlay-pane svg pattern").count() == 2

        # Hover the first area (10 x 10 degrees around 5°E, 45°N, away from its centre dot).
        map_name = page.locator(".ag-map").get_attribute("data-map")
        point = page.evaluate(f"() => {map_name}.latLngToContainerPoint([48, 3])")
        box_ = page.locator(".ag-map__canvas").bounding_box()
        page.mouse.move(box_["x"] + point["x"], box_["y"] + point["y"])
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for()
        assert tooltip.locator("strong").inner_text() == SCRIPT_MARKUP
        assert tooltip.locator("img, script").count() == 0
        assert "1 of 2" in tooltip.inner_text()
    finally:
        context.close()
    assert problems == []
    assert {url.split("/")[2] for url in requested} == {"maps.test"}
