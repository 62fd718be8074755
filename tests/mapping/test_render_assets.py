import pytest

from mapping.render.assets import (
    LEAFLET,
    asset_file,
    check_asset_base_url,
    map_assets,
    vendor_packages,
)


def test_map_assets_are_leaflet_only_under_the_base_url() -> None:
    assets = map_assets("/vendor")
    assert assets.js == (("leaflet", "/vendor/leaflet/leaflet.js"),)
    assert assets.css == (("leaflet_css", "/vendor/leaflet/leaflet.css"),)
    assert assets.urls == {"/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css"}


def test_every_asset_url_is_a_file_of_a_vendor_package() -> None:
    for url in map_assets("/static/vendor").urls:
        assert asset_file(url, "/static/vendor").is_file()
    # leaflet.css draws the layer control with images/layers.png, served from the same place.
    assert asset_file("/vendor/leaflet/images/layers.png").is_file()


def test_leaflet_comes_from_xstatic_leaflet() -> None:
    assert vendor_packages() == (LEAFLET,)
    assert LEAFLET.version.startswith("1.9")
    assert (LEAFLET.directory / "leaflet.js").read_text(encoding="utf-8").find("Leaflet") >= 0


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.jsdelivr.net/npm",
        "//cdn.example.org/vendor",
        "vendor",
        "/vendor/../etc",
        "/ven dor",
        "",
        "javascript:alert(1)",
    ],
)
def test_only_same_origin_paths_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="path on this server"):
        map_assets(url)


def test_base_url_loses_its_trailing_slash() -> None:
    assert check_asset_base_url("/vendor/") == "/vendor"


@pytest.mark.parametrize(
    "url", ["/other/leaflet/leaflet.js", "/vendor/leaflet", "/vendor/d3/d3.js", "/vendor/../x"]
)
def test_asset_file_refuses_urls_outside_the_packages(url: str) -> None:
    with pytest.raises(ValueError, match=r"not under|no file|no vendor package|names no"):
        asset_file(url)
