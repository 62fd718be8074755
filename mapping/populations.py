"""The denominators of the maps: each area's population (and new cancer cases), with its source,
its year and whether it is a stand-in.

Official figures come from the registry's ``population`` table: the packaged Eurostat figures a
fresh database holds (:mod:`mapping.packaged`) and whatever a coordinator imported
(``accessgap geo import-population``). Each area takes the one of the year closest to the
campaign's reference year, in the active NUTS version (:mod:`mapping.denominators`). Only an
area with no official figure of any year takes a stand-in, labelled as such: the GeoNames
population of a country, or the summed GeoNames places of a region (an undercount). New cancer
cases are GLOBOCAN 2022's, per country (:func:`mapping.official.cancer_incidence`); regions
have none.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from mapping import denominators, layers, official, queries
from mapping.queries import Level
from mapping.reference import load_cities, load_country_population
from surveys.policy import Actor, Permission, authorize

AREA_COLUMNS = [
    "area_code",
    "area_name",
    "population",
    "population_source",
    "population_year",
    "population_standin",
    "new_cases",
    "new_cases_source",
    "new_cases_year",
]
CITY_POPULATION_SOURCE = (
    "stand-in: GeoNames places of 15,000+ inhabitants in the region (an undercount); "
    "no official figure"
)
COUNTRY_POPULATION_SOURCE = (
    "stand-in: GeoNames country population (year not stated); no official figure"
)
LATEST = 9999
"""A reference year that picks every area's latest figure."""


def areas_frame(
    session: Session,
    level: Level,
    codes: set[str] | None = None,
    *,
    reference_year: int | None = None,
) -> pd.DataFrame:
    """The areas of a level (of ``codes`` when given) with their denominators.

    Parameters
    ----------
    session
        The database session.
    level : {"country", "nuts2"}
        Countries of the registry, or the NUTS-2 regions of the active version.
    codes : set of str, optional
        Only these areas.
    reference_year : int, optional
        The campaign's reference year; each area takes the official figure of the year closest
        to it. The latest figure of each area when not given.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`AREA_COLUMNS`, the ``areas`` argument of
        :func:`mapping.indicators.indicator_by_area`: ``population`` with its source, year and
        ``population_standin`` (True for a stand-in), and ``new_cases`` (GLOBOCAN, countries
        only) with its source and year; None where there is none.
    """
    year = reference_year if reference_year is not None else LATEST
    if level == "country":
        names = [(c, n) for c, n in queries.countries(session) if codes is None or c in codes]
        chosen = denominators.nearest_year(
            _ordered(queries.population_figures(session, "country")), year
        )
        standins = _country_standins()
        source = COUNTRY_POPULATION_SOURCE
        cases = official.cancer_incidence().set_index("area_code")
    else:
        names = [(c, n) for c, n in queries.nuts2_regions(session) if codes is None or c in codes]
        chosen = denominators.nearest_year(_regional(session, [c for c, _ in names]), year)
        standins = None
        source = CITY_POPULATION_SOURCE
        cases = pd.DataFrame(columns=["year", "value", "source"])
    by_code = chosen.set_index("area_code")
    if standins is None and len(by_code) < len(names):
        standins = city_populations(session)
    figures: dict[Hashable, dict[Hashable, Any]] = by_code.to_dict("index")
    case_figures: dict[Hashable, dict[Hashable, Any]] = cases.to_dict("index")
    rows = []
    for code, name in names:
        population: tuple[int | None, str | None, int | None, bool] = (None, None, None, False)
        if code in figures:
            figure = figures[code]
            population = (int(figure["value"]), str(figure["source"]), int(figure["year"]), False)
        elif standins is not None and code in standins:
            population = (standins[code], source, None, True)
        new_cases: tuple[int | None, str | None, int | None] = (None, None, None)
        if code in case_figures:
            found = case_figures[code]
            new_cases = (int(found["value"]), str(found["source"]), int(found["year"]))
        rows.append((code, name, *population, *new_cases))
    frame = pd.DataFrame(rows, columns=AREA_COLUMNS)
    for column in ("population_year", "new_cases_year"):
        frame[column] = frame[column].astype("Int64")
    return frame


@dataclass(frozen=True)
class Coverage:
    """How many areas of a level have an official denominator, and which rest on stand-ins."""

    level: str
    areas: int
    standins: tuple[str, ...]

    @property
    def official(self) -> int:
        """Areas with an official figure of some year."""
        return self.areas - len(self.standins)


def coverage(session: Session) -> list[Coverage]:
    """For countries and the active NUTS-2 regions: the areas with an official figure of any
    year, and those that still rest on stand-ins."""
    countries = [code for code, _ in queries.countries(session)]
    figures = queries.population_figures(session, "country")
    found = set(figures["area_code"])
    result = [Coverage("country", len(countries), tuple(sorted(set(countries) - found)))]
    regions = [code for code, _ in queries.nuts2_regions(session)]
    if regions:
        found = set(_regional(session, regions)["area_code"])
        result.append(Coverage("nuts2", len(regions), tuple(sorted(set(regions) - found))))
    return result


@dataclass(frozen=True)
class LevelDenominators:
    """The denominators one level's areas take for a reference year."""

    level: str
    reference_year: int | None
    summary: denominators.DenominatorSummary
    frame: pd.DataFrame


def denominators_in_use(
    session: Session, actor: Actor, *, reference_year: int | None = None
) -> list[LevelDenominators]:
    """For countries and the active NUTS-2 regions: which population figure (source, year)
    each area takes for the reference year, and which rest on stand-ins."""
    authorize(actor, Permission.REGISTRY_READ)
    levels: list[Level] = ["country"]
    if queries.has_nuts2_regions(session):
        levels.append("nuts2")
    result = []
    for level in levels:
        frame = areas_frame(session, level, reference_year=reference_year)
        as_indicator = frame.rename(
            columns={
                "population_source": "denominator_source",
                "population_year": "denominator_year",
                "population_standin": "denominator_standin",
            }
        )
        summary = denominators.summarise(as_indicator, level, divided=True)
        result.append(LevelDenominators(level, reference_year, summary, frame))
    return result


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


def _regional(session: Session, codes: list[str]) -> pd.DataFrame:
    """The regional figures of ``codes`` in the active NUTS version (moved when needed)."""
    version = queries.active_version(session, 2)
    figures = queries.population_figures(session, "nuts2")
    if version is None or figures.empty:
        return pd.DataFrame(columns=["area_code", "year", "value", "source", "order"])
    return denominators.in_version(figures, version, codes, official.nuts_correspondence())


def _ordered(figures: pd.DataFrame) -> pd.DataFrame:
    return figures.reset_index(drop=True).assign(order=range(len(figures)))


def _country_standins() -> dict[str, int]:
    packaged = load_country_population()
    return {str(c): int(v) for c, v in zip(packaged["iso2"], packaged["population"], strict=True)}
