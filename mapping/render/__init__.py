"""Map rendering: interactive pages (:mod:`.interactive`) and publication figures (:mod:`.static`).

Both draw the same classes with the same look, defined here: a ColorBrewer sequential palette
for the value classes, and neutral hatched fills for "no data" and "low coverage", so the two
can never be read as a value; areas outside the study are plain grey. ``docs/maps.md`` explains
the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from mapping.classify import LOW_COVERAGE, NO_DATA

Format = Literal["png", "svg", "pdf"]
"""A figure's file format (:mod:`mapping.render.static`); here so that checking one does not
load matplotlib."""
FORMATS: tuple[Format, ...] = ("png", "svg", "pdf")

PALETTE_NAME = "YlGnBu"
"""ColorBrewer "YlGnBu" (yellow-green-blue), sequential, single-direction lightness ramp."""

# ColorBrewer 2.0 YlGnBu schemes (Cynthia A. Brewer, Penn State; Apache License 2.0). Safe for
# the common colour-vision deficiencies, and ordered by lightness so they survive greyscale
# printing. tests/mapping/test_render_palette.py checks them against branca's copy.
_YLGNBU: dict[int, tuple[str, ...]] = {
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
    7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
    8: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
    9: (
        *("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4"),
        *("#1d91c0", "#225ea8", "#253494", "#081d58"),
    ),
}

BORDER_COLOUR = "#636363"
"""Outline of every area: mid grey, visible on the lightest and the darkest class."""


@dataclass(frozen=True)
class HatchStyle:
    """A neutral fill with a pattern, for the classes that are not values.

    Attributes
    ----------
    background : str
        The fill colour under the pattern.
    ink : str
        The colour of the pattern.
    hatch : str
        The matplotlib hatch string (``"///"`` diagonal lines, ``".."`` dots); the interactive
        map draws the same pattern as an SVG pattern.
    """

    background: str
    ink: str
    hatch: str


NO_DATA_STYLE = HatchStyle(background="#f0f0f0", ink="#969696", hatch="///")
"""Light grey with diagonal lines: nothing is known here."""

LOW_COVERAGE_STYLE = HatchStyle(background="#ffffff", ink="#525252", hatch="..")
"""White with dots: a value exists but rests on too few responding centres."""

HATCH_STYLES: dict[int, HatchStyle] = {NO_DATA: NO_DATA_STYLE, LOW_COVERAGE: LOW_COVERAGE_STYLE}

OUTSIDE_STUDY_COLOUR = "#d9d9d9"
"""Areas outside the study: plain neutral grey, no pattern. They are drawn for context, are not
in the map's table, and are neither a value nor missing data."""

CENTRE_OFFERING_COLOUR = "#000000"
"""Centres offering the technology: filled black dots."""
CENTRE_NOT_OFFERING_COLOUR = "#ffffff"
"""Centres not offering it: white dots with a black ring (told apart by fill, not by hue)."""


def class_colours(n: int) -> tuple[str, ...]:
    """The fill colours of ``n`` value classes, lightest (lowest values) first.

    Parameters
    ----------
    n : int
        Number of classes, 0 to 9. One and two classes use the ends of the three-class scheme
        (ColorBrewer starts at three).

    Returns
    -------
    tuple of str
        ``n`` hex colours.

    Raises
    ------
    ValueError
        For ``n`` outside 0 to 9.

    Examples
    --------
    >>> class_colours(3)
    ('#edf8b1', '#7fcdbb', '#2c7fb8')
    >>> class_colours(2)
    ('#edf8b1', '#2c7fb8')
    """
    if n == 0:
        return ()
    if n == 1:
        return (_YLGNBU[3][1],)
    if n == 2:
        return (_YLGNBU[3][0], _YLGNBU[3][2])
    if n in _YLGNBU:
        return _YLGNBU[n]
    raise ValueError(f"no palette for {n} classes; use 1 to 9 classes")


MAIN_WINDOW = (-25.0, 34.0, 45.0, 72.0)
"""Longitude and latitude bounds of the frame maps of Europe open on (west, south, east, north).

It holds Iceland, Cyprus and Turkey to the Caucasus; the Azores, Madeira, the Canary Islands and
the outermost regions (Guadeloupe, Martinique, Guyane, Réunion, Mayotte) lie outside it.
"""


def main_frame(
    geometries: gpd.GeoSeries,
) -> tuple[tuple[float, float, float, float], npt.NDArray[np.bool_]]:
    """The bounds of the parts of ``geometries`` in :data:`MAIN_WINDOW`, and which lie outside.

    Parameters
    ----------
    geometries : geopandas.GeoSeries
        Areas in any CRS.

    Returns
    -------
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` in the CRS of ``geometries`` of every polygon part whose
        representative point lies in the window (all parts if none does).
    outside : numpy.ndarray of bool
        ``True`` for the areas with no part in the window: a map framed on ``bounds`` does not
        show them, so a figure should say so.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoSeries([box(10, 50, 11, 51), box(-17, 28, -16, 29)], crs=4326)
    >>> bounds, outside = main_frame(areas)
    >>> bounds, outside.tolist()
    ((10.0, 50.0, 11.0, 51.0), [False, True])
    """
    if geometries.crs is None:
        raise ValueError("the areas have no CRS; set it with .set_crs()")
    parts, owner = shapely.get_parts(geometries.to_numpy(), return_index=True)
    points = gpd.GeoSeries(shapely.point_on_surface(parts), crs=geometries.crs).to_crs(4326)
    west, south, east, north = MAIN_WINDOW
    inside = (
        (points.x >= west) & (points.x <= east) & (points.y >= south) & (points.y <= north)
    ).to_numpy()
    shown = parts[inside] if inside.any() else parts
    minx, miny, maxx, maxy = shapely.total_bounds(shown)
    outside = ~np.isin(np.arange(len(geometries)), owner[inside])
    return (float(minx), float(miny), float(maxx), float(maxy)), outside
