"""An export job: what was asked, by whom, and (once streamed) what was delivered."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from surveys.exports import geojson
from surveys.exports.manifest import Delivery
from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions

_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MEDIA_TYPES = {
    "zip": "application/zip",
    ExportFormat.CSV_LONG: "text/csv; charset=utf-8",
    ExportFormat.GEOJSON: geojson.MEDIA_TYPE,
}


@dataclass
class ExportJob:
    """One export: what was asked, by whom, and (once streamed) what was delivered."""

    id: str
    format: ExportFormat
    filters: ExportFilter
    options: ExportOptions
    pseudonymised: bool
    pseudonym_secret: str
    generated_at: dt.datetime
    actor_label: str
    release: dict[str, Any] | None = None
    release_id: int | None = None
    # The campaigns the actor may read (researcher grants, scoped tokens); None: all.
    campaigns: tuple[str, ...] | None = None
    delivery: Delivery = field(default_factory=Delivery)
    manifest: dict[str, Any] | None = None
    total: int = 0
    progress: Callable[[int], None] | None = None

    @property
    def plain(self) -> bool:
        return self.options.plain

    @property
    def filename(self) -> str:
        scope = self.filters.campaign or "all"
        if self.release is not None:
            scope = str(self.release["name"])
        stem = f"accessgap-{scope}-{self.format.value}-{self.generated_at:%Y%m%d}"
        stem = _FILENAME_UNSAFE.sub("-", stem)
        if not self.plain:
            return stem + ".zip"
        return stem + (".csv" if self.format is ExportFormat.CSV_LONG else ".geojson")

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format] if self.plain else MEDIA_TYPES["zip"]

    def start_details(self) -> dict[str, Any]:
        """What the ``export.start`` audit event records (before any byte leaves)."""
        return {
            "export_id": self.id,
            "format": self.format.value,
            "campaign": self.filters.campaign,
            "filters": self.filters.describe(),
            "options": self.options.describe(),
            "pseudonymised": self.pseudonymised,
            "release": self.release,
        }

    def end_details(self) -> dict[str, Any]:
        """What the ``export.complete`` (or ``export.aborted``) audit event records."""
        manifest = self.manifest or {}
        archive = manifest.get("archive") or {}
        return {
            **self.start_details(),
            "complete": bool(manifest.get("complete")),
            "rows": manifest.get("responses"),
            "sha256": archive.get("sha256"),
            "bytes": archive.get("bytes"),
            "manifest": manifest,
        }
