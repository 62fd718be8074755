"""The packaged official reference data: the files are the ones PROVENANCE.md describes (sha256),
and the readers turn them into the registry's codes and NUTS versions."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from mapping import official
from mapping.boundary_files import read_nuts_file

FOLDER = resources.files("mapping").joinpath("data", "reference")


@pytest.mark.parametrize("name", sorted(official.FILES))
def test_every_packaged_file_has_the_sha256_of_its_provenance(name: str) -> None:
    digest = hashlib.sha256(FOLDER.joinpath(name).read_bytes()).hexdigest()
    assert digest == official.FILES[name]
    provenance = FOLDER.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    row = next(line for line in provenance.splitlines() if line.startswith(f"| `{name}`"))
    assert f"`{digest}`" in row


def test_the_provenance_lists_every_file_of_the_folder() -> None:
    shipped = {p.name for p in FOLDER.iterdir() if p.name != "PROVENANCE.md"}
    assert shipped == set(official.FILES)
    provenance = FOLDER.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    for heading in ("Attribution", "Filtered", "terms"):
        assert heading.lower() in provenance.lower()
    assert "© EuroGeographics for the administrative boundaries" in provenance


def test_eurostat_population_in_registry_codes_and_nuts_versions() -> None:
    figures = official.eurostat_population()
    by_key = figures.set_index(["area_code", "year"])
    assert by_key.loc[("DE", 2024), "value"] == 83_456_045
    assert by_key.loc[("FR", 2024), "value"] == 68_467_362
    # Eurostat's EL and UK become the registry's GR and GB; no Eurostat country code is left.
    assert {"GR", "GB"} <= set(figures.loc[figures["area_level"] == "country", "area_code"])
    assert not {"EL", "UK"} & set(figures["area_code"])
    assert by_key.loc[("GB", 2019), "area_level"] == "country"
    # NUTS codes stay as Eurostat writes them, with their version: 2024 in 2024, 2021 before.
    assert by_key.loc[("EL30", 2024), "nuts_version"] == "2024"
    assert by_key.loc[("EL30", 2023), "nuts_version"] == "2021"
    assert by_key.loc[("NL35", 2024), "nuts_version"] == "2024"
    assert ("NL35", 2023) not in by_key.index
    assert figures.loc[figures["area_level"] == "country", "nuts_version"].isna().all()
    # The NUTS 2016 codes of 2019-2020 are left out.
    assert not set(figures["area_code"]) & official.NUTS2016_CODES
    assert len(figures) == 2_010
    assert set(figures.loc[figures["value"] <= 0, "area_code"]) == {"NO0B"}  # Svalbard, Jan Mayen


def test_globocan_cases_per_registry_country() -> None:
    cases = official.cancer_incidence().set_index("area_code")
    assert cases.loc["CZ", "value"] == 61_107
    assert cases.loc["GR", "value"] == 63_176
    assert cases.loc["GB", "value"] == 417_481
    # France: metropolitan France and the four overseas departments GLOBOCAN estimates.
    assert cases.loc["FR", "value"] == 435_114 + 2_042 + 1_975 + 3_014 + 563
    assert (cases["year"] == 2022).all()
    assert "LI" not in cases.index  # GLOBOCAN has no Liechtenstein
    assert "XK" not in cases.index  # nor Kosovo
    assert set(cases["source"]) == {official.GLOBOCAN_SOURCE}


def test_the_jrc_correspondence_and_the_packaged_boundaries() -> None:
    jrc = official.nuts_correspondence()
    assert list(jrc.columns) == ["code_v2021", "code_v2024", "pop21"]
    assert len(jrc) == 261
    split = jrc[jrc["code_v2021"] == "PT17"].set_index("code_v2024")["pop21"]
    assert split.to_dict() == {"PT1A": 2_062_246.0, "PT1B": 807_501.0}
    for level, count in ((0, 37), (2, 333)):
        name = official.boundary_file_name(level)
        assert re.fullmatch(r"NUTS_RG_20M_2021_4326_LEVL_\d\.geojson", name)
        with official.reference_file(name) as path:
            assert len(read_nuts_file(path)) == count
    with pytest.raises(KeyError):
        official.boundary_file_name(1)
