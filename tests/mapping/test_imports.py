"""Boundary and population imports: the actor's permission is checked, the change audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping import imports, queries
from surveys.audit.models import AuditEvent
from surveys.errors import InvalidInput
from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.registry.models import Population, Region
from tests.mapping.nuts_files import write_nuts_file

SYSTEM = system_actor("system:test")
REGIONS = {"FR10": (2.0, 48.0, 3.0, 49.5), "FR71": (4.0, 45.0, 5.5, 46.5)}


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_boundary_import_stores_regions_and_records_its_event(
    session: Session, tmp_path: Path
) -> None:
    path = write_nuts_file(tmp_path / "nuts2.geojson", REGIONS)
    assert queries.boundary_version(session) == "none"
    loaded = imports.import_boundaries(
        session, SYSTEM, path, level=2, nuts_version="2021", request_id="req-1"
    )
    assert loaded.stored == 2
    codes = session.scalars(select(Region.code).where(Region.level == 2).order_by(Region.code))
    assert list(codes) == ["FR10", "FR71"]
    (event,) = events(session, "geo.import_boundaries")
    assert (event.actor, event.request_id) == ("system:test", "req-1")
    assert event.details["level"] == 2
    assert event.details["count"] == 2
    assert event.details["file"] == "nuts2.geojson"
    assert event.details["nuts2_sha256"] == loaded.nuts2_sha256
    assert queries.boundary_version(session) == f"nuts2:{loaded.nuts2_sha256}"


def test_the_same_count_of_other_shapes_is_another_version(
    session: Session, tmp_path: Path
) -> None:
    first = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "a.geojson", REGIONS),
        level=2,
        nuts_version="2021",
    )
    moved = {code: (w + 0.5, s, e + 0.5, n) for code, (w, s, e, n) in REGIONS.items()}
    second = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "b.geojson", moved),
        level=2,
        nuts_version="2021",
    )
    assert first.stored == second.stored
    assert first.nuts2_sha256 != second.nuts2_sha256
    again = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "c.geojson", REGIONS),
        level=2,
        nuts_version="2021",
    )
    assert again.nuts2_sha256 == first.nuts2_sha256  # the same layer: the same version


def test_a_file_without_the_level_is_refused(session: Session, tmp_path: Path) -> None:
    path = write_nuts_file(tmp_path / "nuts0.geojson", {"FR": (0, 42, 8, 51)}, level=0)
    with pytest.raises(InvalidInput, match="no NUTS level 2"):
        imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
    assert events(session, "geo.import_boundaries") == []


def test_population_import_stores_figures_and_records_its_event(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(
        "area_code,year,value,source\nFR10,2024,12300000,Eurostat demo_r_pjangrp3\n",
        encoding="utf-8",
    )
    assert imports.import_population(session, SYSTEM, path, request_id="req-2") == 1
    record = session.scalar(select(Population).where(Population.area_code == "FR10"))
    assert record is not None
    assert (record.area_level, record.value) == ("nuts2", 12_300_000)
    (event,) = events(session, "geo.import_population")
    assert event.details == {"levels": ["nuts2"], "count": 1, "file": "pop.csv"}
    assert event.request_id == "req-2"

    bad = tmp_path / "bad.csv"
    bad.write_text("code,value\nFR,1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing column"):
        imports.import_population(session, SYSTEM, bad)


@pytest.mark.parametrize("role", ["domain_lead", "researcher"])
def test_only_registry_writers_may_import(session: Session, tmp_path: Path, role: str) -> None:
    actor = staff_actor(user_id=7, role=role, domains=["nuclear_medicine"])
    path = write_nuts_file(tmp_path / "nuts2.geojson", REGIONS)
    with pytest.raises(PermissionDenied):
        imports.import_boundaries(session, actor, path, level=2, nuts_version="2021")
    population = tmp_path / "pop.csv"
    population.write_text("area_code,year,value,source\nFR,2024,1,x\n", encoding="utf-8")
    with pytest.raises(PermissionDenied):
        imports.import_population(session, actor, population)
    assert session.scalar(select(Region.id)) is None
