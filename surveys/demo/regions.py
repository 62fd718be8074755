"""The demo's regions: where people live, so that synthetic centres sit where the population is.

Centres were first drawn near each country's forty largest cities, which put a country's
capacity into its capital and port cities: the NUTS-2 maps of the demo then showed Hamburg
with 88 megavoltage units per million inhabitants (the median region 8.4). Real departments
follow the population they serve, region by region. When the registry holds the active NUTS-2
regions and their Eurostat populations (the packaged data after ``accessgap db upgrade``), the
demo shares each country's centres over its regions in proportion to population, places each
centre near a city inside its region (the region's own point when no city of 15,000 people
lies in it), and the capacity plan gives each answering centre its region's population to
serve (:mod:`surveys.demo.capacity`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shapely import prepared
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.registry.models import BoundaryVersion, Country, Population, Region


@dataclass(frozen=True)
class DemoRegion:
    """An active NUTS-2 region with its latest population and a point inside it."""

    code: str
    name: str
    iso2: str
    population: int
    geometry: BaseGeometry

    def contains(self, latitude: float, longitude: float) -> bool:
        return bool(self.geometry.contains(Point(longitude, latitude)))

    @property
    def inner_point(self) -> tuple[float, float]:
        """(latitude, longitude) of a point certainly inside the region."""
        point = self.geometry.representative_point()
        return point.y, point.x


def active_nuts2_regions(session: Session) -> dict[str, list[DemoRegion]]:
    """The active NUTS-2 regions with a population figure, by country code; empty when the
    registry holds none (the demo then places centres by city size alone)."""
    version = session.scalar(
        select(BoundaryVersion.nuts_version).where(
            BoundaryVersion.level == 2, BoundaryVersion.active.is_(True)
        )
    )
    if version is None:
        return {}
    latest = _latest_populations(session)
    by_country: dict[str, list[DemoRegion]] = {}
    rows = session.execute(
        select(Region.code, Region.name, Country.iso2, Region.geometry_geojson)
        .join(Country, Country.id == Region.country_id)
        .where(Region.level == 2, Region.nuts_version == version)
        .order_by(Region.code)
    )
    for code, name, iso2, geojson in rows:
        if not geojson or code not in latest or latest[code][1] <= 0:
            continue
        geometry = shape(json.loads(geojson))
        by_country.setdefault(iso2, []).append(
            DemoRegion(code, name, iso2, latest[code][1], geometry)
        )
    return by_country


def share_by_population(total: int, regions: Sequence[DemoRegion]) -> dict[str, int]:
    """``total`` centres over ``regions`` in proportion to population (largest remainders), so
    a region too small for one centre's share gets none.

    >>> from shapely.geometry import Point
    >>> r = [DemoRegion(c, c, "XX", p, Point(0, 0)) for c, p in [("A", 6), ("B", 3), ("C", 1)]]
    >>> share_by_population(4, r)
    {'A': 2, 'B': 1, 'C': 1}
    >>> share_by_population(2, r)
    {'A': 1, 'B': 1, 'C': 0}
    """
    people = sum(r.population for r in regions)
    exact = {r.code: total * r.population / people for r in regions}
    counts = {code: math.floor(value) for code, value in exact.items()}
    by_remainder = sorted(exact, key=lambda code: (counts[code] - exact[code], code))
    for code in by_remainder[: total - sum(counts.values())]:
        counts[code] += 1
    return counts


def locate(
    points: Iterable[tuple[float, float]], regions: Sequence[DemoRegion]
) -> list[str | None]:
    """The code of the region each (latitude, longitude) lies in, ``None`` outside them all."""
    tests = [(r.code, prepared.prep(r.geometry)) for r in regions]
    found: list[str | None] = []
    for latitude, longitude in points:
        point = Point(longitude, latitude)
        found.append(next((code for code, test in tests if test.contains(point)), None))
    return found


def region_populations(session: Session) -> dict[int, tuple[int, int]]:
    """(country id, latest population) of every active NUTS-2 region that has a figure, by
    region id."""
    latest = _latest_populations(session)
    regions = session.execute(
        select(Region.id, Region.code, Region.country_id)
        .join(
            BoundaryVersion,
            (BoundaryVersion.level == Region.level)
            & (BoundaryVersion.nuts_version == Region.nuts_version),
        )
        .where(Region.level == 2, BoundaryVersion.active.is_(True))
    )
    return {id_: (country, latest[code][1]) for id_, code, country in regions if code in latest}


def _latest_populations(session: Session) -> dict[str, tuple[int, int]]:
    """(year, value) of the latest NUTS-2 population figure, by NUTS code."""
    latest: dict[str, tuple[int, int]] = {}
    for code, year, value in session.execute(
        select(Population.area_code, Population.year, Population.value).where(
            Population.area_level == "nuts2"
        )
    ):
        if code not in latest or year > latest[code][0]:
            latest[code] = (year, value)
    return latest


def catchments(
    members: Mapping[int, Hashable | None], populations: Mapping[Any, int]
) -> dict[int, float]:
    """Each answering centre's share of its region's population (the people it serves), by
    centre id, relative to the country's mean; 1.0 for a centre in no known region.

    >>> catchments({1: "A", 2: "A", 3: "B"}, {"A": 200, "B": 100})
    {1: 1.0, 2: 1.0, 3: 1.0}
    >>> catchments({1: "A", 2: "B"}, {"A": 300, "B": 100})
    {1: 1.5, 2: 0.5}
    """
    per_region: dict[Hashable, int] = {}
    for code in members.values():
        if code in populations:
            per_region[code] = per_region.get(code, 0) + 1
    served = {
        centre: populations[code] / per_region[code]
        for centre, code in members.items()
        if code in populations
    }
    if not served:
        return dict.fromkeys(members, 1.0)
    mean = sum(served.values()) / len(served)
    return {centre: round(served.get(centre, mean) / mean, 6) for centre in members}


def regional_shares(
    members: Mapping[int, Hashable | None], populations: Mapping[Any, int], people: int
) -> dict[int, float]:
    """Each answering centre's region's share of its country's ``people``, by centre id; 1.0
    for a centre in no known region (no regional limit).

    >>> regional_shares({1: "A", 2: "A", 3: "B", 4: None}, {"A": 300, "B": 100}, 800)
    {1: 0.375, 2: 0.375, 3: 0.125, 4: 1.0}
    """
    return {
        centre: populations[code] / people if code in populations and people else 1.0
        for centre, code in members.items()
    }
