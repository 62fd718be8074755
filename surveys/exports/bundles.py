"""What an export holds: its plan (source, tables, languages) and the files of each format.

Each file is a :class:`~surveys.exports.manifest.FileSpec` whose bytes are produced only when the
delivery asks for them, so the tables are read one after the other from the snapshot session,
and :func:`build_manifest` describes what was delivered.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.exports import datapackage, geojson, spss_stata, xlsx
from surveys.exports.errors import UnsupportedExport
from surveys.exports.jobs import ExportJob
from surveys.exports.manifest import Delivery, FileSpec
from surveys.exports.pseudonyms import Pseudonymiser
from surveys.exports.records import (
    LiveSource,
    RecordSource,
    ReleaseSource,
    SourceSummary,
    centre_rows,
)
from surveys.exports.releases import get_release
from surveys.exports.rows import LongRows, WideRows
from surveys.exports.schemas import ExportFormat, Manifest, ManifestTable
from surveys.exports.variables import Table, VersionForm, build_tables, languages_of
from surveys.questionnaires.definitions.compiled import compile_definition
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.tabular import RowCounter, csv_chunks

LONG_FILE = "responses_long.csv"
CENTRES_FILE = "centres.geojson"
XLSX_FILE = "export.xlsx"


@dataclass
class Plan:
    source: RecordSource
    summary: SourceSummary
    tables: list[Table]
    languages: list[str]
    counters: dict[str, RowCounter] = field(default_factory=dict)
    table_files: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def _source(session: Session, job: ExportJob) -> RecordSource:
    if job.release_id is not None:
        release = get_release(session, job.release_id)
        return ReleaseSource(release, release.campaign.slug)
    return LiveSource(
        job.filters,
        Pseudonymiser(job.pseudonym_secret),
        pseudonymised=job.pseudonymised,
        campaigns=job.campaigns,
    )


def plan_export(session: Session, job: ExportJob) -> Plan:
    source = _source(session, job)
    summary = source.summary(session)
    versions = session.execute(
        select(QuestionnaireVersion, Questionnaire.form_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireVersion.id.in_(summary.version_ids))
    )
    forms = [
        VersionForm(
            questionnaire_id=version.questionnaire_id,
            form_id=form_id,
            version_id=version.id,
            version=version.version,
            form=compile_definition(version.definition),
        )
        for version, form_id in versions
    ]
    tables = build_tables(forms, identified=not job.pseudonymised)
    plan = Plan(source, summary, tables, languages_of(tables))
    if job.format is ExportFormat.CSV_LONG:
        job.total = summary.responses
    elif job.format is not ExportFormat.GEOJSON:
        job.total = sum(summary.per_questionnaire.get(t.questionnaire_id, 0) for t in tables)
    return plan


def _records_of(
    session: Session, plan: Plan, job: ExportJob, questionnaire_id: int | None
) -> Iterator[Any]:
    for record in plan.source.records(session, questionnaire_id=questionnaire_id):
        yield record
        if job.progress is not None:
            job.progress(1)


def _wide(session: Session, plan: Plan, job: ExportJob, table: Table) -> Iterator[list[Any]]:
    rows = WideRows(table, labels=job.options.values == "labels", language=job.options.language)
    for record in _records_of(session, plan, job, table.questionnaire_id):
        yield from rows.rows(record)


def _counter(plan: Plan, table: Table, file: str, sheet: str | None = None) -> RowCounter:
    counter = RowCounter()
    plan.counters[table.name] = counter
    plan.table_files[table.name] = (file, sheet)
    return counter


def _csv_file(
    session: Session, plan: Plan, job: ExportJob, table: Table, path: str, *, bom: bool
) -> FileSpec:
    counter = _counter(plan, table, path)
    header = [c.name for c in table.columns]
    return FileSpec(
        path,
        "text/csv",
        lambda: csv_chunks(header, _wide(session, plan, job, table), bom=bom, counter=counter),
        counter,
    )


def _codebook(plan: Plan, *, bom: bool, names: dict[tuple[str, str], str] | None) -> FileSpec:
    counter = RowCounter()
    header = datapackage.codebook_header(plan.languages)
    return FileSpec(
        datapackage.CODEBOOK_PATH,
        "text/csv",
        lambda: csv_chunks(
            header,
            datapackage.codebook_rows(plan.tables, plan.languages, names),
            bom=bom,
            counter=counter,
        ),
        counter,
    )


def export_files(session: Session, plan: Plan, job: ExportJob) -> Iterator[FileSpec]:
    """The files of the export, each produced only when the delivery asks for its bytes."""
    fmt, bom = job.format, job.options.bom
    if fmt is ExportFormat.CSV:
        for table in plan.tables:
            yield _csv_file(session, plan, job, table, f"{table.name}.csv", bom=bom)
        yield _codebook(plan, bom=bom, names=None)
    elif fmt is ExportFormat.CSV_LONG:
        yield _long_file(session, plan, job)
    elif fmt is ExportFormat.XLSX:
        yield _xlsx_file(session, plan, job)
    elif fmt is ExportFormat.DATAPACKAGE:
        for table in plan.tables:
            yield _csv_file(session, plan, job, table, datapackage.data_path(table), bom=False)
        yield _codebook(plan, bom=False, names=None)
        yield _datapackage_file(plan, job)
    elif fmt in {ExportFormat.SAV, ExportFormat.DTA}:
        names: dict[tuple[str, str], str] = {}
        for table in plan.tables:
            mapping = spss_stata.file_names(table)
            names.update({(table.name, k): v for k, v in mapping.items()})
            yield _statistics_file(session, plan, job, table)
        yield _codebook(plan, bom=False, names=names)
    elif fmt is ExportFormat.GEOJSON:
        yield _centres_file(session, plan, job)


def _long_file(session: Session, plan: Plan, job: ExportJob) -> FileSpec:
    counter = RowCounter()
    plan.counters["responses_long"] = counter
    plan.table_files["responses_long"] = (LONG_FILE, None)
    long_rows = LongRows(plan.tables, language=job.options.language)

    def rows() -> Iterator[list[Any]]:
        for record in _records_of(session, plan, job, None):
            yield from long_rows.rows(record)

    return FileSpec(
        LONG_FILE,
        "text/csv",
        lambda: csv_chunks(
            long_rows.header,
            rows(),
            bom=job.options.bom,
            counter=counter,
            check=long_rows.UNGUARDED,
        ),
        counter,
    )


def _xlsx_file(session: Session, plan: Plan, job: ExportJob) -> FileSpec:
    names = xlsx.sheet_names([t.name for t in plan.tables] + ["codebook"])

    def sheets() -> Iterator[xlsx.Sheet]:
        for table, sheet in zip(plan.tables, names, strict=False):
            counter = _counter(plan, table, XLSX_FILE, sheet)
            header = [c.name for c in table.columns]
            yield sheet, header, _wide(session, plan, job, table), counter
        yield (
            names[-1],
            datapackage.codebook_header(plan.languages),
            datapackage.codebook_rows(plan.tables, plan.languages),
            None,
        )

    return FileSpec(XLSX_FILE, xlsx.MEDIA_TYPE, lambda: xlsx.xlsx_chunks(sheets()))


def _statistics_file(session: Session, plan: Plan, job: ExportJob, table: Table) -> FileSpec:
    kind = job.format.value
    path = f"{table.name}.{kind}"
    counter = _counter(plan, table, path)
    media = "application/x-spss-sav" if kind == "sav" else "application/x-stata-dta"
    return FileSpec(
        path,
        media,
        lambda: spss_stata.table_chunks(
            table,
            _wide(session, plan, job, table),
            kind=kind,
            language=job.options.language,
            counter=counter,
        ),
        counter,
    )


def _datapackage_file(plan: Plan, job: ExportJob) -> FileSpec:
    def chunks() -> Iterator[bytes]:
        files = {f.path: f for f in job.delivery.files}
        title = f"accessgap export: {job.filters.campaign or 'all campaigns'}"
        if job.release is not None:
            title = str(job.release["citation"])
        descriptor = datapackage.descriptor(
            name=job.release["name"] if job.release else f"accessgap-{job.id}",
            title=title,
            version=plan.summary.dataset_version,
            created=_created(job),
            tables=plan.tables,
            files=files,
            labels=job.options.values == "labels",
            language=job.options.language,
            languages=plan.languages,
            description=(
                "Survey responses exported by accessgap"
                + (" (pseudonymised)" if job.pseudonymised else " (identified)")
                + f"; filters: {job.filters.describe()}. See codebook.csv and manifest.json."
            ),
        )
        yield (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode()

    return FileSpec("datapackage.json", "application/json", chunks)


def _centres_file(session: Session, plan: Plan, job: ExportJob) -> FileSpec:
    counter = RowCounter()
    plan.counters["centres"] = counter
    plan.table_files["centres"] = (CENTRES_FILE, None)
    pseudonymiser = Pseudonymiser(job.pseudonym_secret)
    source = plan.source
    if not isinstance(source, LiveSource):  # pragma: no cover - refused by prepare
        raise UnsupportedExport("Releases have no centre map.")

    def points() -> Iterator[geojson.CentrePoint]:
        current: list[Any] = []

        def point(rows: list[Any]) -> geojson.CentrePoint:
            first = rows[0]
            identified = not job.pseudonymised
            return geojson.CentrePoint(
                centre=first.public_id if identified else pseudonymiser.centre(first.public_id),
                country=first.country,
                region=first.region,
                centre_type=first.centre_type,
                responses=sum(r.responses for r in rows),
                questionnaires=[r.questionnaire for r in rows],
                latitude=first.latitude,
                longitude=first.longitude,
                public_id=first.public_id if identified else None,
                name=first.name if identified else None,
                city=first.city if identified else None,
            )

        for row in centre_rows(session, source):
            if current and current[0].public_id != row.public_id:
                yield point(current)
                current = []
            current.append(row)
        if current:
            yield point(current)

    return FileSpec(
        CENTRES_FILE,
        geojson.MEDIA_TYPE,
        lambda: geojson.centre_chunks(points(), identified=not job.pseudonymised, counter=counter),
        counter,
    )


def _created(job: ExportJob) -> str:
    if job.release is not None:
        return str(job.release["created_at"])
    return job.generated_at.astimezone(dt.UTC).isoformat()


def build_manifest(
    job: ExportJob, plan: Plan, delivery: Delivery, *, complete: bool
) -> dict[str, Any]:
    tables = [
        ManifestTable(
            name=name,
            rows=counter.rows,
            file=plan.table_files[name][0],
            sheet=plan.table_files[name][1],
        )
        for name, counter in plan.counters.items()
    ]
    manifest = Manifest(
        export_id=job.id,
        format=job.format,
        complete=complete,
        pseudonymised=job.pseudonymised,
        dataset_version=plan.summary.dataset_version,
        generated_at=job.generated_at.astimezone(dt.UTC).isoformat(),
        filters=job.filters.describe(),
        options=job.options.describe(),
        responses=plan.summary.responses,
        tables=tables,
        files=list(delivery.files),
        archive=delivery.archive,
        release=job.release,
    )
    return manifest.model_dump(mode="json")
