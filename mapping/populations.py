"""The denominators of the maps: each area's population, with its source and year.

Countries take the latest imported figure (``accessgap geo import-population``) and fall back to
the packaged GeoNames figure; NUTS-2 regions need imported boundaries, and until official
figures are imported they take a labelled stand-in: the summed population of the packaged
GeoNames places in the region (an undercount, said so wherever it is shown).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from mapping import layers, queries
from mapping.queries import Level
from mapping.reference import load_cities, load_country_population

AREA_COLUMNS = ["area_code", "area_name", "population", "population_source", "population_year"]
CITY_POPULATION_SOURCE = (
    "approximation: GeoNames places of 15,000+ inhabitants in the region; import official "
    "figures with 'accessgap geo import-population'"
)

_Row = tuple[str, str, int | None, str | None, int | None]


def areas_frame(session: Session, level: Level, codes: set[str] | None = None) -> pd.DataFrame:
    """The areas of a level (of ``codes`` when given) with their population, source and year.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code``, ``area_name``, ``population`` (None when unknown),
        ``population_source`` and ``population_year``: the ``areas`` argument of
        :func:`mapping.indicators.indicator_by_area`.
    """
    imported = queries.imported_populations(session, "country" if level == "country" else "nuts2")
    rows = (
        _country_rows(session, imported, codes)
        if level == "country"
        else _region_rows(session, imported, codes)
    )
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


def city_populations(session: Session) -> dict[str, int]:
    """The summed population of the packaged GeoNames places in each NUTS-2 region."""
    cities = load_cities()
    regions = layers.city_regions(session)
    totals = (
        cities.assign(region=regions.to_numpy())
        .dropna(subset=["region"])
        .groupby("region")["population"]
        .sum()
    )
    return {str(code): int(total) for code, total in totals.items()}


def _country_rows(
    session: Session, imported: dict[str, tuple[int, str, int]], codes: set[str] | None
) -> list[_Row]:
    packaged = load_country_population().set_index("iso2")
    rows: list[_Row] = []
    for code, name in queries.countries(session):
        if codes is not None and code not in codes:
            continue
        value: int | None
        source: str | None
        year: int | None
        if code in imported:
            value, source, year = imported[code]
        elif code in packaged.index:
            record: dict[Any, Any] = packaged.loc[code].to_dict()
            value, source = int(record["population"]), str(record["source"])
            year = None if pd.isna(record["year"]) else int(record["year"])
        else:
            value, source, year = None, None, None
        rows.append((code, name, value, source, year))
    return rows


def _region_rows(
    session: Session, imported: dict[str, tuple[int, str, int]], codes: set[str] | None
) -> list[_Row]:
    regions = queries.nuts2_regions(session)
    approximate = {} if len(imported) >= len(regions) else city_populations(session)
    rows: list[_Row] = []
    for code, name in regions:
        if codes is not None and code not in codes:
            continue
        if code in imported:
            rows.append((code, name, *imported[code]))
        elif code in approximate:
            rows.append((code, name, approximate[code], CITY_POPULATION_SOURCE, None))
        else:
            rows.append((code, name, None, None, None))
    return rows
