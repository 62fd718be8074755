"""Figure series as background jobs: every map of a series drawn as a publication figure, with
the table behind each, in one zip kept for download.

Parameters: ``campaign``, ``indicators`` (ids measured in one unit), ``level``, ``scheme``,
``classes``, ``format`` (``png``, ``svg`` or ``pdf``). The series is computed as
:func:`mapping.service.figure_series` computes it (shared classes), as the user who asked: their
domains decide which indicators exist. Importing this module also registers the dataset export
kind, so a worker that imports it knows every kind.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any, get_args

from sqlalchemy.orm import Session

import surveys.exports.job_kinds  # noqa: F401 - registers the dataset export kind
from mapping import service
from mapping.classify import Scheme
from mapping.render import Format
from surveys.errors import InvalidInput
from surveys.exports.service import snapshot_session
from surveys.jobs.kinds import JobContext, JobKind, JobOutput, register
from surveys.policy import Actor, Permission
from surveys.tabular import csv_chunks

KIND = "figure_series"
MAX_FIGURES = 60
FORMATS = {"png": "PNG", "svg": "SVG", "pdf": "PDF"}


def _parsed(params: Mapping[str, Any]) -> dict[str, Any]:
    indicators = params.get("indicators")
    if not isinstance(indicators, list) or not indicators or len(indicators) > MAX_FIGURES:
        raise InvalidInput(f"Name 1 to {MAX_FIGURES} indicators for a figure series.")
    level = params.get("level", "country")
    scheme = params.get("scheme", "quantiles")
    fmt = params.get("format", "svg")
    if level not in ("country", "nuts2"):
        raise InvalidInput("The level is 'country' or 'nuts2'.")
    if scheme not in get_args(Scheme):
        raise InvalidInput(f"The scheme is one of {', '.join(get_args(Scheme))}.")
    if fmt not in get_args(Format):
        raise InvalidInput(f"The format is one of {', '.join(get_args(Format))}.")
    classes = params.get("classes", 5)
    if not isinstance(classes, int) or not 2 <= classes <= 7:
        raise InvalidInput("The number of classes is from 2 to 7.")
    campaign = params.get("campaign")
    if not isinstance(campaign, str) or not campaign:
        raise InvalidInput("Name the campaign of the series.")
    return {
        "campaign": campaign,
        "indicators": [str(i) for i in indicators],
        "level": level,
        "scheme": scheme,
        "classes": classes,
        "format": fmt,
    }


def check(session: Session, actor: Actor, params: Mapping[str, Any]) -> str:
    asked = _parsed(params)
    declared = {s.id: s for s in service.indicator_specs(session, actor, asked["campaign"])}
    unknown = [i for i in asked["indicators"] if i not in declared]
    if unknown:
        raise InvalidInput(f"The campaign declares no indicator {', '.join(unknown)}.")
    service.check_units([declared[i] for i in asked["indicators"]])
    count = len(asked["indicators"])
    return (
        f"Figure series: {count} map{'s' if count != 1 else ''} of {asked['campaign']} "
        f"({FORMATS[asked['format']]})"
    )


def run(context: JobContext) -> JobOutput:
    asked = _parsed(context.params)
    total = len(asked["indicators"]) + 1
    context.progress(0, total, "Computing the maps")
    buffer = io.BytesIO()
    # A read-only snapshot: on SQLite a plain session would hold the write lock while it draws.
    with snapshot_session(context.factory) as session:
        series = service.figure_series(
            session,
            context.actor,
            asked["indicators"],
            campaign=asked["campaign"],
            level=asked["level"],
            scheme=asked["scheme"],
            classes=asked["classes"],
        )
        context.progress(1, total, "Drawing the figures")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, result in enumerate(series.maps, start=2):
                stem = f"{asked['campaign']}-{result.spec.id}-{asked['level']}"
                figure = io.BytesIO()
                service.draw_figure(result, asked["format"], figure, source_note=series.source_note)
                archive.writestr(f"{stem}.{asked['format']}", figure.getvalue())
                header, *rows = result.table_rows()
                archive.writestr(
                    f"{stem}.csv", b"".join(csv_chunks([str(h) for h in header], rows))
                )
                context.progress(done, total, f"Drawn: {result.label}")
    return JobOutput(
        f"{asked['campaign']}-figures-{asked['level']}.zip", "application/zip", buffer.getvalue()
    )


FIGURE_SERIES = register(JobKind(name=KIND, permission=Permission.MAPS_READ, check=check, run=run))
