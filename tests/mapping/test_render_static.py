import datetime as dt
import html
import io
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage
from shapely.geometry import box

from mapping.boundaries import read_nuts_geojson
from mapping.classify import classify
from mapping.render import FORMATS, Format, class_colours
from mapping.render.static import INSETS, static_map
from tests.mapping.shared_data import GISCO_LEVEL_2

REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURES = REPO_ROOT / "var" / "figures"
DATE = dt.date(2025, 1, 31)
SOURCE = "Synthetic values. Boundaries: © EuroGeographics (GISCO NUTS 2021, 1:20M)."


@pytest.fixture(scope="module")
def nuts_2() -> tuple[gpd.GeoDataFrame, pd.Series]:
    if not GISCO_LEVEL_2.exists():
        message = f"GISCO reference file {GISCO_LEVEL_2} is absent (see ../shared/data/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    regions = read_nuts_geojson(GISCO_LEVEL_2).rename(
        columns={"nuts_id": "area_code", "name": "area_name"}
    )
    rng = np.random.default_rng(3)
    values = pd.Series(rng.gamma(2.0, 2.0, len(regions)), index=regions["area_code"])
    values.iloc[rng.choice(len(values), 25, replace=False)] = np.nan
    low_coverage = pd.Series(rng.random(len(values)) < 0.08, index=values.index)
    return regions, classify(values, "natural_breaks", 5, low_coverage=low_coverage)


def small_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_code": ["AA", "BB", "CC"], "value": [1.0, 2.0, np.nan]},
        geometry=[box(0, 45, 10, 55), box(10, 45, 20, 55), box(20, 45, 30, 55)],
        crs=4326,
    )


def render_small(fmt: Format, *, dpi: int = 300) -> bytes:
    areas = small_areas()
    classes = classify(areas.set_index("area_code")["value"], "quantiles", k=2)
    buffer = io.BytesIO()
    static_map(
        areas,
        classes,
        title="Small",
        source_note="Synthetic.",
        fmt=fmt,
        out=buffer,
        dpi=dpi,
        date=DATE,
    )
    return buffer.getvalue()


def test_nuts_2_png_at_300_dpi_for_the_paper(nuts_2: tuple[gpd.GeoDataFrame, pd.Series]) -> None:
    regions, classes = nuts_2
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / "test_nuts2_natural_breaks.png"
    static_map(
        regions,
        classes,
        title="PET-CT scanners per million inhabitants (synthetic test data)",
        source_note=SOURCE,
        fmt="png",
        out=path,
        value_label="Scanners per million",
        date=DATE,
    )
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] == 7 * 300  # 7 inches at 300 dpi
        assert image.size[1] > 7 * 300  # Europe in EPSG:3035 is taller than wide, with notes
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
        colours = {
            "#{:02x}{:02x}{:02x}".format(*pixel[:3])
            for _, pixel in image.convert("RGB").getcolors(maxcolors=1_000_000)
        }
    # Every class colour is drawn, and the hatch backgrounds of no data and low coverage.
    assert set(class_colours(len(classes.classes))) <= colours
    assert "#f0f0f0" in colours


def test_svg_is_valid_xml_with_hatching_and_is_reproducible(
    nuts_2: tuple[gpd.GeoDataFrame, pd.Series],
) -> None:
    regions, classes = nuts_2
    outputs = []
    for _ in range(2):
        buffer = io.BytesIO()
        static_map(
            regions,
            classes,
            title="Reproducible",
            source_note=SOURCE,
            fmt="svg",
            out=buffer,
            date=DATE,
        )
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    root = ET.fromstring(outputs[0])  # noqa: S314  # our own output, not untrusted input
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findall(".//{http://www.w3.org/2000/svg}pattern")  # the hatches
    text = outputs[0].decode()
    assert "2025-01-31" in text  # the note's date, written as a comment beside its glyphs
    assert "<dc:date>" not in text


def test_pdf_starts_like_a_pdf_and_is_reproducible() -> None:
    first, second = render_small("pdf"), render_small("pdf")
    assert first.startswith(b"%PDF")
    assert first == second


def test_pdf_text_is_embedded_as_truetype_never_type_3() -> None:
    pdf = render_small("pdf")
    assert b"/Subtype /Type3" not in pdf  # journals' checkers reject Type 3 fonts
    assert b"/FontFile2" in pdf  # the TrueType font program, embedded
    assert matplotlib.rcParams["pdf.fonttype"] == 3  # scoped to the figure, not changed globally


def svg_texts(svg: bytes) -> list[str]:
    """The texts of a figure: matplotlib writes each as a comment beside its glyphs."""
    return [html.unescape(t) for t in re.findall(r"<!-- (.*?) -->", svg.decode())]


def test_outermost_regions_with_data_get_insets_and_malta_and_cyprus_always(
    nuts_2: tuple[gpd.GeoDataFrame, pd.Series],
) -> None:
    regions, _ = nuts_2
    values = pd.Series(1.0, index=regions["area_code"])
    values[["FRY3", "FRY5", "MT00", "CY00"]] = np.nan  # Guyane, Mayotte, Malta, Cyprus
    values = values.drop([c for c in values.index if c.startswith("TR")])  # outside the study
    classes = classify(values, "quantiles", k=2)
    buffer = io.BytesIO()
    static_map(
        regions,
        classes,
        title="Units, by NUTS-2 region",
        subtitle="Survey wave: test",
        source_note=SOURCE,
        fmt="svg",
        out=buffer,
        date=DATE,
    )
    texts = svg_texts(buffer.getvalue())
    shown = {inset.name for inset in INSETS} & set(texts)
    assert shown == {
        "Canarias (ES)",
        "Madeira (PT)",
        "Açores (PT)",
        "Guadeloupe (FR)",
        "Martinique (FR)",
        "La Réunion (FR)",
        "Malta",  # no data, but always enlarged
        "Cyprus",
    }
    joined = " ".join(texts)
    assert "Not shown" in joined
    assert joined.count("Guyane") == 1  # no data: no inset, named in the note instead
    assert joined.count("Mayotte") == 1
    assert joined.count("Canarias") == 1  # its inset's label; the note does not name it
    assert "Units, by NUTS-2 region" in texts
    assert "Survey wave: test" in texts
    assert any(t.startswith("Outside the study (") for t in texts)


def test_png_is_drawn_in_epsg_3035() -> None:
    # A 10 x 10 degree square at 45-55°N is square in degrees; in LAEA metres it narrows
    # northwards and is about 1.5 times as tall as wide. The drawn square's shape says which.
    areas = small_areas()
    minx, miny, maxx, maxy = areas.to_crs(3035).geometry.iloc[0].bounds
    expected = (maxy - miny) / (maxx - minx)
    classes = classify(areas.set_index("area_code")["value"], "quantiles", k=2)
    buffer = io.BytesIO()
    static_map(areas, classes, title="t", source_note="s", fmt="png", out=buffer, dpi=100)
    with Image.open(buffer) as image:
        pixels = np.asarray(image.convert("RGB"))
    first_class = np.array([int(class_colours(2)[0][i : i + 2], 16) for i in (1, 3, 5)])
    regions, _ = ndimage.label((pixels == first_class).all(axis=2))
    largest = np.bincount(regions.ravel())[1:].argmax() + 1  # the square, not its legend swatch
    rows, columns = np.nonzero(regions == largest)
    drawn = (rows.max() - rows.min() + 1) / (columns.max() - columns.min() + 1)
    assert expected > 1.4
    assert drawn == pytest.approx(expected, rel=0.03)


def test_file_outputs_for_every_format(tmp_path: Path) -> None:
    areas = small_areas()
    classes = classify(areas.set_index("area_code")["value"], "equal_interval", k=2)
    for fmt in FORMATS:
        path = tmp_path / f"map.{fmt}"
        static_map(areas, classes, title="t", source_note="s", fmt=fmt, out=path, dpi=50)
        assert path.stat().st_size > 1000


def test_bad_arguments_are_refused() -> None:
    areas = small_areas()
    classes = classify(areas.set_index("area_code")["value"], "quantiles", k=2)
    buffer = io.BytesIO()
    with pytest.raises(ValueError, match="unknown format"):
        static_map(areas, classes, title="t", source_note="s", fmt="gif", out=buffer)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="dpi"):
        static_map(areas, classes, title="t", source_note="s", fmt="png", out=buffer, dpi=0)
    with pytest.raises(ValueError, match="no CRS"):
        static_map(
            areas.set_crs(None, allow_override=True),
            classes,
            title="t",
            source_note="s",
            fmt="png",
            out=buffer,
        )
    with pytest.raises(ValueError, match="'code'"):
        static_map(areas, classes, title="t", source_note="s", fmt="png", out=buffer, id_col="code")


def test_the_figure_is_drawn_once_however_many_layers_it_plots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # geopandas asks for a redraw after each layer; only saving the figure draws it.
    from matplotlib.figure import Figure

    draws: list[int] = []
    draw = Figure.draw

    def counted(self: Figure, renderer: object) -> None:
        draws.append(1)
        draw(self, renderer)  # type: ignore[arg-type]

    monkeypatch.setattr(Figure, "draw", counted)
    assert render_small("png", dpi=50).startswith(b"\x89PNG")
    assert len(draws) == 1
