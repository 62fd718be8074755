from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.registry.models import Centre
from surveys.registry.transfer import COLUMNS, export_csv, import_centre_list, import_centres
from tests.audit_events import events, last_event
from tests.builders import make_centre


def write_table(path: Path, rows: list[list[str]]) -> Path:
    if path.suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for row in rows:
            sheet.append(row)
        workbook.save(path)
        return path
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def count_centres(session: Session) -> int:
    return session.scalar(select(func.count(Centre.id))) or 0


class TestImportCentres:
    def test_creates_centres_from_csv(self, session: Session, tmp_path: Path) -> None:
        before = count_centres(session)
        path = write_table(
            tmp_path / "centres.csv",
            [
                ["name", "country", "city", "latitude", "longitude", "centre_type"],
                ["Hospital A", "DE", "Berlin", "52.52", "13.40", "university_hospital"],
                ["Hospital B", "GRC", "Athens", "37.98", "23.73", ""],
                ["Hospital C", "EL", "Patras", "", "", "general_hospital"],
            ],
        )
        report = import_centres(session, path)
        assert report.errors == []
        assert report.created == 3
        assert count_centres(session) == before + 3

    def test_reads_xlsx_and_semicolon_csv(self, session: Session, tmp_path: Path) -> None:
        xlsx = write_table(
            tmp_path / "c.xlsx", [["Name", "Country"], ["Klinik X", "AT"], ["Klinik Y", "CH"]]
        )
        assert import_centres(session, xlsx).created == 2
        semicolon = tmp_path / "c.csv"
        semicolon.write_text("name;country;city\nKlinik Z;AT;Graz\n", encoding="utf-8")
        assert import_centres(session, semicolon).created == 1

    def test_names_row_and_column_of_every_error_and_writes_nothing(
        self, session: Session, tmp_path: Path
    ) -> None:
        before = count_centres(session)
        path = write_table(
            tmp_path / "bad.csv",
            [
                ["name", "country", "latitude", "longitude"],
                ["Good", "FR", "45", "4"],
                ["", "FR", "45", "4"],
                ["Unknown land", "XX", "", ""],
                ["Far away", "FR", "95", "4"],
                ["Half", "FR", "45", ""],
                ["Words", "FR", "north", "4"],
            ],
        )
        report = import_centres(session, path)
        found = {(p.row, p.column) for p in report.errors}
        assert found == {
            (3, "name"),
            (4, "country"),
            (5, "latitude"),
            (6, "longitude"),
            (7, "latitude"),
        }
        assert any("impossible latitude" in p.message for p in report.errors)
        assert report.created == 0
        assert count_centres(session) == before

    def test_warns_about_probable_duplicates_without_blocking(
        self, session: Session, tmp_path: Path
    ) -> None:
        make_centre(
            session, name="Hôpital Édouard Herriot", country="FR", latitude=45.74, longitude=4.88
        )
        path = write_table(
            tmp_path / "dups.csv",
            [
                ["name", "country", "latitude", "longitude"],
                ["Hopital Edouard Herriot", "FR", "45.741", "4.881"],
                ["Clinique du Parc", "FR", "45.70", "4.80"],
                ["Clinique du parc", "FR", "45.70", "4.80"],
            ],
        )
        report = import_centres(session, path)
        assert report.errors == []
        assert report.created == 3
        warned = {p.row for p in report.warnings}
        assert warned == {2, 4}

    def test_a_missing_required_column_is_one_clear_error(
        self, session: Session, tmp_path: Path
    ) -> None:
        path = write_table(tmp_path / "c.csv", [["title", "nation"], ["A", "FR"]])
        report = import_centres(session, path)
        assert len(report.errors) == 1
        assert "missing column(s) name, country" in report.errors[0].message

    def test_an_unsupported_or_broken_file_is_an_error_not_a_crash(
        self, session: Session, tmp_path: Path
    ) -> None:
        broken = tmp_path / "c.xlsx"
        broken.write_bytes(b"not a zip file")
        assert "not a readable XLSX" in import_centres(session, broken).errors[0].message
        other = tmp_path / "c.txt"
        other.write_text("x")
        assert "unsupported file type" in import_centres(session, other).errors[0].message
        latin1 = tmp_path / "l.csv"
        latin1.write_bytes("name,country\nH\xf4pital,FR\n".encode("latin-1"))
        assert "not UTF-8" in import_centres(session, latin1).errors[0].message


class TestExportRoundTrip:
    def test_export_then_import_updates_the_same_centres(
        self, session: Session, tmp_path: Path
    ) -> None:
        make_centre(session, name='=HYPERLINK("http://x")', country="IT", city="Milano")
        make_centre(session, name="Istituto Tumori", country="IT", city="Milano ☀")
        path = tmp_path / "export.csv"
        path.write_bytes(b"".join(export_csv(session)))
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == list(COLUMNS)
        names = {r[1] for r in rows[1:]}
        assert '\'=HYPERLINK("http://x")' in names
        assert "Istituto Tumori" in names

        before = count_centres(session)
        report = import_centres(session, path)
        assert report.errors == []
        assert report.created == 0
        assert report.updated == before
        assert count_centres(session) == before


class TestImportUseCase:
    def test_a_real_import_is_audited_a_dry_run_is_not(
        self, session: Session, tmp_path: Path
    ) -> None:
        path = tmp_path / "centres.csv"
        path.write_text("name,country,city\nCentre A,FR,Lyon\nCentre B,BE,Gent\n", "utf-8")
        writer = staff_actor(user_id=999_002, role="coordinator")
        checked = import_centre_list(session, writer, path, dry_run=True, request_id=None)
        assert checked.created == 2
        assert events(session, "centre.import") == []
        report = import_centre_list(session, writer, path, request_id="r-1")
        event = last_event(session, "centre.import")
        assert (event.actor, event.object_type, event.details) == (
            "user:999002",
            "centre",
            {"created": report.created, "updated": 0},
        )

    def test_a_refused_file_records_nothing(self, session: Session, tmp_path: Path) -> None:
        path = tmp_path / "bad.csv"
        path.write_text("name,country\n,FR\n", "utf-8")
        report = import_centre_list(session, system_actor(), path, request_id=None)
        assert report.errors
        assert events(session, "centre.import") == []

    def test_an_actor_without_registry_write_is_refused(
        self, session: Session, tmp_path: Path
    ) -> None:
        path = tmp_path / "centres.csv"
        path.write_text("name,country\nCentre A,FR\n", "utf-8")
        researcher = staff_actor(user_id=999_003, role="researcher")
        with pytest.raises(PermissionDenied):
            import_centre_list(session, researcher, path, request_id=None)
