"""Loading official reference data into the registry: NUTS boundaries and population figures.

Both are state-changing use cases: they take the actor and the request id, check that the actor
may write the registry, change the data (flushed, never committed) and record their own audit
event in the same transaction (``geo.import_boundaries``, ``geo.import_population``), so no
adapter can import without leaving a trace.

Boundaries carry their NUTS version; one version per level is active
(:mod:`mapping.versions`). The first version of a level becomes active; another version is
stored beside it and becomes active only when asked (``activate=True``). The boundary event
carries the hash of the active NUTS-2 layer as the import left it: the boundaries' data version
(:func:`mapping.queries.boundary_version`). A population file is checked whole first
(:mod:`mapping.population_file`) and written only when no row has a problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry import mapping as shape_to_geojson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapping import official, populations, queries
from mapping.boundary_files import read_nuts_file
from mapping.population_file import KnownAreas, check_population_file
from mapping.queries import BOUNDARIES_IMPORTED, POPULATION_IMPORTED
from mapping.versions import Placement, nuts2_sha256, place_in_active_regions, set_active
from surveys.audit.service import record
from surveys.db import utcnow
from surveys.errors import InvalidInput, RowProblem
from surveys.policy import Actor, Permission, authorize
from surveys.registry.models import BoundaryVersion, Country, Population, Region

NUTS_VERSION = re.compile(r"20[0-9]{2}")
_VERSION_IN_NAME = re.compile(r"NUTS_[A-Z]{2}_[0-9]{2}M_(20[0-9]{2})_", re.IGNORECASE)


@dataclass(frozen=True)
class BoundaryImport:
    """What a boundary import did: regions stored (and regions of countries the registry does
    not hold, left out), whether its version is the active one of its level, where the centres
    landed (level 2, active version) and the hash of the active NUTS-2 layer it left."""

    level: int
    nuts_version: str
    stored: int
    skipped: tuple[str, ...]
    active: bool
    active_version: str
    placement: Placement | None
    nuts2_sha256: str


class PopulationFileRefused(InvalidInput):
    """A population file with problems; nothing was written. ``problems`` lists them by row."""

    code = "population_file_refused"

    def __init__(self, detail: str, problems: list[RowProblem]) -> None:
        super().__init__(detail)
        self.problems = problems


@dataclass(frozen=True)
class PopulationImport:
    """What a population import did: figures written (new and replaced), areas updated per
    level, and per level how many areas have an official figure and which still rest on
    stand-ins."""

    created: int
    updated: int
    areas_by_level: dict[str, int]
    coverage: list[populations.Coverage] = field(default_factory=list)


def nuts_version_in_name(name: str) -> str | None:
    """The NUTS version a GISCO file name states (``NUTS_RG_20M_2024_4326_LEVL_2.geojson``).

    Examples
    --------
    >>> nuts_version_in_name("NUTS_RG_20M_2024_4326_LEVL_2.shp.zip"), nuts_version_in_name("x")
    ('2024', None)
    """
    found = _VERSION_IN_NAME.search(name)
    return found.group(1) if found else None


def import_boundaries(
    session: Session,
    actor: Actor,
    path: Path,
    *,
    level: int,
    nuts_version: str,
    activate: bool = False,
    request_id: str | None = None,
    source: str | None = None,
) -> BoundaryImport:
    """Load the NUTS regions of one level and version from a GISCO file (GeoJSON, shapefile,
    zipped shapefile or GeoPackage), and audit it.

    The version becomes the level's active one when the level has none yet, when it is the
    active one already (a re-import), or when ``activate`` is given; otherwise the active
    version stays and this one is stored beside it. When the active NUTS-2 version changes,
    every centre is placed in its regions (inside, else by proximity, else unplaced).
    """
    authorize(actor, Permission.REGISTRY_WRITE)
    if not NUTS_VERSION.fullmatch(nuts_version):
        raise InvalidInput(f"{nuts_version!r} is not a NUTS version; use its year, e.g. 2024.")
    regions = read_nuts_file(path, level=level)
    regions = regions[regions["level"] == level]
    if regions.empty:
        raise InvalidInput(f"{path.name} holds no NUTS level {level} region; check --level.")
    countries = {c.iso2: c.id for c in session.scalars(select(Country))}
    existing = {
        r.code: r
        for r in session.scalars(
            select(Region).where(Region.nuts_version == nuts_version, Region.level == level)
        )
    }
    stored = 0
    skipped: list[str] = []
    for row in regions.itertuples(index=False):
        country_id = countries.get(row.country_code)
        if country_id is None:
            skipped.append(row.nuts_id)
            continue
        region = existing.get(row.nuts_id) or Region(
            code=row.nuts_id, nuts_version=nuts_version, level=level, country_id=country_id
        )
        region.name = row.name
        region.geometry_geojson = json.dumps(shape_to_geojson(row.geometry))
        session.add(region)
        stored += 1
    session.flush()
    previous = queries.active_version(session, level)
    _record_version(session, level, nuts_version, source or path.name)
    becomes_active = previous is None or previous == nuts_version or activate
    if becomes_active:
        set_active(session, level, nuts_version)
    placement = place_in_active_regions(session) if level == 2 and becomes_active else None
    result = BoundaryImport(
        level=level,
        nuts_version=nuts_version,
        stored=stored,
        skipped=tuple(skipped),
        active=becomes_active,
        active_version=nuts_version if becomes_active else str(previous),
        placement=placement,
        nuts2_sha256=nuts2_sha256(session),
    )
    record(
        session,
        actor=actor,
        action=BOUNDARIES_IMPORTED,
        object_type="region",
        object_id=f"NUTS{level}/{nuts_version}",
        details={
            "level": level,
            "nuts_version": nuts_version,
            "count": stored,
            "skipped": len(skipped),
            "active": becomes_active,
            "active_version": result.active_version,
            **(placement.details() if placement else {}),
            "file": path.name,
            "nuts2_sha256": result.nuts2_sha256,
        },
        request_id=request_id,
    )
    return result


def _record_version(session: Session, level: int, nuts_version: str, source: str) -> None:
    held = session.scalar(
        select(BoundaryVersion).where(
            BoundaryVersion.level == level, BoundaryVersion.nuts_version == nuts_version
        )
    )
    if held is None:
        held = BoundaryVersion(level=level, nuts_version=nuts_version, active=False)
        session.add(held)
    held.regions = (
        session.scalar(
            select(func.count(Region.id)).where(
                Region.level == level, Region.nuts_version == nuts_version
            )
        )
        or 0
    )
    held.source = source[:300]
    held.imported_at = utcnow()
    session.flush()


def known_areas(session: Session) -> KnownAreas:
    """The countries and NUTS codes the registry knows: regions of every version held, and the
    NUTS-2 codes of both sides of the packaged 2021 -> 2024 correspondence."""
    nuts: dict[str, set[str]] = {
        code: set(versions) for code, versions in queries.known_region_codes(session).items()
    }
    correspondence = official.nuts_correspondence()
    for column, version in (("code_v2021", "2021"), ("code_v2024", "2024")):
        for code in correspondence[column]:
            nuts.setdefault(str(code), set()).add(version)
    active = {
        version.level: version.nuts_version
        for version in queries.boundary_versions(session)
        if version.active
    }
    return KnownAreas(
        countries=frozenset(code for code, _ in queries.countries(session)),
        nuts={code: frozenset(versions) for code, versions in nuts.items()},
        active=active,
    )


def import_population(
    session: Session, actor: Actor, path: Path, *, request_id: str | None = None
) -> PopulationImport:
    """Load population figures from a CSV (area_code, year, value, source; optionally level and
    nuts_version), all rows or none, and audit it.

    Raises
    ------
    PopulationFileRefused
        When any row has a problem (its ``problems`` name each by row and column); nothing is
        written and nothing recorded.
    """
    authorize(actor, Permission.REGISTRY_WRITE)
    checked = check_population_file(path, known_areas(session))
    if checked.problems:
        raise PopulationFileRefused(
            f"{path.name}: {len(checked.problems)} problem(s); nothing was imported.",
            checked.problems,
        )
    stored = {(p.area_code, p.year, p.source): p for p in session.scalars(select(Population))}
    created = updated = 0
    areas: dict[str, set[str]] = {}
    for figure in checked.figures:
        row = stored.get((figure.area_code, figure.year, figure.source))
        if row is None:
            row = Population(area_code=figure.area_code, year=figure.year, source=figure.source)
            session.add(row)
            created += 1
        else:
            updated += 1
        row.area_level = figure.area_level
        row.value = figure.value
        row.nuts_version = figure.nuts_version
        areas.setdefault(figure.area_level, set()).add(figure.area_code)
    session.flush()
    result = PopulationImport(
        created=created,
        updated=updated,
        areas_by_level={level: len(codes) for level, codes in sorted(areas.items())},
        coverage=populations.coverage(session),
    )
    record(
        session,
        actor=actor,
        action=POPULATION_IMPORTED,
        object_type="population",
        details={
            "levels": sorted(areas),
            "count": created + updated,
            "areas": result.areas_by_level,
            "standins": {c.level: len(c.standins) for c in result.coverage},
            "file": path.name,
        },
        request_id=request_id,
    )
    return result
