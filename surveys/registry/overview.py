"""Figures that summarise the registry for the home page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.registry.models import Centre, Country


@dataclass(frozen=True)
class CountryCount:
    iso2: str
    name: str
    centres: int


@dataclass(frozen=True)
class RegistryOverview:
    countries: int
    centres: int
    synthetic_centres: int
    by_country: list[CountryCount]


def registry_overview(session: Session) -> RegistryOverview:
    """How many countries and centres the registry holds, and how many centres are synthetic."""
    rows = session.execute(
        select(Country.iso2, Country.name, func.count(Centre.id))
        .join(Centre, Centre.country_id == Country.id)
        .where(Centre.active.is_(True))
        .group_by(Country.iso2, Country.name)
        .order_by(func.count(Centre.id).desc(), Country.name)
    ).all()
    synthetic = session.scalar(select(func.count(Centre.id)).where(Centre.is_synthetic.is_(True)))
    return RegistryOverview(
        countries=session.scalar(select(func.count(Country.id))) or 0,
        centres=sum(r[2] for r in rows),
        synthetic_centres=synthetic or 0,
        by_country=[CountryCount(iso2, name, count) for iso2, name, count in rows],
    )
