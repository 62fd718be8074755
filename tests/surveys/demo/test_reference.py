from __future__ import annotations

import hashlib
import re
import tomllib
from importlib import resources
from pathlib import Path

from surveys.demo.centres import DEMO_COUNTRIES
from surveys.demo.reference import (
    CARBON_ION_FILE,
    DIRAC_FILE,
    carbon_ion_facilities,
    country_populations,
    dirac_resources,
)

DATA = resources.files("surveys.demo").joinpath("data")


def test_every_demo_country_has_dirac_figures_and_a_population() -> None:
    dirac = dirac_resources()
    populations = country_populations()
    for code in DEMO_COUNTRIES:
        assert dirac[code].mv_units > 0, code
        assert dirac[code].centres_with_rt > 0, code
        assert populations[code] > 100_000, code


def test_dirac_rows_read_as_published() -> None:
    germany, iceland = dirac_resources()["DE"], dirac_resources()["IS"]
    assert (germany.mv_units, germany.centres_with_rt, germany.proton_ion_units) == (723, 368, 7)
    assert (iceland.mv_units, iceland.proton_ion_units) == (2, 0)


def test_carbon_ions_are_treated_in_germany_italy_and_austria_only() -> None:
    clinical = sorted(f.iso2 for f in carbon_ion_facilities() if f.clinical)
    research = sorted(f.iso2 for f in carbon_ion_facilities() if not f.clinical)
    assert clinical == ["AT", "DE", "DE", "IT"]
    assert research == ["FR"]


def test_the_provenance_note_gives_each_file_its_checksum_and_the_dirac_citation() -> None:
    note = DATA.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    assert "The IAEA Directory of Radiotherapy Centres (DIRAC), https://dirac.iaea.org/" in note
    for name in (DIRAC_FILE, CARBON_ION_FILE):
        digest = hashlib.sha256(DATA.joinpath(name).read_bytes()).hexdigest()
        row = re.search(rf"`{re.escape(name)}`.*\|\s*`(?P<sha>[0-9a-f]{{64}})`", note)
        assert row is not None, name
        assert row["sha"] == digest, f"{name} changed: update PROVENANCE.md"


def test_the_data_files_are_package_data() -> None:
    """``packages.find`` takes folders without ``__init__.py`` as namespace packages (the default
    in ``pyproject.toml``), so ``surveys/demo/data`` is one, and every pattern applies to it."""
    setuptools = tomllib.loads(
        (Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8")
    )["tool"]["setuptools"]
    assert setuptools["packages"]["find"].get("namespaces", True)
    assert "surveys*" in setuptools["packages"]["find"]["include"]
    assert {"*.csv", "*.md"} <= set(setuptools["package-data"]["*"])
