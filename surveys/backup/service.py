"""Taking a backup and restoring one: the two use cases, over either database."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from surveys.backup import postgresql, sqlite
from surveys.backup.container import (
    FORMAT_VERSION,
    KdfParameters,
    file_sha256,
    open_backup,
    seal_backup,
)
from surveys.backup.errors import BackupError
from surveys.backup.schemas import Backend, BackupManifest
from surveys.db import utcnow


def backend_of(url: str | URL) -> Backend:
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise BackupError(f"Unsupported database {name!r}: use sqlite:/// or postgresql://.")


def create_backup(
    url: str, out: Path, passphrase: str, *, kdf: KdfParameters | None = None
) -> BackupManifest:
    """Write an encrypted backup of the database at ``url`` to ``out``; return its manifest.

    The snapshot is frozen in a private temporary folder (``TMPDIR``), digested, sealed into
    ``out`` and removed.
    """
    if not passphrase:
        raise BackupError("The passphrase is empty.")
    backend = backend_of(url)
    freeze = sqlite.freeze if backend == "sqlite" else postgresql.freeze
    with tempfile.TemporaryDirectory(prefix="accessgap-backup-") as folder:
        payload = Path(folder) / "payload"
        digests, revision = freeze(url, payload)
        manifest = BackupManifest(
            format_version=FORMAT_VERSION,
            backend=backend,
            created_at=utcnow(),
            revision=revision,
            tables=digests,
            payload_bytes=payload.stat().st_size,
            payload_sha256=file_sha256(payload),
        )
        seal_backup(payload, manifest, out, passphrase, kdf=kdf)
    return manifest


def restore_backup(file: Path, into: str, passphrase: str) -> BackupManifest:
    """Decrypt and check ``file``, then restore it into the empty database ``into`` and prove
    that the result holds the snapshot's rows (same counts, same SHA-256 per table).

    Nothing touches the target before the whole file has decrypted and matched its manifest.
    """
    backend = backend_of(into)
    with tempfile.TemporaryDirectory(prefix="accessgap-restore-") as folder:
        payload = Path(folder) / "payload"
        manifest = open_backup(file, passphrase, payload)
        if manifest.backend != backend:
            raise BackupError(
                f"This is a {manifest.backend} backup; restore it into a {manifest.backend} "
                f"database, not {backend}."
            )
        if backend == "sqlite":
            sqlite.ensure_empty(into)
            sqlite.restore(payload, into, manifest)
        else:
            postgresql.ensure_empty(into)
            postgresql.restore(payload, into, manifest)
    return manifest
