"""Errors of the export and release services, each with a stable code."""

from __future__ import annotations

from surveys.errors import Conflict, DomainError, ErrorKind, InvalidInput, NotFound


class ExportForbidden(DomainError):
    code = "export_forbidden"
    kind = ErrorKind.FORBIDDEN
    title = "Not allowed"


class ExportNotFound(NotFound):
    code = "export_not_found"


class ReleaseNotFound(NotFound):
    code = "release_not_found"


class NothingToRelease(Conflict):
    code = "release_empty"
    title = "Nothing to release"


class ReleaseDamaged(Conflict):
    code = "release_damaged"
    title = "The release does not match its checksum"


class UnsupportedExport(InvalidInput):
    code = "export_unsupported"


class ReleaseInProgress(Conflict):
    code = "release_in_progress"
    title = "Another release is being made"
