"""Encrypted, self-checking backups of the whole database, and their restore.

A backup freezes one consistent snapshot while the app keeps writing (:mod:`.sqlite`: the
online backup API; :mod:`.postgresql`: ``pg_dump -Fc`` of an exported snapshot). Its manifest
gives every table's row count and the SHA-256 of its canonical rows (:mod:`.canonical`), so a
restore can prove it brought back exactly what the snapshot held. The file is encrypted with a
passphrase (:mod:`.container`). A restore decrypts and checks everything in a private temporary
folder before it touches the target, which must be empty: a wrong passphrase or a damaged file
leaves the target as it was (:mod:`.service`).
"""

from surveys.backup.canonical import (
    canonical_line,
    canonical_value,
    reflect,
    table_digests,
    table_rows,
)
from surveys.backup.container import KdfParameters, open_backup, read_manifest, seal_backup
from surveys.backup.errors import (
    BackupError,
    BackupToolMissing,
    BackupUnreadable,
    RestoreMismatch,
    RestoreTargetNotEmpty,
)
from surveys.backup.schemas import BackupManifest, TableDigest
from surveys.backup.service import create_backup, restore_backup

__all__ = [
    "BackupError",
    "BackupManifest",
    "BackupToolMissing",
    "BackupUnreadable",
    "KdfParameters",
    "RestoreMismatch",
    "RestoreTargetNotEmpty",
    "TableDigest",
    "canonical_line",
    "canonical_value",
    "create_backup",
    "open_backup",
    "read_manifest",
    "reflect",
    "restore_backup",
    "seal_backup",
    "table_digests",
    "table_rows",
]
