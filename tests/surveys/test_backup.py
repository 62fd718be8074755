"""Encrypted backups: a round trip, and every way a restore must refuse and leave the target be."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from surveys import backup, migrate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.registry.countries import seed_countries
from surveys.registry.models import Centre, Country
from tests.databases import fresh_postgres_database

PASSPHRASE = "correct horse battery staple"
HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
FAST_KDF = backup.KdfParameters(log2_n=10)


@contextmanager
def empty_database(backend: str, folder: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.sqlite3'}"
        return
    with fresh_postgres_database(f"accessgap_backup_{name}") as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def source(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with countries and a centre whose name needs Unicode."""
    with empty_database(backend, tmp_path_factory.mktemp("source"), "source") as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        with transaction(make_session_factory(engine)) as session:
            seed_countries(session)
            france = session.query(Country).filter_by(iso2="FR").one()
            session.add(Centre(name="Centre Léon Bérard", country_id=france.id, city="Lyon"))
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def sealed(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[bytes, backup.BackupManifest]:
    """One backup of the source per database kind: its bytes and its manifest."""
    file = tmp_path_factory.mktemp("backup") / "accessgap.backup"
    manifest = backup.create_backup(source, file, PASSPHRASE, kdf=FAST_KDF)
    return file.read_bytes(), manifest


@pytest.fixture
def file(sealed: tuple[bytes, backup.BackupManifest], tmp_path: Path) -> Path:
    """A copy of the backup that a test may damage."""
    copy = tmp_path / "accessgap.backup"
    copy.write_bytes(sealed[0])
    return copy


@pytest.fixture
def target(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database that a restore may fill."""
    with empty_database(backend, tmp_path, "target") as url:
        yield url


@pytest.fixture(scope="module")
def untouchable(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database that every refused restore must leave empty (shared: they all do)."""
    with empty_database(backend, tmp_path_factory.mktemp("untouchable"), "target") as url:
        yield url


def digests(url: str) -> dict[str, backup.TableDigest]:
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return backup.table_digests(connection)
    finally:
        engine.dispose()


def is_untouched(url: str) -> bool:
    """The restore target as it was: no file for SQLite, no relation for PostgreSQL."""
    if url.startswith("sqlite"):
        return not Path(url.removeprefix("sqlite:///")).exists()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public'"
                )
            )
    finally:
        engine.dispose()
    return count == 0


class TestRoundTrip:
    def test_restore_brings_back_every_row_the_snapshot_held(
        self, source: str, target: str, tmp_path: Path
    ) -> None:
        file = tmp_path / "accessgap.backup"
        manifest = backup.create_backup(source, file, PASSPHRASE, kdf=FAST_KDF)

        assert manifest.tables == digests(source)
        assert manifest.tables["centre"].rows == 1
        assert manifest.revision == HEAD
        assert not file.with_name(file.name + ".partial").exists()
        assert file.stat().st_mode & 0o077 == 0
        assert "Bérard".encode() not in file.read_bytes()

        restored = backup.restore_backup(file, target, PASSPHRASE)

        assert restored == manifest
        assert digests(target) == manifest.tables

    def test_the_manifest_can_be_read_without_restoring(
        self, file: Path, sealed: tuple[bytes, backup.BackupManifest]
    ) -> None:
        assert backup.read_manifest(file, PASSPHRASE) == sealed[1]


class TestRefusals:
    def test_a_wrong_passphrase_leaves_the_target_untouched(
        self, file: Path, untouchable: str
    ) -> None:
        with pytest.raises(backup.BackupUnreadable, match="Wrong passphrase"):
            backup.restore_backup(file, untouchable, "not the passphrase")
        assert is_untouched(untouchable)

    @pytest.mark.parametrize(
        ("damage", "message"),
        [
            (lambda data: data[:-100], "truncated"),
            (lambda data: data[: len(data) // 2], "truncated|damaged"),
            (lambda data: data + data[-200:], "after its end"),
            (lambda data: data[:2000] + bytes([data[2000] ^ 1]) + data[2001:], "damaged"),
            (lambda data: data[:16] + b"\x02" + data[17:], "format version 2"),
            (lambda data: data[:17] + b"\x08" + data[18:], "passphrase|damaged"),
            (lambda data: data[:17] + b"\x1e" + data[18:], "out of bounds"),
            (lambda data: b"PK\x03\x04" + data[4:], "not an accessgap backup"),
        ],
        ids=[
            "last-chunk-cut",
            "half",
            "appended",
            "bit-flip",
            "version",
            "header",
            "scrypt-memory",
            "not-backup",
        ],
    )
    def test_a_damaged_file_is_refused_before_the_target_is_touched(
        self, file: Path, untouchable: str, damage: object, message: str
    ) -> None:
        assert callable(damage)
        file.write_bytes(damage(file.read_bytes()))
        with pytest.raises(backup.BackupUnreadable, match=message):
            backup.restore_backup(file, untouchable, PASSPHRASE)
        assert is_untouched(untouchable)

    def test_a_database_that_is_not_empty_is_refused(self, file: Path, source: str) -> None:
        before = digests(source)
        with pytest.raises(backup.RestoreTargetNotEmpty, match="not empty"):
            backup.restore_backup(file, source, PASSPHRASE)
        assert digests(source) == before

    def test_a_restore_that_does_not_match_the_manifest_fails(
        self, file: Path, target: str, tmp_path: Path
    ) -> None:
        payload = tmp_path / "payload"
        manifest = backup.open_backup(file, PASSPHRASE, payload)
        forged = manifest.model_copy(
            update={"tables": {**manifest.tables, "centre": backup.TableDigest(rows=2, sha256="0")}}
        )
        backup.seal_backup(payload, forged, file, PASSPHRASE, kdf=FAST_KDF)
        with pytest.raises(backup.RestoreMismatch, match="centre"):
            backup.restore_backup(file, target, PASSPHRASE)
        if target.startswith("sqlite"):
            assert is_untouched(target)  # checked aside, before it took the target's name

    def test_a_backup_of_one_database_kind_is_not_restored_into_the_other(
        self, file: Path, backend: str, tmp_path: Path
    ) -> None:
        other = "postgresql" if backend == "sqlite" else "sqlite"
        with (
            empty_database(other, tmp_path, "other") as url,
            pytest.raises(backup.BackupError, match=f"This is a {backend} backup"),
        ):
            backup.restore_backup(file, url, PASSPHRASE)


def test_canonical_rows_do_not_depend_on_how_the_driver_returns_json() -> None:
    assert backup.canonical_value('{"b": 1,  "a": [1, 2]}') == {"a": [1, 2], "b": 1}
    assert backup.canonical_value("{not json") == "{not json"
    assert backup.canonical_line([{"b": 1, "a": "é"}]) == '[{"a":"é","b":1}]\n'.encode()
