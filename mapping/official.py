"""Official reference data shipped with the package: Eurostat population (countries and NUTS-2,
2019-2024), GLOBOCAN 2022 new cancer cases per country, the JRC NUTS 2021 -> 2024
correspondence and the GISCO NUTS 2021 boundaries (levels 0 and 2).

The files are byte copies in ``mapping/data/reference/`` with their provenance, terms and
sha256 beside them (``PROVENANCE.md``). The readers here turn them into the registry's codes
through the one crosswalk (:mod:`surveys.registry.codes`) and say which NUTS version each
regional figure belongs to. :mod:`mapping.packaged` loads them into a fresh database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from surveys.registry.codes import UnknownCode, area, country_code

EUROSTAT_POPULATION_SOURCE = "Eurostat demo_r_pjangroup"
"""The source of the packaged population figures (population on 1 January)."""
GLOBOCAN_SOURCE = "GLOBOCAN 2022 (IARC)"
"""The source of the packaged new cancer cases (all cancers but non-melanoma skin cancer)."""
GLOBOCAN_YEAR = 2022
JRC_CONVERTER = "JRC NUTS converter, 2021 population weights"
"""How regional figures move between NUTS 2021 and NUTS 2024."""
BOUNDARY_ATTRIBUTION = "© EuroGeographics for the administrative boundaries"
"""The attribution GISCO's terms ask for wherever NUTS boundaries are shown."""
PACKAGED_NUTS_VERSION = "2021"
"""The NUTS version of the packaged boundaries."""
PACKAGED_LEVELS = (0, 2)

FILES = {
    "eurostat_demo_r_pjangroup_total_2019_2024.csv": (
        "929b6dfe6d23003aa64847d4949936a0992fbd05386639496a8024eaf6a6ef50"
    ),
    "globocan2022_incidence_allcancers_excl_nmsc_europe.csv": (
        "4d98b3916424281a9a7850505317635b1f278da13e5f0aeb148f986c9dd9491c"
    ),
    "jrc_nutsconverter_n2_cm_v2021_v2024.csv": (
        "41f54289106d53e7fd672be5327de5f2ebfbcc0b89441e737994c168ee549a14"
    ),
    "NUTS_RG_20M_2021_4326_LEVL_0.geojson": (
        "bc44b301c7f8537b35b963b559f803f633d65b2756c9bd47e802f10f8840cff7"
    ),
    "NUTS_RG_20M_2021_4326_LEVL_2.geojson": (
        "09300511ff7b2c1947420cf831bb7ce5a1a2b292aa6b0858df6491511d67e964"
    ),
}
"""Every packaged reference file and its sha256 (as in PROVENANCE.md; checked by the tests)."""

FIGURE_COLUMNS = ["area_code", "area_level", "year", "value", "source", "nuts_version"]
NUTS2016_CODES = frozenset({"HR04", "NO01", "NO03", "NO04", "NO05"})
"""NUTS 2016 codes in the 2019-2020 population rows, in neither NUTS 2021 nor NUTS 2024."""
GLOBOCAN_FRANCE = frozenset({"FRA", "GLP", "MTQ", "REU", "GUF"})
"""Metropolitan France and the overseas departments GLOBOCAN estimates separately; summed into
the registry's France, which holds their centres (Mayotte has no estimate)."""

_DIRECTORY = ("data", "reference")


@contextmanager
def reference_file(name: str) -> Iterator[Path]:
    """A packaged reference file as a path on disk (for readers that need one)."""
    if name not in FILES:
        raise KeyError(f"{name} is not a packaged reference file; see PROVENANCE.md")
    source = resources.files("mapping").joinpath(*_DIRECTORY, name)
    with resources.as_file(source) as path:
        yield path


def boundary_file_name(level: int) -> str:
    """The packaged GISCO file of a NUTS level (0 or 2)."""
    if level not in PACKAGED_LEVELS:
        raise KeyError(f"no packaged NUTS level {level}; the package ships levels 0 and 2")
    return f"NUTS_RG_20M_{PACKAGED_NUTS_VERSION}_4326_LEVL_{level}.geojson"


def eurostat_population() -> pd.DataFrame:
    """Eurostat population on 1 January of the countries and NUTS-2 regions, 2019-2024.

    Country codes are the registry's (``GR``, ``GB``); a regional figure names its NUTS
    version (2024 for the year 2024, 2021 before); the few NUTS 2016 codes of 2019-2020 are
    left out (see PROVENANCE.md).

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code``, ``area_level`` (``country`` or ``nuts2``), ``year``, ``value``,
        ``source`` and ``nuts_version`` (None for countries).

    Examples
    --------
    >>> figures = eurostat_population().set_index(["area_code", "year"])
    >>> int(figures.loc[("DE", 2024), "value"]), figures.loc[("GR", 2024), "area_level"]
    (83456045, 'country')
    >>> figures.loc[("NL35", 2024), "nuts_version"], figures.loc[("NL31", 2023), "nuts_version"]
    ('2024', '2021')
    """
    return _eurostat_population().copy()


def cancer_incidence() -> pd.DataFrame:
    """GLOBOCAN 2022 new cancer cases (all cancers excl. non-melanoma skin) per country.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code`` (the registry's country code), ``year`` (2022), ``value`` (new
        cases) and ``source``, one row per country.

    Examples
    --------
    >>> cases = cancer_incidence().set_index("area_code")["value"]
    >>> int(cases["CZ"]), int(cases["FR"])  # France: metropolitan and four overseas departments
    (61107, 442708)
    """
    return _cancer_incidence().copy()


def nuts_correspondence() -> pd.DataFrame:
    """The JRC NUTS-2 correspondence: ``code_v2021``, ``code_v2024`` and ``pop21``, the 2021
    population the two regions share (the weight used to move figures between versions)."""
    return _nuts_correspondence().copy()


@cache
def _eurostat_population() -> pd.DataFrame:
    raw = _read("eurostat_demo_r_pjangroup_total_2019_2024.csv", {"geo": "str", "level": "int64"})
    raw = raw[~raw["geo"].isin(NUTS2016_CODES)]
    rows = []
    for geo, level, year, value in raw[["geo", "level", "year", "population"]].itertuples(
        index=False
    ):
        named = area(geo, level=int(level))
        rows.append(
            (
                named.code,
                named.level_name,
                int(year),
                int(value),
                EUROSTAT_POPULATION_SOURCE,
                None if named.level == 0 else ("2024" if year == 2024 else "2021"),
            )
        )
    return pd.DataFrame(rows, columns=FIGURE_COLUMNS)


@cache
def _cancer_incidence() -> pd.DataFrame:
    raw = _read("globocan2022_incidence_allcancers_excl_nmsc_europe.csv", {"Alpha-3 code": "str"})
    raw = raw[(raw["Cancer code"] == 40) & (raw["Sex"] == 0)]
    totals: dict[str, int] = {}
    for alpha3, number in raw[["Alpha-3 code", "Number"]].itertuples(index=False):
        code = "FR" if alpha3 in GLOBOCAN_FRANCE else _country_or_none(alpha3)
        if code is not None:
            totals[code] = totals.get(code, 0) + int(number)
    return pd.DataFrame(
        [(code, GLOBOCAN_YEAR, value, GLOBOCAN_SOURCE) for code, value in sorted(totals.items())],
        columns=["area_code", "year", "value", "source"],
    )


@cache
def _nuts_correspondence() -> pd.DataFrame:
    raw = _read("jrc_nutsconverter_n2_cm_v2021_v2024.csv", {"code_v2021": "str"})
    return raw[["code_v2021", "code_v2024", "pop21"]].reset_index(drop=True)


def _country_or_none(code: str) -> str | None:
    try:
        return country_code(code)
    except UnknownCode:
        return None


def _read(name: str, dtypes: dict[str, str]) -> pd.DataFrame:
    with reference_file(name) as path:
        # Only empty cells are missing: Namibia's "NA" is no concern here, but stay explicit.
        return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
