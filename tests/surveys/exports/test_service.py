"""Exports end to end on both databases: each format opened in the tool its users use."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from frictionless import validate
from sqlalchemy.orm import Session, sessionmaker

from surveys import migrate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.exports import service
from surveys.exports.errors import ExportForbidden, UnsupportedExport
from surveys.exports.geojson import CENTRE_PROPERTIES
from surveys.exports.jobs import ExportJob
from surveys.exports.pseudonyms import Pseudonymiser
from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions
from surveys.policy import Actor, staff_actor, system_actor
from surveys.privacy import identifier_catalogue
from surveys.registry.countries import seed_countries
from surveys.responses.review import review, withdraw
from surveys.tabular import FORMULA_TRIGGERS
from tests.accounts_fixtures import granted_researcher
from tests.audit_events import events, last_event
from tests.builders import make_campaign, make_centre
from tests.databases import fresh_postgres_database
from tests.surveys.exports.data import (
    NOW,
    TRICKY_TEXT,
    ExportWorld,
    answers,
    make_world,
    submit_answers,
)
from tests.surveys.exports.helpers import SECRET, run_export, unzip

RESEARCHER = staff_actor(user_id=1, role="researcher")


@pytest.fixture
def world(session: Session) -> ExportWorld:
    return make_world(session)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


class TestCsv:
    def test_wide_tables_open_in_pandas_typed_and_without_drafts(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        _, data = run_export(session, session_factory, "csv")
        files = unzip(data)
        assert list(files) == [
            "nm_export.csv",
            "nm_export__devices.csv",
            "codebook.csv",
            "manifest.json",
        ]
        main = pd.read_csv(io.BytesIO(files["nm_export.csv"]), dtype={"notes": str})
        assert len(main) == 3
        assert main["units"].tolist() == [-3, 1, 2]
        assert str(main["units"].dtype) == "int64"
        assert main["techs/pet"].tolist() == [1, 1, 1]
        assert main["techs/spect"].tolist() == [0, 0, 0]
        assert main["techs"].tolist() == ["pet theranostics"] * 3
        assert main["notes"].tolist() == [TRICKY_TEXT] * 3
        assert all(b"DRAFT-ONLY" not in content for content in files.values())
        devices = read_csv(files["nm_export__devices.csv"])
        assert [(d["row_index"], d["vendor"]) for d in devices[:2]] == [
            ("1", '\'=HYPERLINK("http://x")'),
            ("2", "Acme"),
        ]
        assert {d["response_key"] for d in devices} == set(main["response_key"])

    def test_unicode_is_byte_identical_after_the_round_trip(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        stored = {r.answers["notes"] for r in world.responses}
        for options in ({}, {"bom": True}):
            _, data = run_export(session, session_factory, "csv", options=options)
            main = unzip(data)["nm_export.csv"]
            assert main.startswith(b"\xef\xbb\xbf") == bool(options)
            rows = read_csv(main.removeprefix(b"\xef\xbb\xbf"))
            assert {r["notes"].encode("utf-8") for r in rows} == {s.encode("utf-8") for s in stored}

    def test_labels_in_a_chosen_language(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        _, data = run_export(
            session, session_factory, "csv", options={"values": "labels", "language": "fr"}
        )
        row = read_csv(unzip(data)["nm_export.csv"])[0]
        assert (row["has_pet"], row["techs"]) == ("Oui", "TEP; Théranostique")
        codebook = read_csv(unzip(data)["codebook.csv"])
        units = next(r for r in codebook if r["variable"] == "units")
        assert (units["label_en"], units["label_fr"], units["type"]) == (
            "Units",
            "Unités",
            "integer",
        )
        assert units["relevance"] == "${has_pet} = 'yes'"
        assert units["constraint"] == ". >= -10"
        has_pet = next(r for r in codebook if r["variable"] == "has_pet")
        assert has_pet["choices_fr"] == "yes=Oui | no=Non"

    def test_an_unknown_language_is_refused_before_streaming(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        with pytest.raises(UnsupportedExport, match="'de'"):
            run_export(session, session_factory, "csv", options={"language": "de"})

    def test_long_rows_one_per_answer(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        job, data = run_export(session, session_factory, "csv-long", options={"plain": True})
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        assert list(frame.columns)[:6] == [
            "campaign",
            "centre",
            "country",
            "region",
            "questionnaire",
            "version",
        ]
        first = frame[frame["response_key"] == frame["response_key"].iloc[0]]
        assert first["question"].tolist() == [
            "has_pet",
            "units",
            "share",
            "since",
            "techs",
            "techs",
            "notes",
            "vendor",
            "year",
            "vendor",
        ]
        assert first["label"].tolist()[:1] == ["Yes"]
        assert job.manifest is not None
        assert job.manifest["archive"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert job.manifest["tables"][0]["rows"] == len(frame)

    def test_no_cell_of_any_text_export_starts_a_formula(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        for fmt in ("csv", "csv-long", "datapackage"):
            for name, content in unzip(run_export(session, session_factory, fmt)[1]).items():
                if not name.endswith(".csv"):
                    continue
                for row in csv.reader(io.StringIO(content.decode("utf-8"), newline="")):
                    for cell in row:
                        bad = cell.lstrip(" ").startswith(FORMULA_TRIGGERS)
                        assert not bad or _is_number(cell), (fmt, name, cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


class TestPseudonymisation:
    def test_no_identifier_column_no_centre_name_and_keyed_pseudonyms(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        catalogue = {f.name for f in identifier_catalogue() if f.source == "question"}
        catalogue |= {"contact_name", "centre_name", "name", "email", "phone"}
        expected = {Pseudonymiser(SECRET).centre(c.public_id) for c in world.centres}
        for fmt in ExportFormat:
            files = unzip(run_export(session, session_factory, fmt)[1])
            for name, content in files.items():
                assert b"Secret Hospital" not in content, (fmt, name)
                assert b"Dr Secret" not in content, (fmt, name)
                for centre in world.centres:
                    assert centre.public_id.encode() not in content, (fmt, name)
            if fmt is ExportFormat.CSV:
                header = next(csv.reader(io.StringIO(files["nm_export.csv"].decode())))
                assert not set(header) & catalogue
                main = read_csv(files["nm_export.csv"])
                assert {r["centre"] for r in main} == expected

    def test_pseudonyms_are_stable_and_depend_on_the_secret(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        def centres(secret: str) -> list[str]:
            data = unzip(run_export(session, session_factory, "csv", secret=secret)[1])
            return [r["centre"] for r in read_csv(data["nm_export.csv"])]

        first, second, other = centres(SECRET), centres(SECRET), centres("another-" + "z" * 30)
        assert first == second
        assert set(first).isdisjoint(other)

    def test_identified_exports_keep_everything_for_coordinators(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        _, data = run_export(session, session_factory, "csv", pseudonymised=False)
        main = read_csv(unzip(data)["nm_export.csv"])
        assert {r["centre_name"] for r in main} == {c.name for c in world.centres}
        assert main[0]["contact_name"] == "Dr Secret 0"

    def test_a_researcher_cannot_have_the_identified_export(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        researcher = staff_actor(user_id=1, role="researcher")
        with pytest.raises(ExportForbidden):
            run_export(session, session_factory, "csv", pseudonymised=False, actor=researcher)
        job, _ = run_export(session, session_factory, "csv", actor=researcher)
        assert job.manifest is not None
        assert job.manifest["pseudonymised"] is True


class TestFilters:
    def count(self, session: Session, factory: sessionmaker[Session], **filters: object) -> int:
        job, _ = run_export(session, factory, "csv-long", filters=filters, options={"plain": True})
        assert job.manifest is not None
        return int(job.manifest["responses"])

    def test_each_filter(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        other_centre = make_centre(session, name="Elsewhere", country="FR")
        other = make_campaign(
            session, slug="wave-y", name="Y", centres=[other_centre], versions=[world.version]
        )
        submit_answers(
            session, campaign=other, centre=other_centre, version=world.version, values=answers(5)
        )
        withdraw(session, world.responses[2])
        day = NOW.date()
        assert self.count(session, session_factory) == 3
        assert self.count(session, session_factory, campaign="wave-x") == 2
        assert self.count(session, session_factory, status=["approved"]) == 1
        assert self.count(session, session_factory, country=["de"]) == 1
        assert self.count(session, session_factory, country=["FR", "IT"]) == 2
        assert self.count(session, session_factory, domain="nuclear_medicine") == 3
        assert self.count(session, session_factory, domain="radiomics") == 0
        assert self.count(session, session_factory, questionnaire="nm_export") == 3
        assert self.count(session, session_factory, submitted_to=day) == 2
        assert self.count(session, session_factory, submitted_from=day + dt.timedelta(days=1)) == 1

    def test_dates_out_of_order_are_refused(self) -> None:
        with pytest.raises(ValueError, match="submitted_to"):
            ExportFilter(submitted_from=dt.date(2026, 2, 1), submitted_to=dt.date(2026, 1, 1))


class TestFormats:
    def test_xlsx_opens_in_openpyxl(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        files = unzip(run_export(session, session_factory, "xlsx")[1])
        workbook = openpyxl.load_workbook(io.BytesIO(files["export.xlsx"]), read_only=True)
        assert workbook.sheetnames == ["nm_export", "nm_export__devices", "codebook"]
        rows = list(workbook["nm_export"].iter_rows(values_only=True))
        header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
        assert "contact_name" not in header
        assert first["units"] == -3
        # XML turns a CR LF inside a cell into LF; the CSV formats keep it byte for byte.
        assert first["notes"] == TRICKY_TEXT.replace("\r\n", "\n")
        devices = list(workbook["nm_export__devices"].iter_rows(values_only=True))
        assert devices[1][2] == '\'=HYPERLINK("http://x")'
        workbook.close()
        manifest = json.loads(files["manifest.json"])
        assert [(t["name"], t["rows"], t["sheet"]) for t in manifest["tables"]] == [
            ("nm_export", 3, "nm_export"),
            ("nm_export__devices", 6, "nm_export__devices"),
        ]

    def test_datapackage_passes_frictionless_validate(
        self,
        session: Session,
        session_factory: sessionmaker[Session],
        world: ExportWorld,
        tmp_path: Path,
    ) -> None:
        for options, folder in (({}, "codes"), ({"values": "labels", "language": "fr"}, "fr")):
            data = run_export(session, session_factory, "datapackage", options=options)[1]
            with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                bundle.extractall(tmp_path / folder)
            report = validate(str(tmp_path / folder / "datapackage.json"))
            assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
            descriptor = json.loads((tmp_path / folder / "datapackage.json").read_text())
            names = [r["name"] for r in descriptor["resources"]]
            assert names == ["nm_export", "nm_export__devices", "codebook"]
            devices = descriptor["resources"][1]["schema"]
            assert devices["foreignKeys"][0]["reference"]["resource"] == "nm_export"

    @pytest.mark.parametrize(
        ("kind", "reader"), [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)]
    )
    def test_spss_and_stata_files_keep_their_labels(
        self,
        session: Session,
        session_factory: sessionmaker[Session],
        world: ExportWorld,
        tmp_path: Path,
        kind: str,
        reader: object,
    ) -> None:
        files = unzip(run_export(session, session_factory, kind, options={"language": "fr"})[1])
        path = tmp_path / f"main.{kind}"
        path.write_bytes(files[f"nm_export.{kind}"])
        frame, meta = reader(str(path))  # type: ignore[operator]
        assert meta.column_names_to_labels["has_pet"] == "TEP/TDM ?"
        assert meta.variable_value_labels["has_pet"] == {1: "Oui", 2: "Non"}
        assert meta.variable_value_labels["techs_pet"] == {0: "not selected", 1: "selected"}
        assert frame["units"].tolist() == [-3, 1, 2]
        assert frame["has_pet"].tolist() == [1, 1, 1]
        assert frame["notes"].tolist()[0] == TRICKY_TEXT
        assert "contact_name" not in frame.columns
        assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", c) for c in frame.columns)
        codebook = read_csv(files["codebook.csv"])
        flag = next(r for r in codebook if r["variable"] == "techs/pet")
        assert flag["file_variable"] == "techs_pet"

    def test_centre_geojson_has_allowed_properties_and_coarse_points(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        _, data = run_export(session, session_factory, "geojson", options={"plain": True})
        collection = json.loads(data)
        assert collection["type"] == "FeatureCollection"
        features = collection["features"]
        assert len(features) == 3
        for feature in features:
            assert tuple(feature["properties"]) == CENTRE_PROPERTIES
            lon, lat = feature["geometry"]["coordinates"]
            assert (round(lon, 1), round(lat, 1)) == (lon, lat)
        assert features[0]["properties"]["questionnaires"] == ["nm_export"]
        identified = json.loads(
            run_export(
                session, session_factory, "geojson", options={"plain": True}, pseudonymised=False
            )[1]
        )
        assert identified["features"][0]["properties"]["name"] == "Secret Hospital 0"
        assert identified["features"][0]["geometry"]["coordinates"] == [4.987654, 45.123456]

    def test_plain_delivery_only_for_single_file_formats(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        with pytest.raises(UnsupportedExport, match="zip"):
            run_export(session, session_factory, "csv", options={"plain": True})


class TestManifest:
    def test_manifest_is_last_and_checks_every_file(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        job, data = run_export(session, session_factory, "datapackage")
        files = unzip(data)
        assert list(files)[-1] == "manifest.json"
        manifest = json.loads(files["manifest.json"])
        assert manifest["complete"] is True
        assert manifest["responses"] == 3
        assert manifest["filters"]["status"] == ["approved", "submitted"]
        for entry in manifest["files"]:
            assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
            assert len(files[entry["path"]]) == entry["bytes"]
        rows = {t["name"]: t["rows"] for t in manifest["tables"]}
        assert rows == {"nm_export": 3, "nm_export__devices": 6}
        assert job.manifest is not None
        assert job.manifest["archive"]["sha256"] == hashlib.sha256(data).hexdigest()

    def test_a_cut_download_does_not_open(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        data = run_export(session, session_factory, "csv")[1]
        for cut in (len(data) // 2, len(data) - 30):
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(io.BytesIO(data[:cut]))

    def test_the_dataset_version_follows_the_data(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        def version() -> str:
            manifest = run_export(session, session_factory, "csv-long")[0].manifest
            assert manifest is not None
            return str(manifest["dataset_version"])

        before, again = version(), version()
        review(session, world.responses[1], "approved")
        assert before == again != version()

    def test_a_stream_closed_early_is_not_complete(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        session.flush()
        job = service.prepare_export(
            session,
            staff_actor(user_id=1, role="researcher"),
            format=ExportFormat.CSV,
            filters=ExportFilter(),
            options=ExportOptions(),
            pseudonymised=True,
            pseudonym_secret=SECRET,
        )
        stream = service.stream_export(session_factory, job)
        next(stream)
        stream.close()
        assert job.delivery.complete is False
        assert job.manifest is not None
        assert job.manifest["complete"] is False
        assert job.end_details()["complete"] is False


class TestAuditedUseCases:
    def start(self, session: Session, actor: Actor = RESEARCHER) -> ExportJob:
        session.flush()
        return service.start_export(
            session,
            actor,
            format=ExportFormat.CSV,
            filters=ExportFilter(),
            options=ExportOptions(),
            pseudonymised=True,
            pseudonym_secret=SECRET,
            request_id="r-1",
        )

    def test_an_export_records_its_start_then_what_was_sent(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        job = self.start(session)
        start = last_event(session, "export.start")
        assert (start.actor, start.object_type, start.object_id, start.request_id) == (
            "user:1",
            "export",
            job.id,
            "r-1",
        )
        assert start.details == job.start_details()
        data = b"".join(service.deliver_export(session_factory, RESEARCHER, job, request_id="r-1"))
        end = last_event(session, "export.complete")
        assert (end.actor, end.object_id, end.request_id) == ("user:1", job.id, "r-1")
        assert end.details["sha256"] == hashlib.sha256(data).hexdigest()

    def test_a_delivery_broken_off_is_recorded_as_aborted(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        job = self.start(session)
        stream = service.deliver_export(session_factory, RESEARCHER, job, request_id=None)
        next(stream)
        stream.close()
        assert last_event(session, "export.aborted").object_id == job.id
        assert events(session, "export.complete") == []

    def test_an_export_written_by_the_command_line_names_its_channel(
        self,
        session: Session,
        session_factory: sessionmaker[Session],
        world: ExportWorld,
        tmp_path: Path,
    ) -> None:
        job = self.start(session, system_actor())
        service.write_export(session_factory, system_actor(), job, tmp_path, request_id=None)
        trail = [(e.action, e.actor, e.details["via"]) for e in events(session)[-2:]]
        assert trail == [
            ("export.start", "system:cli", "cli"),
            ("export.complete", "system:cli", "cli"),
        ]

    def test_an_actor_without_export_permission_is_refused_before_any_event(
        self, session: Session, world: ExportWorld
    ) -> None:
        lead = staff_actor(user_id=2, role="domain_lead", domains=["radiomics"])
        with pytest.raises(ExportForbidden):
            self.start(session, lead)
        assert events(session, "export.start") == []


@pytest.fixture(params=["sqlite", "postgresql"])
def committed_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[sessionmaker[Session]]:
    """A factory on a fresh database whose commits are real (the snapshot needs two connections)."""

    def prepare(url: str) -> Iterator[sessionmaker[Session]]:
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            seed_countries(session)
        yield factory
        engine.dispose()

    if request.param == "sqlite":
        yield from prepare(f"sqlite:///{tmp_path / 'snapshot.sqlite3'}")
        return
    with fresh_postgres_database("accessgap_export") as url:
        yield from prepare(url)


def test_every_file_of_an_export_reads_one_snapshot(
    committed_factory: sessionmaker[Session],
) -> None:
    with transaction(committed_factory) as session:
        world = make_world(session)
        campaign_id, version_id = world.campaign.id, world.version.id
        job = service.prepare_export(
            session,
            granted_researcher(session),
            format=ExportFormat.CSV,
            filters=ExportFilter(),
            options=ExportOptions(),
            pseudonymised=True,
            pseudonym_secret=SECRET,
        )
    stream = service.stream_export(committed_factory, job)
    first = next(stream)  # the snapshot is taken; the main table is on its way
    with transaction(committed_factory) as session:  # a writer is not blocked by the export
        from surveys.campaigns.models import Campaign
        from surveys.questionnaires.models import QuestionnaireVersion

        late = make_centre(session, name="Late Hospital", country="PL")
        submit_answers(
            session,
            campaign=session.get_one(Campaign, campaign_id),
            centre=late,
            version=session.get_one(QuestionnaireVersion, version_id),
            values=answers(7),
        )
    data = first + b"".join(stream)
    files = unzip(data)
    manifest = json.loads(files["manifest.json"])
    assert manifest["responses"] == 3
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == {
        "nm_export": 3,
        "nm_export__devices": 6,
    }
    assert len(read_csv(files["nm_export__devices.csv"])) == 6
