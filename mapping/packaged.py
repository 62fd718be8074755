"""The packaged official reference data, loaded into a fresh database with no import command.

``accessgap db upgrade`` calls :func:`install_reference_data` after migrating: a level of NUTS
boundaries the registry holds none of gets the packaged GISCO NUTS 2021 file (levels 0 and 2),
and the packaged Eurostat population figures that are missing are added. It runs through the
same audited use case as a coordinator's import (:func:`mapping.imports.import_boundaries`) and
records ``geo.import_population`` for the figures it adds. Running it again adds nothing; a
coordinator's own boundaries (another version, activated) and figures are never overwritten.
See ``mapping/data/reference/PROVENANCE.md``.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mapping import official, queries
from mapping.imports import BoundaryImport, import_boundaries
from mapping.queries import POPULATION_IMPORTED
from surveys.audit.service import record
from surveys.policy import Actor, Permission, authorize
from surveys.registry.models import Population

PACKAGED_ACTOR = "system:packaged"
"""The label the CLI gives the actor that loads the packaged data."""
POPULATION_FILE = "eurostat_demo_r_pjangroup_total_2019_2024.csv"


@dataclass(frozen=True)
class ReferenceInstall:
    """What the packaged data added: boundary levels imported and population figures."""

    boundaries: tuple[BoundaryImport, ...]
    figures: int


def install_reference_data(
    session: Session, actor: Actor, *, request_id: str | None = None
) -> ReferenceInstall:
    """Load the packaged NUTS 2021 boundaries (levels 0 and 2) where a level holds none, and
    the packaged Eurostat figures that are missing; audited, idempotent."""
    authorize(actor, Permission.REGISTRY_WRITE)
    held_levels = {version.level for version in queries.boundary_versions(session)}
    loaded = []
    for level in official.PACKAGED_LEVELS:
        if level in held_levels:
            continue
        name = official.boundary_file_name(level)
        with official.reference_file(name) as path:
            loaded.append(
                import_boundaries(
                    session,
                    actor,
                    path,
                    level=level,
                    nuts_version=official.PACKAGED_NUTS_VERSION,
                    request_id=request_id,
                    source=f"packaged: {name}",
                )
            )
    return ReferenceInstall(tuple(loaded), _add_population(session, actor, request_id))


def _add_population(session: Session, actor: Actor, request_id: str | None) -> int:
    held = {
        tuple(row)
        for row in session.execute(select(Population.area_code, Population.year, Population.source))
    }
    rows: list[dict[Hashable, Any]] = official.eurostat_population().to_dict("records")
    missing = [
        {
            "area_code": row["area_code"],
            "area_level": row["area_level"],
            "year": int(row["year"]),
            "value": int(row["value"]),
            "source": row["source"],
            "nuts_version": row["nuts_version"],
        }
        for row in rows
        if (row["area_code"], row["year"], row["source"]) not in held
    ]
    if missing:
        session.execute(insert(Population), missing)
    added = len(missing)
    if added:
        record(
            session,
            actor=actor,
            action=POPULATION_IMPORTED,
            object_type="population",
            details={"levels": ["country", "nuts2"], "count": added, "file": POPULATION_FILE},
            request_id=request_id,
        )
    return added
