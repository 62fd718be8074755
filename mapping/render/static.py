"""Publication figures: a choropleth as PNG, SVG or PDF, drawn in EPSG:3035 with matplotlib.

The figure carries everything a reader needs without the text around it: a title (what, by
which areas, which survey wave), a legend with the class bounds ("no data" and "low coverage"
as hatched classes of their own, "outside the study" in plain grey), insets for the places the
main frame cannot show, and a note with the sources, the denominators and the date. The look
matches the interactive map (:mod:`mapping.render`).

Drawing uses matplotlib's object API on a ``Figure`` of its own (no ``pyplot``, no global
state), so figures can be made in a server thread; the settings a figure needs are scoped to it
with ``rc_context``. Journals' checkers reject Type 3 fonts, so PDF text is embedded as TrueType
(Type 42); SVG text is drawn as paths, so it looks the same everywhere. SVG output is
byte-for-byte reproducible for the same inputs (fixed ``svg.hashsalt``, no date in the
metadata); so is the PDF (no creation date).

The main frame is mainland Europe with Iceland, Cyprus and Turkey (:data:`MAIN_WINDOW`). The
EU's outermost regions (Canarias, Madeira, Açores, Guadeloupe, Martinique, Guyane, La Réunion,
Mayotte) get an inset each when they have data, Malta and Cyprus one each always (they are a
few pixels on the main map); each inset is drawn in its own equal-area projection and at its
own scale. Any other area wholly outside the frame is named in the note.

Why one module past 400 lines: the figure's layout (title, map, insets, legend, note) is one
computation of heights; split apart, each part would need the others' sizes.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from shapely.geometry import box

from mapping.classify import LOW_COVERAGE, OUTSIDE_STUDY, Classification
from mapping.render import (
    BORDER_COLOUR,
    FORMATS,
    HATCH_STYLES,
    MAIN_WINDOW,
    OUTSIDE_STUDY_COLOUR,
    Format,
    class_colours,
    main_frame,
)


@dataclass(frozen=True)
class Inset:
    """A place drawn in a box of its own under the main map.

    Attributes
    ----------
    name : str
        The box's label.
    bounds : (float, float, float, float)
        West, south, east, north in degrees (EPSG:4326): what the box shows.
    always : bool
        Draw it even when no area in it has data (Malta and Cyprus: small member states that
        must be visible); the outermost regions are drawn only when they have data.
    """

    name: str
    bounds: tuple[float, float, float, float]
    always: bool = False


OUTERMOST_REGIONS: tuple[Inset, ...] = (
    Inset("Canarias (ES)", (-18.3, 27.5, -13.3, 29.5)),
    Inset("Madeira (PT)", (-17.35, 32.35, -16.2, 33.2)),
    Inset("Açores (PT)", (-31.4, 36.8, -24.9, 40.0)),
    Inset("Guadeloupe (FR)", (-61.85, 15.8, -60.95, 16.55)),
    Inset("Martinique (FR)", (-61.3, 14.35, -60.75, 14.92)),
    Inset("Guyane (FR)", (-54.7, 2.0, -51.5, 5.9)),
    Inset("La Réunion (FR)", (55.15, -21.45, 55.9, -20.82)),
    Inset("Mayotte (FR)", (44.95, -13.05, 45.35, -12.6)),
)
"""The EU's outermost regions in Europe's figures (NUTS-2 ES70, PT30, PT20, FRY1 to FRY5)."""

SMALL_MEMBER_STATES: tuple[Inset, ...] = (
    Inset("Malta", (14.15, 35.75, 14.6, 36.12), always=True),
    Inset("Cyprus", (32.2, 34.5, 34.65, 35.75), always=True),
)
"""Member states too small to read on the main map, enlarged in an inset of their own."""

INSETS: tuple[Inset, ...] = OUTERMOST_REGIONS + SMALL_MEMBER_STATES

_WIDTH_IN = 7.0  # a full page width in most journals
_MARGIN_IN = 0.12
_INSETS_PER_ROW = 5
_INSET_HEIGHT_IN = 0.85
_INSET_LABEL_IN = 0.16
_LEGEND_COLUMNS = 3
_EDGE_WIDTH = 0.25  # points
_TITLE_PT, _SUBTITLE_PT, _LEGEND_PT, _NOTE_PT, _INSET_PT = 11.0, 8.5, 7.0, 6.5, 6.0


class _CanvasDrawnOnce(FigureCanvasAgg):
    """The Agg canvas, drawn only when the figure is saved.

    geopandas asks the canvas to redraw after each layer it plots (``draw_idle``), which a
    canvas without an event loop does at once: a figure of a dozen layers and insets was drawn a
    dozen times over, most of its rendering time. Nothing is shown before the figure is saved,
    so those intermediate drawings are skipped; ``savefig`` draws the figure once.
    """

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to show until the figure is saved."""


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
    subtitle: str | None = None,
    insets: Sequence[Inset] = INSETS,
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
        An area the classification does not name is outside the study: plain grey, with a
        legend row of its own.
    title : str
        The figure title, e.g. "PET/CT scanners per million inhabitants, by country".
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
        The legend title, e.g. "Scanners per million inhabitants".
    date : datetime.date, optional
        The date in the note; today by default. Pass it to reproduce a figure exactly.
    subtitle : str, optional
        A line under the title, e.g. "Survey wave: 2025 campaign".
    insets : sequence of Inset, default INSETS
        The places drawn in boxes under the map (outermost regions with data, Malta, Cyprus).

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

    geographic = areas.to_crs(4326)
    codes = classification.drawn_codes(areas[id_col].to_numpy())
    projected = areas.to_crs(3035)
    (minx, miny, maxx, maxy), outside = main_frame(projected.geometry)
    pad = 0.02 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    boxes = [i for i in insets if _shown(i, geographic, codes)]
    in_boxes = _in_insets(geographic, boxes)
    names = areas[name_col if name_col in areas.columns else id_col].astype(str).to_numpy()
    not_shown = [str(n) for n in names[outside & ~in_boxes]]

    colours = class_colours(len(classification.classes))
    legend = classification.legend(areas[id_col].to_numpy())
    title_lines = textwrap.wrap(title, 68) or [""]
    subtitle_lines = textwrap.wrap(subtitle, 96) if subtitle else []
    note = _note(source_note, date or dt.date.today(), not_shown)
    note_lines = textwrap.wrap(note, 128)
    legend_rows = math.ceil(len(legend) / _LEGEND_COLUMNS)
    layout = _Layout(
        title=0.12 + 0.2 * len(title_lines) + 0.17 * len(subtitle_lines),
        map=(_WIDTH_IN - 2 * _MARGIN_IN) * (maxy - miny) / (maxx - minx),
        insets=math.ceil(len(boxes) / _INSETS_PER_ROW) * (_INSET_HEIGHT_IN + _INSET_LABEL_IN),
        legend=(0.2 if value_label else 0.05) + 0.17 * legend_rows + 0.1 + (0.08 if boxes else 0.0),
        note=0.05 + 0.105 * len(note_lines),
    )

    with matplotlib.rc_context(
        {
            "pdf.fonttype": 42,  # TrueType, not Type 3: journals' checkers reject Type 3 fonts
            "ps.fonttype": 42,
            "svg.fonttype": "path",
            "svg.hashsalt": "accessgap",
            "hatch.linewidth": 0.5,
        }
    ):
        figure = Figure(figsize=(_WIDTH_IN, layout.height), dpi=dpi)
        _CanvasDrawnOnce(figure)
        top = layout.height - 0.08
        figure.text(
            _MARGIN_IN / _WIDTH_IN,
            top / layout.height,
            "\n".join(title_lines),
            fontsize=_TITLE_PT,
            fontweight="bold",
            va="top",
        )
        if subtitle_lines:
            figure.text(
                _MARGIN_IN / _WIDTH_IN,
                (top - 0.2 * len(title_lines) - 0.04) / layout.height,
                "\n".join(subtitle_lines),
                fontsize=_SUBTITLE_PT,
                color="#303030",
                va="top",
            )
        map_bottom = layout.height - layout.title - layout.map
        axes = figure.add_axes(
            layout.box(_MARGIN_IN, map_bottom, _WIDTH_IN - 2 * _MARGIN_IN, layout.map)
        )
        _draw_areas(axes, projected, codes, colours)
        _show(axes, (minx, miny, maxx, maxy), _WIDTH_IN - 2 * _MARGIN_IN, layout.map)

        inset_top = map_bottom
        for position, inset in enumerate(boxes):
            row, column = divmod(position, _INSETS_PER_ROW)
            width = (_WIDTH_IN - 2 * _MARGIN_IN) / _INSETS_PER_ROW
            left = _MARGIN_IN + column * width
            bottom = inset_top - (row + 1) * (_INSET_HEIGHT_IN + _INSET_LABEL_IN)
            _draw_inset(figure, layout, inset, geographic, codes, colours, left, bottom, width)

        legend_top = map_bottom - layout.insets - (0.08 if boxes else 0.0)
        _legend(figure, layout, legend, colours, value_label, legend_top)
        figure.text(
            _MARGIN_IN / _WIDTH_IN,
            0.04 / layout.height,
            "\n".join(note_lines),
            fontsize=_NOTE_PT,
            color="#404040",
            va="bottom",
            linespacing=1.3,
        )

        metadata: dict[str, str | None]
        if fmt == "svg":
            metadata = {"Date": None}
        elif fmt == "pdf":
            metadata = {"CreationDate": None, "Creator": "accessgap"}
        else:
            metadata = {"Software": "accessgap"}
        figure.savefig(out, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")


@dataclass(frozen=True)
class _Layout:
    """Heights in inches of the figure's bands, top to bottom."""

    title: float
    map: float
    insets: float
    legend: float
    note: float

    @property
    def height(self) -> float:
        return self.title + self.map + self.insets + self.legend + self.note

    def box(
        self, left: float, bottom: float, width: float, height: float
    ) -> tuple[float, float, float, float]:
        """A rectangle in inches as figure fractions, for ``add_axes``."""
        return (left / _WIDTH_IN, bottom / self.height, width / _WIDTH_IN, height / self.height)


def _draw_areas(
    axes: Axes,
    projected: gpd.GeoDataFrame,
    codes: npt.NDArray[np.int64],
    colours: tuple[str, ...],
) -> None:
    """The areas by class: palette fills, hatches, plain grey outside the study, outlines."""
    axes.set_axis_off()
    subset = projected[codes == OUTSIDE_STUDY]
    if len(subset):
        subset.plot(
            ax=axes, facecolor=OUTSIDE_STUDY_COLOUR, edgecolor="none", linewidth=0, aspect=None
        )
    for index, colour in enumerate(colours):
        subset = projected[codes == index]
        if len(subset):
            subset.plot(ax=axes, facecolor=colour, edgecolor="none", linewidth=0, aspect=None)
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
                aspect=None,
            )
    if len(projected):
        projected.boundary.plot(ax=axes, color=BORDER_COLOUR, linewidth=_EDGE_WIDTH, aspect=None)


def _show(axes: Axes, bounds: Sequence[float], width_in: float, height_in: float) -> None:
    """Frame ``bounds`` at equal scales in a box of the given size: the window grows along one
    axis to the box's shape, so every inset box has the same size."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    scale = max((maxx - minx) / width_in, (maxy - miny) / height_in)
    middle_x, middle_y = (minx + maxx) / 2, (miny + maxy) / 2
    axes.set_xlim(middle_x - scale * width_in / 2, middle_x + scale * width_in / 2)
    axes.set_ylim(middle_y - scale * height_in / 2, middle_y + scale * height_in / 2)
    axes.set_aspect("equal", adjustable="box")


def _shown(inset: Inset, geographic: gpd.GeoDataFrame, codes: npt.NDArray[np.int64]) -> bool:
    """Whether an inset is drawn: some area lies in it, and has data unless always drawn."""
    inside = geographic.intersects(box(*inset.bounds)).to_numpy()
    if not inside.any():
        return False
    return inset.always or bool(((codes >= 0) | (codes == LOW_COVERAGE))[inside].any())


def _in_insets(geographic: gpd.GeoDataFrame, insets: Sequence[Inset]) -> npt.NDArray[np.bool_]:
    shown = np.zeros(len(geographic), dtype=bool)
    for inset in insets:
        shown |= geographic.intersects(box(*inset.bounds)).to_numpy()
    return shown


def _draw_inset(
    figure: Figure,
    layout: _Layout,
    inset: Inset,
    geographic: gpd.GeoDataFrame,
    codes: npt.NDArray[np.int64],
    colours: tuple[str, ...],
    left: float,
    bottom: float,
    width: float,
) -> None:
    """One inset: the areas in its bounds, clipped, in an equal-area projection centred on it."""
    west, south, east, north = inset.bounds
    frame = box(*inset.bounds)
    inside = geographic.intersects(frame).to_numpy()
    local = (
        f"+proj=laea +lat_0={(south + north) / 2} +lon_0={(west + east) / 2} "
        "+x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    )
    clipped = geographic[inside].clip(frame).to_crs(local)
    window = gpd.GeoSeries([frame], crs=4326).to_crs(local).total_bounds
    gap = 0.06
    axes = figure.add_axes(layout.box(left + gap / 2, bottom, width - gap, _INSET_HEIGHT_IN))
    _draw_areas(axes, clipped, codes[inside], colours)
    _show(axes, window, width - gap, _INSET_HEIGHT_IN)
    axes.set_axis_on()  # for the frame: no ticks, no labels
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_xlabel("")
    axes.set_ylabel("")
    for spine in axes.spines.values():
        spine.set_edgecolor("#a0a0a0")
        spine.set_linewidth(0.5)
    figure.text(
        (left + gap / 2) / _WIDTH_IN,
        (bottom + _INSET_HEIGHT_IN + 0.03) / layout.height,
        inset.name,
        fontsize=_INSET_PT,
        color="#303030",
        va="bottom",
    )


def _legend(
    figure: Figure,
    layout: _Layout,
    entries: Sequence[Any],
    colours: tuple[str, ...],
    value_label: str | None,
    top: float,
) -> None:
    handles = []
    for entry in entries:
        label = f"{entry.label} ({entry.count})"
        if entry.code in HATCH_STYLES:
            style = HATCH_STYLES[entry.code]
            patch = Patch(
                facecolor=style.background,
                edgecolor=style.ink,
                hatch=style.hatch,
                linewidth=0.4,
                label=label,
            )
        else:
            fill = OUTSIDE_STUDY_COLOUR if entry.code == OUTSIDE_STUDY else colours[entry.code]
            patch = Patch(facecolor=fill, edgecolor=BORDER_COLOUR, linewidth=0.4, label=label)
        handles.append(patch)
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(_MARGIN_IN / _WIDTH_IN, (top - 0.02) / layout.height),
        ncols=min(_LEGEND_COLUMNS, max(1, len(handles))),
        title=value_label,
        title_fontsize=_LEGEND_PT + 0.5,
        fontsize=_LEGEND_PT,
        frameon=False,
        alignment="left",
        handlelength=1.6,
        handleheight=1.1,
        borderaxespad=0.0,
        borderpad=0.0,
    )


def _note(source_note: str, date: dt.date, outside: list[str]) -> str:
    west, south, east, north = MAIN_WINDOW
    text = f"{source_note.strip()} Map: accessgap, {date.isoformat()}."
    if outside:
        text += (
            f" Not shown (outside {abs(west):g}°W to {east:g}°E, {south:g}°N to {north:g}°N): "
            f"{', '.join(outside)}."
        )
    return text
