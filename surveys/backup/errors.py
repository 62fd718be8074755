"""What goes wrong with a backup or a restore, each with a stable code."""

from __future__ import annotations

from surveys.errors import DomainError, ErrorKind


class BackupError(DomainError):
    code = "backup.failed"
    kind = ErrorKind.INVALID
    title = "Backup or restore failed"


class BackupUnreadable(BackupError):
    """Wrong passphrase, damaged or truncated file, or not a backup at all."""

    code = "backup.unreadable"


class RestoreTargetNotEmpty(BackupError):
    code = "backup.target_not_empty"
    kind = ErrorKind.CONFLICT


class RestoreMismatch(BackupError):
    """The restored database does not hold what the manifest says the snapshot held."""

    code = "backup.verification_failed"


class BackupToolMissing(BackupError):
    code = "backup.tool_missing"
    kind = ErrorKind.UNAVAILABLE
