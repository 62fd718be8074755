"""NUTS versions of the boundaries, one active per level, and the centres placed in the active
NUTS-2 regions.

Eurostat revises NUTS every few years (2016, 2021, 2024) and renumbers some regions; the
registry may hold several versions, but maps, indicators and figures read the active version
of a level only, so no page ever draws two versions on top of each other. Switching versions is
a use case of its own (:func:`activate_version`): it checks the actor may write the registry,
re-places every centre in the newly active NUTS-2 regions, and records
``geo.activate_boundaries`` with the hash of the layer it leaves (the boundaries' data
version, so every cached layer is rebuilt). :func:`place_centres` re-places the centres after
centres were added (the demo, a centre list) and records ``geo.place_centres``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import shape
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from mapping import populations, queries
from mapping.placement import PROXIMITY_KM, place_points
from mapping.queries import BOUNDARIES_ACTIVATED, CENTRES_PLACED
from surveys.audit.service import record
from surveys.errors import InvalidInput
from surveys.policy import Actor, Permission, authorize
from surveys.registry.codes import nuts_country
from surveys.registry.models import BoundaryVersion, Centre, Region


@dataclass(frozen=True)
class UnplacedCentre:
    """A centre with coordinates in no region of its country, nor within reach of one."""

    public_id: str
    name: str
    country: str
    latitude: float
    longitude: float
    nearest_region: str | None
    nearest_km: float | None


@dataclass(frozen=True)
class Placement:
    """Where the centres landed in the active NUTS-2 regions."""

    inside: int
    by_proximity: int
    unplaced: tuple[UnplacedCentre, ...]
    without_coordinates: int
    nuts_version: str | None
    uncovered: dict[str, int] = field(default_factory=dict)
    """Centres of countries the NUTS version has no region for (Ukraine, Georgia…), by
    country: not unplaced, since no region could hold them."""

    @property
    def placed(self) -> int:
        """Centres with a region, inside it or by proximity."""
        return self.inside + self.by_proximity

    def details(self) -> dict[str, object]:
        """The counts for an audit event."""
        return {
            "centres_inside": self.inside,
            "centres_by_proximity": self.by_proximity,
            "centres_unplaced": len(self.unplaced),
            "centres_in_countries_without_regions": sum(self.uncovered.values()),
        }


@dataclass(frozen=True)
class VersionSwitch:
    """A level switched to another NUTS version, and where the centres landed."""

    level: int
    nuts_version: str
    previous: str | None
    placement: Placement | None
    nuts2_sha256: str


@dataclass(frozen=True)
class PlacementReport:
    """For coordinators: the NUTS versions held, the centres placed by proximity and those
    unplaced (with their coordinates), and the areas whose denominators are stand-ins."""

    versions: list[BoundaryVersion]
    active_nuts2: str | None
    by_proximity: list[dict[Hashable, Any]]
    unplaced: list[dict[Hashable, Any]]
    coverage: list[populations.Coverage]


def placement_report(session: Session, actor: Actor) -> PlacementReport:
    """What a coordinator checks after loading boundaries or centres: versions, centres placed
    by proximity or not at all, areas without an official population figure."""
    authorize(actor, Permission.REGISTRY_READ)
    active = queries.active_version(session, 2)
    return PlacementReport(
        versions=queries.boundary_versions(session),
        active_nuts2=active,
        by_proximity=queries.centre_locations(session, "proximity").to_dict("records"),
        unplaced=queries.centre_locations(session, None).to_dict("records") if active else [],
        coverage=populations.coverage(session),
    )


def list_versions(session: Session, actor: Actor) -> list[BoundaryVersion]:
    """Every NUTS version the registry holds, by level, with the active one marked."""
    authorize(actor, Permission.REGISTRY_READ)
    return queries.boundary_versions(session)


def activate_version(
    session: Session, actor: Actor, *, level: int, nuts_version: str, request_id: str | None
) -> VersionSwitch:
    """Make ``nuts_version`` the active version of ``level``: maps, indicators and figures read
    its regions from now on; at level 2 every centre is placed in its regions again."""
    authorize(actor, Permission.REGISTRY_WRITE)
    previous = queries.active_version(session, level)
    held = [v.nuts_version for v in queries.boundary_versions(session) if v.level == level]
    if nuts_version not in held:
        offered = ", ".join(held) or "none"
        raise InvalidInput(
            f"No NUTS {nuts_version} boundaries of level {level} are loaded (loaded: {offered}); "
            "import them first with 'accessgap geo import-boundaries FILE'."
        )
    set_active(session, level, nuts_version)
    placement = place_in_active_regions(session) if level == 2 else None
    digest = nuts2_sha256(session)
    record(
        session,
        actor=actor,
        action=BOUNDARIES_ACTIVATED,
        object_type="region",
        object_id=f"NUTS{level}/{nuts_version}",
        details={
            "level": level,
            "nuts_version": nuts_version,
            "previous": previous,
            **(placement.details() if placement else {}),
            "nuts2_sha256": digest,
        },
        request_id=request_id,
    )
    return VersionSwitch(level, nuts_version, previous, placement, digest)


def place_centres(session: Session, actor: Actor, *, request_id: str | None) -> Placement:
    """Place every centre with coordinates in the active NUTS-2 regions (inside, else the
    nearest of its country within 25 km), and audit it; used after centres were added."""
    authorize(actor, Permission.REGISTRY_WRITE)
    placement = place_in_active_regions(session)
    record(
        session,
        actor=actor,
        action=CENTRES_PLACED,
        object_type="centre",
        details={"nuts_version": placement.nuts_version, **placement.details()},
        request_id=request_id,
    )
    return placement


def nuts2_sha256(session: Session) -> str:
    """The SHA-256 of every active NUTS-2 region's code, name and geometry, by code: equal
    hashes, equal layers, whatever the number of rows (the boundaries' data version)."""
    content = hashlib.sha256()
    for code, text, name in queries.nuts2_shapes(session):
        content.update(f"{code}\t{name}\t{text}\n".encode())
    return content.hexdigest()


def set_active(session: Session, level: int, nuts_version: str) -> None:
    """Mark one version of a level active and the others not (one statement each, the old one
    first: the database allows one active version per level)."""
    session.execute(
        update(BoundaryVersion)
        .where(BoundaryVersion.level == level, BoundaryVersion.nuts_version != nuts_version)
        .values(active=False)
    )
    session.execute(
        update(BoundaryVersion)
        .where(BoundaryVersion.level == level, BoundaryVersion.nuts_version == nuts_version)
        .values(active=True)
    )
    session.flush()


def place_in_active_regions(session: Session) -> Placement:
    """Give each centre its region of the active NUTS-2 version, and say how (unaudited: the
    step of the use cases above and of the boundary import)."""
    version = queries.active_version(session, 2)
    centres = list(session.scalars(select(Centre).options(joinedload(Centre.country))))
    located = [c for c in centres if c.latitude is not None and c.longitude is not None]
    regions = _regions(session, version if located else None)
    if regions.empty or not located:
        for centre in centres:
            _set(centre, None, None, None)
        session.flush()
        return Placement(0, 0, (), len(centres) - len(located), version)
    points = gpd.GeoDataFrame(
        {"country": [c.country.iso2 for c in located]},
        geometry=gpd.points_from_xy([c.longitude for c in located], [c.latitude for c in located]),
        crs="EPSG:4326",
    )
    placed = place_points(points, regions, within_km=PROXIMITY_KM)
    ids = dict(zip(regions["nuts_id"], regions["region_id"], strict=True))
    covered = set(regions["country_code"])
    inside = proximity = 0
    unplaced: list[UnplacedCentre] = []
    uncovered: dict[str, int] = {}
    rows: list[dict[Hashable, Any]] = placed.to_dict("records")
    for centre, row in zip(located, rows, strict=True):
        if not isinstance(row["placement"], str) and centre.country.iso2 not in covered:
            uncovered[centre.country.iso2] = uncovered.get(centre.country.iso2, 0) + 1
            _set(centre, None, None, None)
        elif row["placement"] == "inside":
            inside += 1
            _set(centre, ids[row["region"]], "inside", 0.0)
        elif row["placement"] == "proximity":
            proximity += 1
            _set(centre, ids[row["region"]], "proximity", round(float(row["distance_km"]), 2))
        else:
            _set(centre, None, None, None)
            nearest_km = row["nearest_km"]
            unplaced.append(
                UnplacedCentre(
                    centre.public_id,
                    centre.name,
                    centre.country.iso2,
                    float(centre.latitude or 0.0),
                    float(centre.longitude or 0.0),
                    row["nearest"] if isinstance(row["nearest"], str) else None,
                    None if pd.isna(nearest_km) else round(float(nearest_km), 1),
                )
            )
    for centre in centres:
        if centre.latitude is None or centre.longitude is None:
            _set(centre, None, None, None)
    session.flush()
    return Placement(
        inside,
        proximity,
        tuple(unplaced),
        len(centres) - len(located),
        version,
        dict(sorted(uncovered.items())),
    )


def _regions(session: Session, version: str | None) -> gpd.GeoDataFrame:
    columns = ["region_id", "nuts_id", "country_code"]
    if version is None:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs="EPSG:4326")
    rows = session.execute(
        select(Region.id, Region.code, Region.geometry_geojson)
        .where(Region.level == 2, Region.nuts_version == version)
        .where(Region.geometry_geojson.is_not(None))
        .order_by(Region.code)
    ).all()
    return gpd.GeoDataFrame(
        {
            "region_id": [r[0] for r in rows],
            "nuts_id": [r[1] for r in rows],
            "country_code": [nuts_country(r[1]) for r in rows],
        },
        geometry=[shape(json.loads(str(r[2]))) for r in rows],
        crs="EPSG:4326",
    )


def _set(
    centre: Centre, region_id: int | None, placement: str | None, distance: float | None
) -> None:
    # Only real changes: an unchanged centre keeps its version counter.
    if (centre.region_id, centre.region_placement, centre.region_distance_km) != (
        region_id,
        placement,
        distance,
    ):
        centre.region_id = region_id
        centre.region_placement = placement
        centre.region_distance_km = distance
