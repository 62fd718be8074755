"""Official statistics beside the survey: a series is checked whole (row-numbered problems) and
imported audited; the survey's figure stands beside the official one of the closest year, with
the capture ratio and large disagreements flagged."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapping import official_statistics
from mapping.demo_reference import DIRAC_INDICATOR, dirac_series_csv
from mapping.official_statistics import REFERENCE_IMPORTED, ReferenceFileRefused
from surveys.audit.models import AuditEvent
from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.registry.models import ReferenceFigure
from tests.mapping.test_service import populate

SYSTEM = system_actor("system:test")
HEADER = "area_code,year,indicator,value,source,flag\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "series.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def figures(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReferenceFigure)) or 0


def test_a_file_with_problems_is_refused_whole_with_its_rows(
    session: Session, tmp_path: Path
) -> None:
    populate(session)
    path = write(
        tmp_path,
        "FRA,2024,pet_per_m,10,Registry,\n"  # fine, but the file has problems elsewhere
        "ZZ,2024,pet_per_m,3,Registry,\n"
        "DE,20x4,pet_per_m,3,Registry,\n"
        "DE,2024,no_such,3,Registry,\n"
        "MT,2024,pet_per_m,-1,Registry,\n"
        "FR,2024,pet_per_m,11,Registry,\n",
    )
    with pytest.raises(ReferenceFileRefused) as refused:
        official_statistics.import_reference(session, SYSTEM, path)
    found = {(p.row, p.column) for p in refused.value.problems}
    assert found == {
        (3, "area_code"),
        (4, "year"),
        (5, "indicator"),
        (6, "value"),
        (7, "area_code"),
    }
    by_row = {p.row: p.message for p in refused.value.problems}
    assert "no questionnaire declares the indicator 'no_such'" in by_row[5]
    assert "also in row 2" in by_row[7]
    assert figures(session) == 0
    assert not session.scalars(
        select(AuditEvent).where(AuditEvent.action == REFERENCE_IMPORTED)
    ).all()


def test_a_missing_column_names_the_header_it_needs(session: Session, tmp_path: Path) -> None:
    with pytest.raises(ReferenceFileRefused) as refused:
        official_statistics.import_reference(
            session, SYSTEM, write(tmp_path, "FR,2024,1,x\n", "area_code,year,value,source\n")
        )
    (problem,) = refused.value.problems
    assert problem.row == 1
    assert "missing column(s) indicator" in problem.message


def test_import_goes_through_the_crosswalk_is_audited_and_replaces(
    session: Session, tmp_path: Path
) -> None:
    populate(session)
    path = write(tmp_path, "FRA,2024,pet_per_m,10,Registry,e\nEL,2024,pet_per_m,5,Registry,\n")
    loaded = official_statistics.import_reference(session, SYSTEM, path, request_id="r1")
    assert (loaded.created, loaded.updated) == (2, 0)
    stored = {f.area_code: f for f in session.scalars(select(ReferenceFigure))}
    assert set(stored) == {"FR", "GR"}
    assert stored["FR"].flag == "e"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == REFERENCE_IMPORTED)).one()
    assert event.details["count"] == 2
    assert event.actor == "system:test"
    again = official_statistics.import_reference(
        session, SYSTEM, write(tmp_path, "FR,2024,pet_per_m,12,Registry,\n")
    )
    assert (again.created, again.updated) == (0, 1)
    session.expire_all()
    assert (
        session.scalars(
            select(ReferenceFigure.value).where(ReferenceFigure.area_code == "FR")
        ).one()
        == 12
    )


def test_only_registry_writers_import(session: Session, tmp_path: Path) -> None:
    lead = staff_actor(user_id=1, role="domain_lead", domains=["nuclear_medicine"])
    with pytest.raises(PermissionDenied):
        official_statistics.import_reference(session, lead, write(tmp_path, ""))


def test_the_survey_beside_the_official_figure_of_the_closest_year(
    session: Session, tmp_path: Path
) -> None:
    campaign = populate(session)
    official_statistics.import_reference(
        session,
        SYSTEM,
        write(
            tmp_path,
            "FR,2016,pet_per_m,40,Old registry,\n"
            "FR,2025,pet_per_m,10,Registry,p\n"
            "DE,2025,pet_per_m,20,Registry,\n"
            "CH,2025,pet_per_m,50,Registry,\n",
        ),
    )
    result = official_statistics.survey_vs_official(session, SYSTEM, campaign.slug, "pet_per_m")
    rows = result.rows.set_index("area_code")
    # France: 7 units counted by the survey, 10 in the official figure of the closest year.
    assert rows.loc["FR", "survey"] == 7
    assert rows.loc["FR", "official_year"] == 2025
    assert rows.loc["FR", "official_flag"] == "p"
    assert rows.loc["FR", "capture_ratio"] == pytest.approx(0.7)
    assert not rows.loc["FR", "disagreement"]
    # Germany: 4 of 20, and only 1 of 4 centres answered; the note says so.
    assert rows.loc["DE", "capture_ratio"] == pytest.approx(0.2)
    assert rows.loc["DE", "disagreement"]
    assert "Only 1 of 4 expected centres answered" in rows.loc["DE", "note"]
    # Switzerland: 90 against 50, more than the official figure.
    assert rows.loc["CH", "disagreement"]
    assert "finds more" in rows.loc["CH", "note"]
    assert "MT" not in rows.index  # no official figure
    assert list(result.rows["area_code"]) == ["DE", "CH", "FR"]  # largest disagreements first
    assert set(result.flagged["area_code"]) == {"DE", "CH"}
    assert result.terms.startswith("count")
    header, *table = result.table_rows()
    assert header[:4] == ["area_code", "area_name", "survey", "official"]
    assert len(table) == 3


def test_a_value_indicator_compares_values(session: Session, tmp_path: Path) -> None:
    campaign = populate(session)
    official_statistics.import_reference(
        session, SYSTEM, write(tmp_path, "FR,2025,pet_wait,6,Registry,\n")
    )
    result = official_statistics.survey_vs_official(session, SYSTEM, campaign.slug, "pet_wait")
    (row,) = result.rows.to_dict("records")
    assert row["survey"] == 6.0  # the median of 3 and 9 weeks
    assert row["capture_ratio"] == 1.0
    assert result.terms == "value"


def test_the_dirac_demo_series_reads_as_an_import_file() -> None:
    lines = dirac_series_csv().splitlines()
    assert len(lines) == 41  # 40 countries and the header
    germany = next(line for line in lines if line.startswith("DE,"))
    assert f",{DIRAC_INDICATOR},723," in germany
    assert "demo comparison series" in germany
    assert all(not math.isnan(float(line.split(",")[3])) for line in lines[1:])
