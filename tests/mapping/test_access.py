import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point

from mapping.access import LUO_QI_STEP_WEIGHTS, e2sfca, nearest_distance_km, share_beyond

# The hand-computed fixture: everything on the line y = 3,000,000 m in EPSG:3035, so distances
# are differences of x. Population points P1, P2 (area A) and P3 (area B); centres C1, C2.
#
#   x (km):  4000   4020        4060                   4155   4200
#            P1     C1          P2                     P3     C2
#            1000   cap 2       2000                   500    cap 1
#
# Distances (km)   C1    C2
#   P1             20   200
#   P2             40   140
#   P3            135    45
Y = 3_000_000


def population() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area": ["A", "A", "B"], "population": [1000, 2000, 500]},
        geometry=[Point(4_000_000, Y), Point(4_060_000, Y), Point(4_155_000, Y)],
        index=["P1", "P2", "P3"],
        crs=3035,
    )


def centres() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"capacity": [2, 1]},
        geometry=[Point(4_020_000, Y), Point(4_200_000, Y)],
        index=["C1", "C2"],
        crs=3035,
    )


# --- nearest_distance_km -----------------------------------------------------------------------


def test_nearest_distance_by_hand() -> None:
    # P1: min(20, 200) = 20; P2: min(40, 140) = 40; P3: min(135, 45) = 45.
    distance = nearest_distance_km(population(), centres())
    assert distance.to_dict() == {"P1": 20.0, "P2": 40.0, "P3": 45.0}
    assert distance.name == "distance_km"


def test_nearest_distance_crosses_borders_and_reads_degrees() -> None:
    # Vienna's population to a centre in Bratislava, the nearest one though in another
    # country; the EPSG:3035 distance agrees with the geodesic within 0.5%.
    vienna, bratislava = (16.3738, 48.2082), (17.1077, 48.1486)
    people = gpd.GeoDataFrame({"country": ["AT"]}, geometry=[Point(vienna)], crs=4326)
    sites = gpd.GeoDataFrame(
        {"country": ["SK", "AT"]}, geometry=[Point(bratislava), Point(14.2858, 48.3069)], crs=4326
    )
    _, _, geodesic_m = Geod(ellps="GRS80").inv(*vienna, *bratislava)
    assert nearest_distance_km(people, sites).iloc[0] == pytest.approx(geodesic_m / 1000, rel=5e-3)


def test_nearest_distance_matches_brute_force() -> None:
    rng = np.random.default_rng(11)
    xy_people = rng.uniform([3e6, 2e6], [5e6, 4e6], size=(300, 2))
    xy_sites = rng.uniform([3e6, 2e6], [5e6, 4e6], size=(25, 2))
    people = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy_people.T), crs=3035)
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy_sites.T), crs=3035)
    expected = np.sqrt(((xy_people[:, None, :] - xy_sites[None, :, :]) ** 2).sum(-1)).min(1)
    assert nearest_distance_km(people, sites).to_numpy() == pytest.approx(expected / 1000)


def test_without_centres_everyone_is_infinitely_far_and_missing_points_are_nan() -> None:
    people = gpd.GeoDataFrame(geometry=[Point(0, 0), None], crs=3035)
    none = gpd.GeoDataFrame(geometry=[], crs=3035)
    distance = nearest_distance_km(people, none)
    assert distance.iloc[0] == math.inf
    assert math.isnan(distance.iloc[1])


def test_frames_without_crs_or_with_polygons_are_refused() -> None:
    with pytest.raises(ValueError, match="no CRS"):
        nearest_distance_km(gpd.GeoDataFrame(geometry=[Point(0, 0)]), centres())
    polygons = gpd.GeoDataFrame(geometry=[Point(0, 0).buffer(1)], crs=3035)
    with pytest.raises(ValueError, match="must be points"):
        nearest_distance_km(population(), polygons)


# --- share_beyond -------------------------------------------------------------------------------


def test_share_beyond_by_hand() -> None:
    # Area A: 3,000 people; only P2 (2,000, at 40 km) lives beyond 30 km: 2000 / 3000.
    # Area B: 500 people, all at 45 km: beyond 30 km 1.0; beyond 50 km 0.
    shares = share_beyond(population(), centres(), "area", thresholds_km=(30, 50))
    assert shares.index.tolist() == ["A", "B"]
    assert shares["population"].tolist() == [3000, 500]
    assert shares["beyond_30km"].tolist() == pytest.approx([2 / 3, 1.0])
    assert shares["beyond_50km"].tolist() == [0.0, 0.0]


def test_share_beyond_counts_a_point_on_the_threshold_as_within() -> None:
    # P1 is exactly 20 km from C1: not beyond 20 km.
    shares = share_beyond(population(), centres(), "area", thresholds_km=[20])
    assert shares.loc["A", "beyond_20km"] == pytest.approx(2 / 3)


def test_default_thresholds_and_no_centre_at_all() -> None:
    shares = share_beyond(population(), centres().iloc[:0], "area")
    assert list(shares.columns) == ["population", "beyond_50km", "beyond_100km", "beyond_200km"]
    assert (shares.drop(columns="population") == 1.0).all().all()


def test_points_without_area_or_population_are_left_out() -> None:
    people = population()
    people.loc["P2", "area"] = None
    people.loc["P3", "population"] = np.nan
    shares = share_beyond(people, centres(), "area", thresholds_km=[30])
    assert shares.to_dict("index") == {"A": {"population": 1000.0, "beyond_30km": 0.0}}


def test_share_beyond_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="no column 'region'"):
        share_beyond(population(), centres(), "region")
    with pytest.raises(ValueError, match="positive"):
        share_beyond(population(), centres(), "area", thresholds_km=[0])
    negative = population().assign(population=[-1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        share_beyond(negative, centres(), "area")


# --- e2sfca -------------------------------------------------------------------------------------


def test_e2sfca_step_weights_by_hand() -> None:
    # Catchment 150 km in Luo & Qi's three rings: <= 50 km weight 1.00, <= 100 km 0.68,
    # <= 150 km 0.22. C2 is 200 km from P1: outside.
    #
    # Step 1, supply over weighted demand:
    #   C1: P1 20 km (1.00), P2 40 km (1.00), P3 135 km (0.22)
    #       demand = 1000 + 2000 + 500 * 0.22 = 3110;  R1 = 2 / 3110
    #   C2: P2 140 km (0.22), P3 45 km (1.00)
    #       demand = 2000 * 0.22 + 500 = 940;          R2 = 1 / 940
    # Step 2, weighted sum of the ratios in reach:
    #   P1 = R1 * 1.00                  = 2 / 3110
    #   P2 = R1 * 1.00 + R2 * 0.22      = 2 / 3110 + 0.22 / 940
    #   P3 = R1 * 0.22 + R2 * 1.00      = 0.44 / 3110 + 1 / 940
    score = e2sfca(population(), centres(), "capacity", catchment_km=150, decay="step")
    assert score.to_dict() == pytest.approx(
        {"P1": 2 / 3110, "P2": 2 / 3110 + 0.22 / 940, "P3": 0.44 / 3110 + 1 / 940}
    )
    # Nothing is lost or made up: population times score sums to the capacity, 2 + 1.
    assert (score * population()["population"]).sum() == pytest.approx(3.0)


def test_e2sfca_gaussian_weights_by_hand() -> None:
    # Two points of 1,000 people, at 0 km and at half the 100 km catchment from one centre
    # of capacity 1. Gaussian weight at half way:
    #   W = (exp(-1/8) - exp(-1/2)) / (1 - exp(-1/2)) = (0.882497 - 0.606531) / 0.393469
    #     = 0.275966 / 0.393469 = 0.701367
    # R = 1 / (1000 * 1 + 1000 * W) = 1 / 1701.367;  scores R * 1 and R * W.
    w = (math.exp(-1 / 8) - math.exp(-1 / 2)) / (1 - math.exp(-1 / 2))
    assert w == pytest.approx(0.701367, abs=1e-6)
    people = gpd.GeoDataFrame(
        {"population": [1000, 1000]}, geometry=[Point(0, 0), Point(50_000, 0)], crs=3035
    )
    site = gpd.GeoDataFrame({"capacity": [1]}, geometry=[Point(0, 0)], crs=3035)
    score = e2sfca(people, site, "capacity", catchment_km=100)
    r = 1 / (1000 + 1000 * w)
    assert score.tolist() == pytest.approx([r, r * w])


def test_e2sfca_gaussian_weight_is_zero_at_the_edge_of_the_catchment() -> None:
    people = gpd.GeoDataFrame(
        {"population": [10, 10]}, geometry=[Point(0, 0), Point(100_000, 0)], crs=3035
    )
    site = gpd.GeoDataFrame({"capacity": [1]}, geometry=[Point(0, 0)], crs=3035)
    # The point on the edge weighs 0: it neither competes nor gains.
    assert e2sfca(people, site, "capacity", catchment_km=100).tolist() == pytest.approx([0.1, 0.0])


def test_e2sfca_out_of_reach_is_zero_and_unknown_is_nan() -> None:
    people = gpd.GeoDataFrame(
        {"population": [100, np.nan, 100]},
        geometry=[Point(0, 0), Point(1, 1), None],
        crs=3035,
    )
    site = gpd.GeoDataFrame({"capacity": [1]}, geometry=[Point(500_000, 0)], crs=3035)
    score = e2sfca(people, site, "capacity")
    assert score.iloc[0] == 0.0
    assert score.iloc[1:].isna().all()


def test_e2sfca_custom_step_weights() -> None:
    # One ring: classic 2SFCA. C1 reaches P1 and P2 within 50 km: R1 = 2 / 3000; C2 reaches
    # P3 (45 km): R2 = 1 / 500.
    score = e2sfca(
        population(), centres(), "capacity", catchment_km=50, decay="step", step_weights=[(1, 1)]
    )
    assert score.tolist() == pytest.approx([2 / 3000, 2 / 3000, 1 / 500])


def test_luo_qi_weights_are_documented_values() -> None:
    assert [w for _, w in LUO_QI_STEP_WEIGHTS] == [1.0, 0.68, 0.22]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity_col": "beds"}, "no column 'beds'"),
        ({"capacity_col": "capacity", "catchment_km": 0}, "positive"),
        ({"capacity_col": "capacity", "decay": "linear"}, "unknown decay"),
        (
            {"capacity_col": "capacity", "decay": "step", "step_weights": [(0.5, 1), (0.9, 0.5)]},
            "edges increasing",
        ),
    ],
)
def test_e2sfca_refuses_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        e2sfca(population(), centres(), **kwargs)  # type: ignore[arg-type]  # wrong on purpose


def test_indexes_are_kept() -> None:
    people = population().set_index(pd.Index([10, 20, 30]))
    assert nearest_distance_km(people, centres()).index.tolist() == [10, 20, 30]
    assert e2sfca(people, centres(), "capacity").index.tolist() == [10, 20, 30]
