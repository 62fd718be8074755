"""Loading official reference data into the registry: NUTS boundaries and population figures.

Both are state-changing use cases: they take the actor and the request id, check that the actor
may write the registry, change the data (flushed, never committed) and record their own audit
event in the same transaction (``geo.import_boundaries``, ``geo.import_population``), so no
adapter can import without leaving a trace. The boundary event carries the hash of the NUTS-2
layer as the import left it: the boundaries' data version
(:func:`mapping.queries.boundary_version`).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from shapely.geometry import mapping as shape_to_geojson
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping import queries
from mapping.boundaries import assign_regions, read_nuts_geojson
from mapping.queries import BOUNDARIES_IMPORTED, POPULATION_IMPORTED
from surveys.audit.service import record
from surveys.errors import InvalidInput
from surveys.policy import Actor, Permission, authorize
from surveys.registry.models import Centre, Country, Population, Region

NUTS_LEVEL_NAMES = {0: "nuts0", 1: "nuts1", 2: "nuts2", 3: "nuts3"}


@dataclass(frozen=True)
class BoundaryImport:
    """What a boundary import did: regions stored, centres given a region, and the hash of the
    NUTS-2 layer it left (the boundaries' new data version)."""

    stored: int
    centres_assigned: int
    nuts2_sha256: str


def import_boundaries(
    session: Session,
    actor: Actor,
    path: Path,
    *,
    level: int,
    nuts_version: str,
    request_id: str | None = None,
) -> BoundaryImport:
    """Load the NUTS regions of one level from a GISCO GeoJSON file, and audit it.

    At level 2, every centre with coordinates gets its NUTS-2 region by point-in-polygon.
    """
    authorize(actor, Permission.REGISTRY_WRITE)
    regions = read_nuts_geojson(path)
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
    for row in regions.itertuples(index=False):
        country_id = countries.get(row.country_code)
        if country_id is None:
            continue
        region = existing.get(row.nuts_id) or Region(
            code=row.nuts_id, nuts_version=nuts_version, level=level, country_id=country_id
        )
        region.name = row.name
        region.geometry_geojson = json.dumps(shape_to_geojson(row.geometry))
        session.add(region)
        stored += 1
    session.flush()
    assigned = assign_centre_regions(session, regions, nuts_version) if level == 2 else 0
    result = BoundaryImport(stored, assigned, nuts2_sha256(session))
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
            "centres_assigned": assigned,
            "file": path.name,
            "nuts2_sha256": result.nuts2_sha256,
        },
        request_id=request_id,
    )
    return result


def nuts2_sha256(session: Session) -> str:
    """The SHA-256 of every NUTS-2 region's code, name and geometry, by code: equal hashes, equal
    layers, whatever the number of rows."""
    content = hashlib.sha256()
    for code, text, name in queries.nuts2_shapes(session):
        content.update(f"{code}\t{name}\t{text}\n".encode())
    return content.hexdigest()


def assign_centre_regions(session: Session, regions: gpd.GeoDataFrame, nuts_version: str) -> int:
    """Give each centre with coordinates the NUTS-2 region it lies in; returns how many got one."""
    centres = list(session.scalars(select(Centre).where(Centre.latitude.is_not(None))))
    if not centres:
        return 0
    points = gpd.GeoDataFrame(
        {"id": [c.id for c in centres]},
        geometry=gpd.points_from_xy([c.longitude for c in centres], [c.latitude for c in centres]),
        crs="EPSG:4326",
    )
    found = assign_regions(points, regions.to_crs("EPSG:4326"))
    ids = {
        r.code: r.id
        for r in session.scalars(
            select(Region).where(Region.level == 2, Region.nuts_version == nuts_version)
        )
    }
    assigned = 0
    for centre, code in zip(centres, found, strict=True):
        region_id = ids.get(code) if isinstance(code, str) else None
        if centre.region_id != region_id:
            centre.region_id = region_id
        assigned += region_id is not None
    session.flush()
    return assigned


def import_population(
    session: Session, actor: Actor, path: Path, *, request_id: str | None = None
) -> int:
    """Load population figures from a CSV with columns area_code, year, value, source (and
    optionally level: country or nuts0..nuts3), and audit it. Returns rows stored."""
    authorize(actor, Permission.REGISTRY_WRITE)
    stored = 0
    levels: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"area_code", "year", "value", "source"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(
                f"{path.name}: missing column(s) {', '.join(sorted(missing))}; "
                "the header must be area_code,year,value,source[,level]"
            )
        for number, row in enumerate(reader, start=2):
            try:
                year, value = int(row["year"]), int(float(row["value"]))
            except ValueError as exc:
                raise InvalidInput(
                    f"{path.name}, row {number}: year and value must be numbers"
                ) from exc
            code = row["area_code"].strip().upper()
            level = (
                row.get("level")
                or ("country" if len(code) == 2 else NUTS_LEVEL_NAMES.get(len(code) - 2, "nuts3"))
            ).strip()
            existing = session.scalar(
                select(Population).where(
                    Population.area_code == code,
                    Population.year == year,
                    Population.source == row["source"].strip(),
                )
            )
            figure = existing or Population(area_code=code, year=year, source=row["source"].strip())
            figure.area_level = "country" if level in {"country", "nuts0"} else level
            figure.value = value
            session.add(figure)
            levels.add(figure.area_level)
            stored += 1
    session.flush()
    record(
        session,
        actor=actor,
        action=POPULATION_IMPORTED,
        object_type="population",
        details={"levels": sorted(levels), "count": stored, "file": path.name},
        request_id=request_id,
    )
    return stored
