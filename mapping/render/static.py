"""Publication figures: a choropleth as PNG, SVG or PDF, drawn in EPSG:3035 with matplotlib.

The figure carries everything a reader needs without the text around it: a title, a legend
with the class bounds (and "no data" and "low coverage" as hatched classes of their own), the
source and the date. The look matches the interactive map (:mod:`mapping.render`).

Drawing uses matplotlib's object API on a ``Figure`` of its own (no ``pyplot``, no global
state), so figures can be made in a server thread. SVG output is byte-for-byte reproducible for
the same inputs (fixed ``svg.hashsalt``, no date in the metadata); so is the PDF (no creation
date). The frame is mainland Europe with Iceland, Cyprus and Turkey (:data:`MAIN_WINDOW`);
areas wholly outside it (the Azores, Madeira, the Canaries, the outermost regions) are named in
the note under the map.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import BinaryIO, Literal

import geopandas as gpd
import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mapping.classify import NO_DATA, Classification
from mapping.render import (
    BORDER_COLOUR,
    HATCH_STYLES,
    MAIN_WINDOW,
    class_colours,
    main_frame,
)

Format = Literal["png", "svg", "pdf"]
FORMATS: tuple[Format, ...] = ("png", "svg", "pdf")

_FIGURE_WIDTH_IN = 7.0  # a full page width in most journals
_MAP_BOTTOM = 0.15  # share of the figure height under the map: legend and notes
_MAP_TOP = 0.92  # above it: the title
_EDGE_WIDTH = 0.25  # points


def static_map(
    areas: gpd.GeoDataFrame,
    classification: Classification,
    *,
    title: str,
    source_note: str,
    fmt: Format,
    out: Path | BinaryIO,
    dpi: int = 300,
    id_col: str = "area_code",
    name_col: str = "area_name",
    value_label: str | None = None,
    date: dt.date | None = None,
) -> None:
    """Draw a choropleth for print and write it as PNG, SVG or PDF.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        One row per area with an id column and the geometry, in any CRS; drawn in EPSG:3035.
        The unsimplified boundaries suit print best.
    classification : Classification
        The classes, indexed by area id (:func:`mapping.classify.classify`); share them across
        a series of comparable figures with :func:`mapping.classify.shared_classification`.
        An area the classification does not name is drawn as "no data".
    title : str
        The figure title.
    source_note : str
        The sources, e.g. "Survey: accessgap 2025 campaign. Population: Eurostat demo_r_pjan
        (2023). Boundaries: © EuroGeographics."
    fmt : {"png", "svg", "pdf"}
        The file format.
    out : pathlib.Path or binary file
        Where to write the figure.
    dpi : int, default 300
        Resolution of a PNG (and of hatching in the vector formats).
    id_col : str, default "area_code"
        The id column of ``areas``.
    name_col : str, default "area_name"
        The column naming the areas in the note on areas outside the frame (the id if absent).
    value_label : str, optional
        The legend title, e.g. "PET-CT scanners per million inhabitants".
    date : datetime.date, optional
        The date in the note; today by default. Pass it to reproduce a figure exactly.

    Raises
    ------
    ValueError
        For an unknown format, a non-positive ``dpi``, areas without a CRS or without
        ``id_col``.

    Examples
    --------
    >>> import io
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from mapping.classify import classify
    >>> areas = gpd.GeoDataFrame(
    ...     {"area_code": ["AT", "CH"], "value": [4.2, None]},
    ...     geometry=[box(9.5, 46.4, 17.2, 49.0), box(5.9, 45.8, 10.5, 47.8)],
    ...     crs=4326,
    ... )
    >>> classes = classify(areas.set_index("area_code")["value"], "quantiles", k=3)
    >>> buffer = io.BytesIO()
    >>> static_map(areas, classes, title="PET-CT", source_note="Synthetic data.",
    ...            fmt="pdf", out=buffer, date=dt.date(2025, 1, 31))
    >>> buffer.getvalue()[:4]
    b'%PDF'
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    if areas.crs is None:
        raise ValueError("the areas have no CRS; set it with .set_crs() (GISCO: EPSG:4326)")
    if id_col not in areas.columns:
        raise ValueError(f"the areas have no column {id_col!r}; pass id_col=")

    projected = areas.to_crs(3035)
    codes = (
        classification.codes.reindex(projected[id_col].to_numpy())
        .fillna(NO_DATA)
        .astype("int64")
        .to_numpy()
    )
    (minx, miny, maxx, maxy), outside = main_frame(projected.geometry)
    pad = 0.02 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad

    map_height_in = _FIGURE_WIDTH_IN * (maxy - miny) / (maxx - minx)
    figure = Figure(figsize=(_FIGURE_WIDTH_IN, map_height_in / (_MAP_TOP - _MAP_BOTTOM)), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, _MAP_BOTTOM, 1.0, _MAP_TOP - _MAP_BOTTOM))
    axes.set_axis_off()
    axes.set_xlim(minx, maxx)
    axes.set_ylim(miny, maxy)
    axes.set_aspect("equal")

    colours = class_colours(len(classification.classes))
    for index, colour in enumerate(colours):
        subset = projected[codes == index]
        if len(subset):
            subset.plot(ax=axes, facecolor=colour, edgecolor="none", linewidth=0)
    for code, style in HATCH_STYLES.items():
        subset = projected[codes == code]
        if len(subset):
            # The hatch takes the edge colour; the outlines are drawn once, on top, below.
            subset.plot(
                ax=axes,
                facecolor=style.background,
                edgecolor=style.ink,
                hatch=style.hatch,
                linewidth=0,
            )
    projected.boundary.plot(ax=axes, color=BORDER_COLOUR, linewidth=_EDGE_WIDTH)

    figure.text(0.02, 0.985, title, fontsize=12, fontweight="bold", va="top", wrap=True)
    _legend(figure, classification, colours, value_label)
    names = _outside_names(areas, outside, name_col if name_col in areas.columns else id_col)
    figure.text(
        0.02,
        0.012,
        _note(source_note, date or dt.date.today(), names),
        fontsize=6.5,
        color="#404040",
        va="bottom",
        wrap=True,
    )

    metadata: dict[str, str | None]
    if fmt == "svg":
        metadata = {"Date": None}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "Creator": "accessgap"}
    else:
        metadata = {"Software": "accessgap"}
    with matplotlib.rc_context({"svg.hashsalt": "accessgap", "hatch.linewidth": 0.5}):
        figure.savefig(out, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")


def _legend(
    figure: Figure,
    classification: Classification,
    colours: tuple[str, ...],
    value_label: str | None,
) -> None:
    handles = []
    for entry in classification.legend():
        if entry.code in HATCH_STYLES:
            style = HATCH_STYLES[entry.code]
            patch = Patch(
                facecolor=style.background,
                edgecolor=style.ink,
                hatch=style.hatch,
                linewidth=0.4,
                label=f"{entry.label} ({entry.count})",
            )
        else:
            patch = Patch(
                facecolor=colours[entry.code],
                edgecolor=BORDER_COLOUR,
                linewidth=0.4,
                label=f"{entry.label} ({entry.count})",
            )
        handles.append(patch)
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.02, _MAP_BOTTOM),
        ncols=min(3, max(1, len(handles))),
        title=value_label,
        title_fontsize=8,
        fontsize=7,
        frameon=False,
        alignment="left",
        handlelength=1.6,
        handleheight=1.1,
    )


def _outside_names(
    areas: gpd.GeoDataFrame, outside: npt.NDArray[np.bool_], column: str
) -> list[str]:
    return [str(name) for name in areas.loc[outside, column]]


def _note(source_note: str, date: dt.date, outside: list[str]) -> str:
    west, south, east, north = MAIN_WINDOW
    text = f"{source_note.strip()} Map: accessgap, {date.isoformat()}."
    if outside:
        text += (
            f" Not shown (outside {abs(west):g}°W to {east:g}°E, {south:g}°N to {north:g}°N): "
            f"{', '.join(outside)}."
        )
    return text
