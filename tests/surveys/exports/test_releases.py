"""Dataset releases: frozen, sealed, citable, served unchanged (both databases)."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from frictionless import validate
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from surveys.exports import releases, service
from surveys.exports.errors import NothingToRelease, ReleaseDamaged, UnsupportedExport
from surveys.exports.jobs import ExportJob
from surveys.exports.models import DatasetRelease, DatasetReleaseRecord
from surveys.exports.schemas import ExportFormat, ExportOptions, ReleaseCreate
from surveys.policy import PermissionDenied, staff_actor
from surveys.responses.review import review
from tests.accounts_fixtures import granted_researcher
from tests.audit_events import events, last_event
from tests.surveys.exports.data import ExportWorld, make_world
from tests.surveys.exports.helpers import SECRET, unzip

RESEARCHER = staff_actor(user_id=1, role="researcher")


@pytest.fixture
def world(session: Session) -> ExportWorld:
    return make_world(session, approve=2)


def freeze(session: Session, world: ExportWorld) -> DatasetRelease:
    return releases.create_release(
        session,
        ReleaseCreate(campaign=world.campaign.slug),
        created_by="user:9",
        pseudonym_secret=SECRET,
    )


def download(
    session: Session, factory: sessionmaker[Session], release: DatasetRelease, fmt: str
) -> tuple[ExportJob, dict[str, bytes]]:
    session.flush()
    job = service.prepare_release_download(
        session,
        granted_researcher(session),
        release.id,
        format=ExportFormat(fmt),
        options=ExportOptions(),
    )
    return job, unzip(b"".join(service.stream_export(factory, job)))


class TestCreate:
    def test_freezes_approved_responses_without_identifiers(
        self, session: Session, world: ExportWorld
    ) -> None:
        release = freeze(session, world)
        assert (release.number, release.record_count) == (1, 2)
        assert len(release.content_sha256) == 64
        assert f"accessgap dataset {world.campaign.slug}-v1" in release.citation
        assert release.content_sha256 in release.citation
        records = session.query(DatasetReleaseRecord).filter_by(release_id=release.id).all()
        assert {r.status for r in records} == {"approved"}
        assert all("contact_name" not in r.answers for r in records)
        assert all(len(r.centre) == 16 for r in records)
        read = releases.to_read(release)
        assert read.name == f"{world.campaign.slug}-v1"

    def test_a_later_approval_goes_into_the_next_release_only(
        self, session: Session, world: ExportWorld
    ) -> None:
        first = freeze(session, world)
        review(session, world.responses[2], "approved")
        second = freeze(session, world)
        assert (first.record_count, second.number, second.record_count) == (2, 2, 3)
        listed = releases.list_releases(session, campaign=world.campaign.slug)
        assert [r.number for r in listed[:2]] == [2, 1]

    def test_nothing_approved_is_nothing_to_release(self, session: Session) -> None:
        world = make_world(session, approve=0)
        with pytest.raises(NothingToRelease, match="no approved response"):
            freeze(session, world)


class TestSealed:
    def test_the_database_refuses_changes_to_a_sealed_release(
        self, session: Session, world: ExportWorld
    ) -> None:
        release = freeze(session, world)
        attempts = [
            update(DatasetRelease).where(DatasetRelease.id == release.id).values(title="rewritten"),
            delete(DatasetRelease).where(DatasetRelease.id == release.id),
            update(DatasetReleaseRecord)
            .where(DatasetReleaseRecord.release_id == release.id)
            .values(country="XX"),
            delete(DatasetReleaseRecord).where(DatasetReleaseRecord.release_id == release.id),
        ]
        for statement in attempts:
            with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
                session.execute(statement)
        record = session.query(DatasetReleaseRecord).filter_by(release_id=release.id).first()
        assert record is not None
        with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
            session.execute(
                DatasetReleaseRecord.__table__.insert().values(
                    release_id=release.id,
                    ordinal=99,
                    questionnaire_version_id=record.questionnaire_version_id,
                    response_key="x",
                    centre="y",
                    country="FR",
                    status="approved",
                    answers={},
                    answers_sha256="0" * 64,
                )
            )

    def test_a_damaged_release_is_not_served(self, session: Session, world: ExportWorld) -> None:
        release = freeze(session, world)
        releases.verify_release(session, release)
        # Only a database administrator could do this: the trigger is dropped inside the test's
        # transaction (rolled back afterwards on both databases).
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("DROP TRIGGER dataset_release_record_no_update"))
        else:
            session.execute(
                text("DROP TRIGGER dataset_release_record_immutable ON dataset_release_record")
            )
        session.execute(
            update(DatasetReleaseRecord)
            .where(DatasetReleaseRecord.release_id == release.id, DatasetReleaseRecord.ordinal == 1)
            .values(country="XX")
        )
        with pytest.raises(ReleaseDamaged):
            releases.verify_release(session, release)


class TestDownload:
    def test_same_data_bytes_at_every_download_and_a_valid_package(
        self,
        session: Session,
        session_factory: sessionmaker[Session],
        world: ExportWorld,
        tmp_path: Path,
    ) -> None:
        release = freeze(session, world)
        first_job, first = download(session, session_factory, release, "datapackage")
        review(session, world.responses[2], "approved")  # the live data moves on
        _, second = download(session, session_factory, release, "datapackage")
        for name in ("data/nm_export.csv", "data/nm_export__devices.csv", "codebook.csv"):
            assert first[name] == second[name]
        manifest = json.loads(first["manifest.json"])
        assert manifest["dataset_version"] == f"{world.campaign.slug}-v1"
        assert manifest["release"]["content_sha256"] == release.content_sha256
        assert manifest["responses"] == 2
        assert first_job.manifest is not None
        with zipfile.ZipFile(BytesIO(_zip(first))) as bundle:
            bundle.extractall(tmp_path)
        report = validate(str(tmp_path / "datapackage.json"))
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
        descriptor = json.loads(first["datapackage.json"])
        assert descriptor["title"] == release.citation

    def test_every_format_but_the_centre_map(
        self, session: Session, session_factory: sessionmaker[Session], world: ExportWorld
    ) -> None:
        release = freeze(session, world)
        for fmt in ("csv", "csv-long", "xlsx", "sav", "dta"):
            _, files = download(session, session_factory, release, fmt)
            assert "manifest.json" in files
        with pytest.raises(UnsupportedExport, match="GeoJSON"):
            download(session, session_factory, release, "geojson")


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


class TestFreezeUseCase:
    def test_a_release_is_audited_with_its_count_and_checksum(
        self, session: Session, world: ExportWorld
    ) -> None:
        coordinator = staff_actor(user_id=3, role="coordinator")
        release = releases.freeze_release(
            session,
            coordinator,
            ReleaseCreate(campaign=world.campaign.slug),
            pseudonym_secret=SECRET,
            request_id="r-1",
        )
        assert release.created_by == "user:3"
        event = last_event(session, "release.create")
        assert (event.actor, event.object_type, event.object_id) == (
            "user:3",
            "dataset_release",
            str(release.id),
        )
        assert event.details == {
            "campaign": world.campaign.slug,
            "number": 1,
            "records": 2,
            "sha256": release.content_sha256,
        }

    def test_an_actor_without_campaigns_manage_is_refused(
        self, session: Session, world: ExportWorld
    ) -> None:
        with pytest.raises(PermissionDenied):
            releases.freeze_release(
                session,
                RESEARCHER,
                ReleaseCreate(campaign=world.campaign.slug),
                pseudonym_secret=SECRET,
                request_id=None,
            )
        assert events(session, "release.create") == []
