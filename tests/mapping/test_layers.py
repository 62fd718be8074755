"""Area layers are cached per data version: a new boundary import is drawn at once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy.orm import Session

from mapping import imports, layers, queries, simplify
from surveys.policy import system_actor
from tests.mapping.nuts_files import write_nuts_file

SYSTEM = system_actor("system:test")
OLD = {"FR10": (2.0, 48.0, 3.0, 49.5), "FR71": (4.0, 45.0, 5.5, 46.5)}
NEW = {"FR10": (1.5, 48.5, 2.5, 49.0), "FR71": (4.5, 45.5, 5.0, 46.0)}


def simplifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    simplify_coverage = simplify.simplify_coverage

    def counted(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
        calls.append(len(gdf))
        return simplify_coverage(gdf, tolerance_m)

    monkeypatch.setattr(layers, "simplify_coverage", counted)
    return calls


def test_web_layer_follows_the_boundary_version_not_the_row_count(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layers, "_CACHE", {})  # whatever other tests left
    calls = simplifications(monkeypatch)
    versions = []
    for bounds in (OLD, NEW):
        path = write_nuts_file(tmp_path / "nuts.geojson", bounds)
        imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
        versions.append(queries.boundary_version(session))
        for layer in (layers.web_layer(session, "nuts2"), layers.area_layer(session, "nuts2")):
            shapes = layer.set_index("area_code").geometry
            for code, box_bounds in bounds.items():
                assert tuple(shapes[code].bounds) == pytest.approx(box_bounds)
    assert versions[0] != versions[1]
    assert calls == [2, 2]  # simplified once per import, though both have two regions

    layers.web_layer(session, "nuts2")
    assert calls == [2, 2]  # the same version: served from the cache


def test_city_regions_follow_the_boundary_version(session: Session, tmp_path: Path) -> None:
    paris = {"FR10": (2.2, 48.7, 2.5, 49.0), "FR71": (4.0, 45.0, 5.5, 46.5)}
    elsewhere = {"FR10": (-5.0, 40.0, -4.5, 40.5), "FR71": (4.0, 45.0, 5.5, 46.5)}
    found = []
    for bounds in (paris, elsewhere):
        path = write_nuts_file(tmp_path / "nuts.geojson", bounds)
        imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
        found.append(int((layers.city_regions(session) == "FR10").sum()))
    assert found[0] > 0  # Paris lies in the first FR10
    assert found[1] == 0


def test_country_layers_are_packaged(session: Session) -> None:
    assert layers.layer_version(session, "country") == layers.PACKAGED
    assert "FR" in set(layers.web_layer(session, "country")["area_code"])
