import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from mapping.boundaries import read_nuts_geojson
from mapping.reference import load_countries
from mapping.simplify import CoverageError, simplify_coverage
from tests.mapping.shared_data import GISCO_DIR

LEVEL_2 = "NUTS_RG_20M_2021_4326_LEVL_2.geojson"

KM2 = 1e6


def gisco_file(name: str) -> Path:
    path = GISCO_DIR / name
    if not path.exists():
        message = f"GISCO reference file {path} is absent (see ../shared/data/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def nuts_2() -> gpd.GeoDataFrame:
    return read_nuts_geojson(gisco_file(LEVEL_2))


def overlap_km2(frame: gpd.GeoDataFrame) -> float:
    """Sum of the areas where two different polygons overlap, in km²."""
    geometries = frame.to_crs(3035).geometry.to_numpy()
    left, right = shapely.STRtree(geometries).query(geometries, predicate="intersects")
    pairs = left < right
    overlaps = shapely.intersection(geometries[left[pairs]], geometries[right[pairs]])
    return float(shapely.area(overlaps).sum()) / KM2


def union_km2(frame: gpd.GeoDataFrame) -> float:
    return float(frame.to_crs(3035).union_all().area) / KM2


def holes(frame: gpd.GeoDataFrame) -> int:
    """Interior rings of the union: gaps between neighbours would show up as new ones."""
    union = frame.to_crs(3035).union_all()
    return int(sum(shapely.get_num_interior_rings(shapely.get_parts(union))))


def vertices(frame: gpd.GeoDataFrame) -> int:
    return int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum())


# --- simplify_coverage: the real NUTS-2 layer ---------------------------------------------------


# The 1:20M layer is already generalised, and about 600 polygons (islands) keep at least a
# triangle each: it shrinks less than a denser input would (see the country layer below).
@pytest.mark.parametrize(
    ("tolerance_m", "vertex_share", "moved_share"), [(5_000, 0.9, 0.005), (15_000, 0.5, 0.02)]
)
def test_nuts_2_stays_seamless_and_loses_many_vertices(
    nuts_2: gpd.GeoDataFrame, tolerance_m: float, vertex_share: float, moved_share: float
) -> None:
    simple = simplify_coverage(nuts_2, tolerance_m)

    assert simple.crs.to_epsg() == 4326
    assert simple["nuts_id"].tolist() == nuts_2["nuts_id"].tolist()
    assert simple.is_valid.all()
    assert not simple.is_empty.any()
    # No overlaps: neighbours meet along identical borders (input: none either).
    assert overlap_km2(nuts_2) == pytest.approx(0, abs=1e-6)
    assert overlap_km2(simple) < 0.01
    # No new gaps: the union keeps its area (coastlines move a little, within 0.5%) and no
    # hole opens between neighbours.
    assert union_km2(simple) == pytest.approx(union_km2(nuts_2), rel=0.005)
    assert holes(simple) == holes(nuts_2)
    # Areas keep their size: little area changes hands overall, and even the smallest regions
    # (Ceuta, 10 km²; Inner London; Prague) keep most of theirs.
    before = nuts_2.to_crs(3035).area.to_numpy() / KM2
    after = simple.to_crs(3035).area.to_numpy() / KM2
    assert np.abs(after - before).sum() < moved_share * before.sum()
    assert np.all(after > 0.4 * before)
    assert vertices(simple) < vertex_share * vertices(nuts_2)


def test_coordinates_are_rounded_to_the_grid(nuts_2: gpd.GeoDataFrame) -> None:
    simple = simplify_coverage(nuts_2, 10_000)  # default: 2 decimals, about 1 km
    coordinates = shapely.get_coordinates(simple.geometry.to_numpy()) * 100
    assert np.allclose(coordinates, np.round(coordinates), atol=1e-6)
    three = shapely.get_coordinates(simplify_coverage(nuts_2, 10_000, decimals=3).geometry) * 1e3
    assert np.allclose(three, np.round(three), atol=1e-6)


def test_the_denser_country_layer_shrinks_more() -> None:
    countries = load_countries()
    simple = simplify_coverage(countries, 5_000)
    assert vertices(simple) < 0.5 * vertices(countries)
    assert overlap_km2(simple) < 0.01
    assert holes(simple) == holes(countries)


def test_input_in_epsg_3035_gives_the_same_result(nuts_2: gpd.GeoDataFrame) -> None:
    from_degrees = simplify_coverage(nuts_2.head(40), 10_000)
    from_metres = simplify_coverage(nuts_2.head(40).to_crs(3035), 10_000)
    assert from_metres.crs.to_epsg() == 4326
    assert from_metres.geometry.geom_equals_exact(from_degrees.geometry, tolerance=0.011).all()


# --- small cases ---------------------------------------------------------------------------------


def test_a_shared_border_moves_the_same_way_on_both_sides() -> None:
    # Two unit squares sharing a border with a small kink at x = 1.01, y = 0.5 (about 1 km).
    left = Polygon([(0, 0), (1, 0), (1.01, 0.5), (1, 1), (0, 1)])
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1.01, 0.5)])
    areas = gpd.GeoDataFrame({"id": ["L", "R"]}, geometry=[left, right], crs=4326)
    simple = simplify_coverage(areas, 20_000, decimals=3)
    a, b = simple.geometry
    assert len(a.exterior.coords) == len(b.exterior.coords) == 5  # kink gone
    assert a.intersection(b).area == 0
    assert a.union(b).area == pytest.approx(2.0)


def test_a_zero_tolerance_only_rounds() -> None:
    square = box(0.123456789, 0.0, 1.0, 1.0)
    simple = simplify_coverage(gpd.GeoDataFrame(geometry=[square], crs=4326), 0)
    assert shapely.get_coordinates(simple.geometry.iloc[0]).min(axis=0)[0] == 0.123457


def test_an_islet_smaller_than_the_grid_is_kept() -> None:
    # A 20 m islet next to a large area: at 2 decimals (about 1 km) it would vanish.
    islet = box(10.0001, 50.0001, 10.0003, 50.0003)
    land = box(11, 50, 12, 51)
    areas = gpd.GeoDataFrame(geometry=[islet, land], crs=4326)
    simple = simplify_coverage(areas, 10_000)
    assert not simple.is_empty.any()
    assert simple.is_valid.all()


def test_overlapping_polygons_are_not_a_coverage() -> None:
    areas = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3)], crs=4326)
    with pytest.raises(CoverageError, match="overlap"):
        simplify_coverage(areas, 1_000)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), "no CRS"),
        (gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4326), "must be polygons"),
        (gpd.GeoDataFrame(geometry=[None], crs=4326), "without geometry"),
    ],
)
def test_unusable_frames_are_refused(frame: gpd.GeoDataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simplify_coverage(frame, 1_000)


def test_negative_tolerance_and_decimals_are_refused() -> None:
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(ValueError, match="tolerance_m"):
        simplify_coverage(frame, -1)
    with pytest.raises(ValueError, match="decimals"):
        simplify_coverage(frame, 1_000, decimals=9)
