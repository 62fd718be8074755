import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from mapping.boundaries import (
    NUTS_COLUMNS,
    BoundaryFileError,
    assign_regions,
    read_nuts_geojson,
)
from mapping.reference import load_countries
from tests.mapping.shared_data import GISCO_DIR

LEVEL_0 = "NUTS_RG_20M_2021_4326_LEVL_0.geojson"
LEVEL_2 = "NUTS_RG_20M_2021_4326_LEVL_2.geojson"


def gisco_file(name: str) -> Path:
    path = GISCO_DIR / name
    if not path.exists():
        message = f"GISCO reference file {path} is absent (see ../shared/data/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def level_2() -> gpd.GeoDataFrame:
    return read_nuts_geojson(gisco_file(LEVEL_2))


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def feature(properties: dict[str, Any], geometry: Any = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": geometry if geometry is not None else box(0, 0, 1, 1).__geo_interface__,
    }


GOOD_PROPERTIES = {"NUTS_ID": "AT13", "LEVL_CODE": 2, "CNTR_CODE": "AT", "NAME_LATN": "Wien"}


# --- read_nuts_geojson: real GISCO files -----------------------------------------------------


def test_reads_gisco_level_0() -> None:
    countries = read_nuts_geojson(gisco_file(LEVEL_0))
    assert len(countries) == 37
    assert list(countries.columns) == NUTS_COLUMNS
    assert countries.crs.to_epsg() == 4326
    assert (countries["level"] == 0).all()
    assert {"GR", "GB"} <= set(countries["country_code"])
    assert not {"EL", "UK"} & set(countries["country_code"])
    greece = countries.set_index("nuts_id").loc["EL"]  # NUTS ids stay as Eurostat writes them
    assert (greece["country_code"], greece["name"]) == ("GR", "Elláda")
    assert countries.is_valid.all()


def test_reads_gisco_level_2(level_2: gpd.GeoDataFrame) -> None:
    assert len(level_2) == 333
    assert (level_2["level"] == 2).all()
    assert level_2["nuts_id"].is_unique
    by_id = level_2.set_index("nuts_id")
    assert by_id.loc["EL30", "country_code"] == "GR"
    assert by_id.loc["UKI3", "country_code"] == "GB"
    assert by_id.loc["AT13", "name"] == "Wien"
    assert not level_2["name"].str.contains("\xa0").any()  # trailing no-break spaces stripped
    assert (
        level_2["country_code"] == level_2["nuts_id"].str[:2].replace({"EL": "GR", "UK": "GB"})
    ).all()


def test_reads_3035_file_and_reprojects(tmp_path: Path, level_2: gpd.GeoDataFrame) -> None:
    raw = gpd.read_file(gisco_file(LEVEL_2))
    laea = tmp_path / "NUTS_RG_20M_2021_3035_LEVL_2.geojson"
    raw.to_crs(3035).to_file(laea, driver="GeoJSON")
    assert "3035" in json.loads(laea.read_text(encoding="utf-8"))["crs"]["properties"]["name"]

    regions = read_nuts_geojson(laea)

    assert regions.crs.to_epsg() == 4326
    assert regions["nuts_id"].tolist() == level_2["nuts_id"].tolist()
    # Planar distance in degrees on purpose: the round trip through EPSG:3035 moves nothing.
    shift = shapely.hausdorff_distance(regions.geometry.to_numpy(), level_2.geometry.to_numpy())
    assert shift.max() < 1e-6


def test_infers_crs_from_coordinates_when_the_member_is_missing(
    tmp_path: Path, level_2: gpd.GeoDataFrame
) -> None:
    raw = gpd.read_file(gisco_file(LEVEL_2))
    for epsg in (4326, 3035):
        path = tmp_path / f"no_crs_{epsg}.geojson"
        raw.to_crs(epsg).to_file(path, driver="GeoJSON")
        document = json.loads(path.read_text(encoding="utf-8"))
        document.pop("crs", None)
        write_json(path, document)

        regions = read_nuts_geojson(path)

        assert regions.crs.to_epsg() == 4326
        centroids = regions.set_index("nuts_id").geometry.representative_point()
        assert centroids["AT13"].within(level_2.set_index("nuts_id").loc["AT13", "geometry"])


def test_crs_argument_overrides_the_file(tmp_path: Path) -> None:
    # A 1 km square 4,000 km east and 3,000 km north of the EPSG:3035 origin: central Europe.
    square = box(4.0e6, 3.0e6, 4.001e6, 3.001e6).__geo_interface__
    path = write_json(
        tmp_path / "square.geojson",
        {"type": "FeatureCollection", "features": [feature(GOOD_PROPERTIES, square)]},
    )
    regions = read_nuts_geojson(path, crs="EPSG:3035")
    lon, lat = regions.geometry.iloc[0].centroid.coords[0]
    assert 0 < lon < 20
    assert 40 < lat < 60


def test_legacy_epsg_crs_member(tmp_path: Path) -> None:
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "EPSG", "properties": {"code": 4326}},
        "features": [feature(GOOD_PROPERTIES)],
    }
    regions = read_nuts_geojson(write_json(tmp_path / "legacy.geojson", document))
    assert regions.crs.to_epsg() == 4326


def test_falls_back_to_the_native_name(tmp_path: Path) -> None:
    properties = {"NUTS_ID": "EL30", "LEVL_CODE": "2", "CNTR_CODE": "EL", "NUTS_NAME": "Αττική "}
    document = {"type": "FeatureCollection", "features": [feature(properties)]}
    regions = read_nuts_geojson(write_json(tmp_path / "native.geojson", document))
    assert regions.loc[0, ["nuts_id", "level", "country_code", "name"]].tolist() == [
        "EL30",
        2,
        "GR",
        "Αττική",
    ]


def test_packaged_countries_match_gisco_level_0() -> None:
    # An independent check of the TopoJSON decoding in scripts/build_reference_geodata.py:
    # Natural Earth 1:50m and GISCO 1:20M outlines of the same country overlap almost entirely.
    # France is left out: its NUTS outline includes the overseas departments, ours does not.
    ours = load_countries().to_crs(3035).set_index("iso2").geometry
    gisco = read_nuts_geojson(gisco_file(LEVEL_0)).to_crs(3035).set_index("country_code").geometry
    common = sorted((set(ours.index) & set(gisco.index)) - {"FR"})
    overlap = pd.Series(
        {
            iso2: ours[iso2].intersection(gisco[iso2]).area / ours[iso2].union(gisco[iso2]).area
            for iso2 in common
        }
    )
    assert len(common) == 36
    assert overlap.min() > 0.6  # Liechtenstein and Malta are a few pixels at 1:50m
    assert overlap.median() > 0.95


# --- read_nuts_geojson: files it refuses -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"type": "FeatureCollection", "features": [', "not valid JSON", id="cut"),
        pytest.param("[1, 2]", "should be a GeoJSON FeatureCollection", id="array"),
        pytest.param('{"type": "Feature"}', "found 'Feature'", id="single feature"),
        pytest.param('{"type": "FeatureCollection", "features": []}', "no features", id="empty"),
    ],
)
def test_rejects_files_that_are_not_feature_collections(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BoundaryFileError, match=message) as caught:
        read_nuts_geojson(path)
    assert "gisco-services.ec.europa.eu" in str(caught.value)  # says where to get a good file


def test_rejects_binary_files(tmp_path: Path) -> None:
    path = tmp_path / "NUTS.gpkg"
    path.write_bytes(b"SQLite format 3\x00\xff\xfe")
    with pytest.raises(BoundaryFileError, match="not UTF-8 text"):
        read_nuts_geojson(path)


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        pytest.param("NUTS_ID", "feature 1 lacks NUTS_ID", id="id"),
        pytest.param("LEVL_CODE", "AT13 lacks LEVL_CODE", id="level"),
        pytest.param("CNTR_CODE", "AT13 lacks CNTR_CODE", id="country"),
        pytest.param("NAME_LATN", "AT13 lacks NAME_LATN or NUTS_NAME", id="name"),
    ],
)
def test_rejects_missing_properties(tmp_path: Path, drop: str, message: str) -> None:
    properties = {key: value for key, value in GOOD_PROPERTIES.items() if key != drop}
    document = {"type": "FeatureCollection", "features": [feature(properties)]}
    path = write_json(tmp_path / "props.geojson", document)
    with pytest.raises(BoundaryFileError, match=message) as caught:
        read_nuts_geojson(path)
    assert "does not look like a GISCO NUTS file" in str(caught.value)


def test_rejects_bad_level(tmp_path: Path) -> None:
    properties = {**GOOD_PROPERTIES, "LEVL_CODE": "two"}
    document = {"type": "FeatureCollection", "features": [feature(properties)]}
    with pytest.raises(BoundaryFileError, match="AT13 has LEVL_CODE 'two', not 0-3"):
        read_nuts_geojson(write_json(tmp_path / "level.geojson", document))


def test_rejects_features_without_geometry(tmp_path: Path) -> None:
    document = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": GOOD_PROPERTIES, "geometry": None}],
    }
    with pytest.raises(BoundaryFileError, match=r"AT13.*region \(RG\) file"):
        read_nuts_geojson(write_json(tmp_path / "nogeom.geojson", document))


@pytest.mark.parametrize(
    ("crs_member", "message"),
    [
        pytest.param(
            {"type": "name", "properties": {"name": "EPSG:27700"}},
            "EPSG:27700 .*does not support; supported: EPSG:4326",
            id="unsupported",
        ),
        pytest.param(
            {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}},
            "unknown CRS 'urn:ogc:def:crs:EPSG::999999'",
            id="unknown",
        ),
        pytest.param(
            {"type": "link", "properties": {"href": "crs.prj"}},
            "crs member this reader does not understand",
            id="link",
        ),
    ],
)
def test_rejects_unknown_crs(tmp_path: Path, crs_member: dict[str, Any], message: str) -> None:
    document = {
        "type": "FeatureCollection",
        "crs": crs_member,
        "features": [feature(GOOD_PROPERTIES)],
    }
    with pytest.raises(BoundaryFileError, match=message):
        read_nuts_geojson(write_json(tmp_path / "crs.geojson", document))


def test_rejects_coordinates_of_unknown_crs(tmp_path: Path) -> None:
    far_away = box(-9.0e7, -9.0e7, -8.9e7, -8.9e7).__geo_interface__
    document = {"type": "FeatureCollection", "features": [feature(GOOD_PROPERTIES, far_away)]}
    with pytest.raises(BoundaryFileError, match=r"names no CRS.*pass crs='EPSG:\.\.\.'"):
        read_nuts_geojson(write_json(tmp_path / "far.geojson", document))


def test_boundary_file_error_is_a_value_error() -> None:
    assert issubclass(BoundaryFileError, ValueError)


# --- assign_regions --------------------------------------------------------------------------


def test_assigns_known_cities(level_2: gpd.GeoDataFrame) -> None:
    cities = gpd.GeoDataFrame(
        {"city": ["Paris", "Milan", "Vienna", "Athens", "Mid-Atlantic"]},
        geometry=[
            Point(2.3522, 48.8566),
            Point(9.1900, 45.4642),
            Point(16.3738, 48.2082),
            Point(23.7275, 37.9838),
            Point(-35.0, 45.0),
        ],
        index=pd.Index([10, 11, 12, 13, 14], name="centre_id"),
        crs=4326,
    )
    regions = assign_regions(cities, level_2)
    assert regions.name == "nuts_id"
    assert regions.index.equals(cities.index)
    assert regions.iloc[:4].tolist() == ["FR10", "ITC4", "AT13", "EL30"]
    assert pd.isna(regions.iloc[4])


def test_point_on_a_border_gets_one_region_whatever_the_order() -> None:
    regions = gpd.GeoDataFrame(
        {"nuts_id": ["ZZ2", "ZZ1"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs=4326
    )
    points = gpd.GeoDataFrame(
        geometry=[Point(1, 0.5), Point(1, 0.5), Point(0.5, 0.5)],
        index=["border", "border", "inside"],  # duplicate labels must not mix rows up
        crs=4326,
    )
    forwards = assign_regions(points, regions)
    backwards = assign_regions(points, regions.iloc[::-1])
    assert forwards.tolist() == ["ZZ1", "ZZ1", "ZZ1"]
    assert backwards.tolist() == forwards.tolist()
    assert forwards.index.tolist() == ["border", "border", "inside"]


def test_assign_regions_with_another_id_column() -> None:
    regions = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    points = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), None], crs=4326)
    assigned = assign_regions(points, regions, id_col="code")
    assert assigned.name == "code"
    assert assigned.iloc[0] == "A"
    assert pd.isna(assigned.iloc[1])


@pytest.mark.parametrize(
    ("points_crs", "regions_crs", "id_col", "geometry", "message"),
    [
        pytest.param(None, 4326, "nuts_id", Point(0, 0), "need a CRS", id="no crs"),
        pytest.param(3035, 4326, "nuts_id", Point(0, 0), "reproject", id="crs mismatch"),
        pytest.param(4326, 4326, "region", Point(0, 0), "no column 'region'", id="id column"),
        pytest.param(4326, 4326, "nuts_id", box(0, 0, 1, 1), "found Polygon", id="polygons"),
    ],
)
def test_assign_regions_rejects_bad_input(
    points_crs: int | None, regions_crs: int, id_col: str, geometry: Any, message: str
) -> None:
    regions = gpd.GeoDataFrame({"nuts_id": ["A"]}, geometry=[box(0, 0, 1, 1)], crs=regions_crs)
    points = gpd.GeoDataFrame(geometry=[geometry], crs=points_crs)
    with pytest.raises(ValueError, match=message):
        assign_regions(points, regions, id_col=id_col)
