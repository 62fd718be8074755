"""Every catalogue questionnaire in every export format, read back by the tools researchers use.

The demo campaign (a small registry: every catalogue questionnaire answered) is loaded once per
database and each format is downloaded once, as a researcher, through the route; the tests
then open the files with ``csv``, openpyxl, frictionless, pyreadstat and ``json``, check the
variable names each format allows, the codebook's mapping to them, and the manifest. Then what
a client sees when an export fails: before its first byte a problem document, after it a
download that the check documented in ``docs/exports.md`` refuses.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from fastapi.testclient import TestClient
from frictionless import validate
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.settings import Settings
from surveys import migrate
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory, transaction
from surveys.demo.campaign import DEMO_SLUG, load_demo_campaign
from surveys.demo.centres import load_demo_centres
from surveys.exports import service, spss_stata
from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions
from surveys.policy import Permission, system_actor
from surveys.registry.countries import seed_countries
from tests.accounts_fixtures import grant_every_campaign, issue_token, make_user
from tests.conftest import app_client, rolled_back, settings_for
from tests.surveys.exports.data import make_world

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
CENTRES = 12  # enough for every questionnaire to have answers, repeats included
CATALOGUE = sorted(
    path.stem
    for path in (Path(__file__).parents[2] / "surveys/questionnaires/catalogue").glob("*.yaml")
)
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
EXPORT_DOC = Path(__file__).parents[2] / "docs/exports.md"


@dataclass
class Downloads:
    """The demo's exports on one database, by format, and what is needed to ask for more."""

    factory: sessionmaker[Session]
    client: TestClient
    headers: dict[str, str]
    files: dict[str, dict[str, bytes]]
    bodies: dict[str, tuple[str, bytes]]  # format: (X-Export-Id, the zip as sent)
    folder: Path

    def manifest(self, fmt: str) -> dict[str, Any]:
        return json.loads(self.files[fmt]["manifest.json"])


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert bundle.testzip() is None
        return {name: bundle.read(name) for name in bundle.namelist()}


@pytest.fixture(scope="module")
def downloads(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Downloads]:
    folder = tmp_path_factory.mktemp("every-format")
    with rolled_back(engine) as factory:
        with factory() as session, session.begin():
            load_demo_centres(session, total=CENTRES)
            assert load_demo_campaign(session, now=NOW) is not None
            user_id = make_user(session, role="researcher").id
            grant_every_campaign(session, user_id)
        headers = {
            "Authorization": "Bearer "
            + issue_token(factory, user_id, [Permission.EXPORT_PSEUDONYMISED])
        }
        settings = settings_for(database_url, folder)
        # Disclosure control off (k = 1): a 12-centre demo would be mostly suppressed at k = 5,
        # and these tests read every variable back (tests/surveys/exports/test_disclosure.py).
        settings = Settings(**{**settings.model_dump(), "disclosure_min_centres": 1})
        with app_client(settings, factory) as client:
            files, bodies = {}, {}
            for fmt in ExportFormat:
                response = client.get(
                    f"/api/v1/exports/{fmt.value}", params={"campaign": DEMO_SLUG}, headers=headers
                )
                assert response.status_code == 200, (fmt, response.text[:500])
                files[fmt.value] = unzip(response.content)
                bodies[fmt.value] = (response.headers["X-Export-Id"], response.content)
            yield Downloads(factory, client, headers, files, bodies, folder)


def codebook(files: dict[str, bytes]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files["codebook.csv"].decode("utf-8"))))


def test_every_format_holds_every_catalogue_questionnaire(downloads: Downloads) -> None:
    for fmt in ExportFormat:
        manifest = downloads.manifest(fmt.value)
        assert manifest["complete"], fmt
        assert manifest["responses"] > len(CATALOGUE)
        if fmt is ExportFormat.GEOJSON:
            continue
        if fmt is ExportFormat.CSV_LONG:
            rows = csv.DictReader(
                io.StringIO(downloads.files["csv-long"]["responses_long.csv"].decode())
            )
            assert sorted({row["questionnaire"] for row in rows}) == CATALOGUE
            continue
        main_tables = {t["name"] for t in manifest["tables"] if "__" not in t["name"]}
        assert sorted(main_tables) == CATALOGUE, fmt
        assert any("__" in t["name"] and t["rows"] > 0 for t in manifest["tables"]), fmt


def test_every_file_matches_its_manifest_entry(downloads: Downloads) -> None:
    for fmt, files in downloads.files.items():
        manifest = downloads.manifest(fmt)
        assert set(files) == {f["path"] for f in manifest["files"]} | {"manifest.json"}, fmt
        for entry in manifest["files"]:
            data = files[entry["path"]]
            assert (len(data), hashlib.sha256(data).hexdigest()) == (
                entry["bytes"],
                entry["sha256"],
            ), (fmt, entry["path"])


def test_csv_tables_read_back_with_their_codebook_columns(downloads: Downloads) -> None:
    files, manifest = downloads.files["csv"], downloads.manifest("csv")
    columns: dict[str, list[str]] = {}
    for row in codebook(files):
        assert row["file_variable"] == row["variable"]  # CSV keeps every name
        columns.setdefault(row["table"], []).append(row["variable"])
    for table in manifest["tables"]:
        rows = list(csv.reader(io.StringIO(files[table["file"]].decode("utf-8"), newline="")))
        assert rows[0] == columns[table["name"]]
        assert len(rows) - 1 == table["rows"] > 0


def test_xlsx_sheets_read_back_with_openpyxl(downloads: Downloads) -> None:
    manifest = downloads.manifest("xlsx")
    workbook = load_workbook(io.BytesIO(downloads.files["xlsx"]["export.xlsx"]), read_only=True)
    try:
        for table in manifest["tables"]:
            rows = list(workbook[table["sheet"]].iter_rows(values_only=True))
            assert len(rows) - 1 == table["rows"] > 0, table
        assert "codebook" in workbook.sheetnames
    finally:
        workbook.close()


def test_the_data_package_passes_frictionless_validate(downloads: Downloads) -> None:
    target = downloads.folder / "datapackage"
    for path, data in downloads.files["datapackage"].items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_bytes(data)
    report = validate(str(target / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]


@pytest.mark.parametrize(
    ("kind", "reader"), [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)]
)
def test_spss_and_stata_files_read_back_with_names_their_program_accepts(
    downloads: Downloads, kind: str, reader: Callable[..., Any]
) -> None:
    files, manifest = downloads.files[kind], downloads.manifest(kind)
    mapping: dict[str, dict[str, str]] = {}
    for row in codebook(files):
        mapping.setdefault(row["table"], {})[row["variable"]] = row["file_variable"]
    longest = 0
    for table in manifest["tables"]:
        path = downloads.folder / f"{kind}-{table['file']}"
        path.write_bytes(files[table["file"]])
        frame, meta = reader(str(path))
        assert len(frame) == table["rows"] > 0, table
        names = list(meta.column_names)
        assert names == list(mapping[table["name"]].values())
        assert len({n.lower() for n in names}) == len(names)
        for name in names:
            assert NAME.match(name), name
            assert len(name) <= spss_stata.NAME_LIMITS[kind], name
        if kind == "dta":  # value-label set names have Stata's limit too
            sets = set(meta.variable_to_label.values())
            assert sets
            assert all(len(s) <= spss_stata.LABEL_SET_NAME_LIMITS["dta"] for s in sets)
        assert meta.variable_value_labels  # choices keep their labels
        longest = max(longest, *(len(n) for n in names))
    # the catalogue has names longer than Stata's 32 characters, so the limits were exercised
    longest_original = max(len(v) for table in mapping.values() for v in table)
    assert longest_original > 32
    assert longest <= spss_stata.NAME_LIMITS[kind]


def test_geojson_reads_back_as_a_feature_collection(downloads: Downloads) -> None:
    manifest = downloads.manifest("geojson")
    collection = json.loads(downloads.files["geojson"]["centres.geojson"])
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == manifest["tables"][0]["rows"] > 0


def test_the_command_line_writes_the_stata_file_that_broke_it(
    downloads: Downloads, tmp_path: Path
) -> None:
    """``accessgap export --format dta`` stopped at cell_therapy, whose names are long."""
    with downloads.factory() as session:
        job = service.prepare_export(
            session,
            system_actor(),
            format=ExportFormat.DTA,
            filters=ExportFilter(campaign=DEMO_SLUG, questionnaire="cell_therapy"),
            options=ExportOptions(),
            pseudonymised=True,
            pseudonym_secret="test-pseudonym-" + "y" * 32,
            min_centres=1,  # every variable read back (see the downloads fixture)
        )
    service.write_export(downloads.factory, system_actor(), job, tmp_path, request_id=None)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["complete"]
    assert manifest["tables"][0]["name"] == "cell_therapy"
    frame, meta = pyreadstat.read_dta(str(tmp_path / "cell_therapy.dta"))
    assert len(frame) == manifest["tables"][0]["rows"] > 0
    renamed = {
        row["variable"]: row["file_variable"]
        for row in csv.DictReader(io.StringIO((tmp_path / "codebook.csv").read_text()))
        if row["table"] == "cell_therapy"
    }
    assert list(renamed.values()) == list(meta.column_names)
    assert max(len(original) for original in renamed) > spss_stata.NAME_LIMITS["dta"]
    assert max(len(name) for name in meta.column_names) <= spss_stata.NAME_LIMITS["dta"]


# --- what a client sees when an export fails --------------------------------------------------


def documented_check() -> Callable[[Path], dict[str, Any]]:
    """The ``verify_export`` function of docs/exports.md, run as the documentation gives it."""
    text = EXPORT_DOC.read_text(encoding="utf-8")
    block = re.search(r"```python\n(# verify_export.*?)```", text, re.S)
    assert block, "docs/exports.md lost its verify_export example"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(EXPORT_DOC), "exec"), namespace)  # noqa: S102 - our docs
    return namespace["verify_export"]  # type: ignore[no-any-return]


def failing_writer(after: int) -> Callable[..., None]:
    """A Stata/SPSS table writer that breaks on table number ``after`` (0 = the first)."""
    written = 0
    original = spss_stata.write_table

    def write(*args: Any, **kwargs: Any) -> None:
        nonlocal written
        written += 1
        if written > after:
            raise RuntimeError("disk full (injected)")
        original(*args, **kwargs)

    return write


def audit_actions(factory: sessionmaker[Session], export_id: str) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_id == export_id)
                .order_by(AuditEvent.id)
            )
        )


def test_a_complete_download_passes_the_documented_check(
    downloads: Downloads, tmp_path: Path
) -> None:
    for fmt, (export_id, body) in downloads.bodies.items():
        (tmp_path / f"{fmt}.zip").write_bytes(body)
        manifest = documented_check()(tmp_path / f"{fmt}.zip")
        assert manifest["export_id"] == export_id
        served = downloads.client.get(
            f"/api/v1/exports/{export_id}/manifest", headers=downloads.headers
        ).json()
        assert served["complete"] is True
        assert served["archive"]["sha256"] == hashlib.sha256(body).hexdigest()


def test_a_failure_before_the_first_byte_is_a_problem_document(
    downloads: Downloads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spss_stata, "write_table", failing_writer(after=0))
    response = downloads.client.get(
        "/api/v1/exports/sav", params={"campaign": DEMO_SLUG}, headers=downloads.headers
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "export_failed"
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert "disk full" not in response.text  # nothing of the cause leaks
    with downloads.factory() as session:  # the failed export is audited like any other
        export_id = session.scalars(
            select(AuditEvent.object_id)
            .where(AuditEvent.action == "export.start")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert export_id is not None
    assert audit_actions(downloads.factory, export_id) == ["export.start", "export.aborted"]


def test_a_failure_after_the_first_byte_fails_the_documented_check(
    downloads: Downloads, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(spss_stata, "write_table", failing_writer(after=2))
    response = downloads.client.get(
        "/api/v1/exports/dta", params={"campaign": DEMO_SLUG}, headers=downloads.headers
    )
    assert response.status_code == 200  # the status line left with the first table
    assert response.content  # some bytes were sent, then the stream broke off
    (tmp_path / "cut.zip").write_bytes(response.content)
    with pytest.raises(zipfile.BadZipFile):
        documented_check()(tmp_path / "cut.zip")
    export_id = response.headers["X-Export-Id"]
    served = downloads.client.get(
        f"/api/v1/exports/{export_id}/manifest", headers=downloads.headers
    ).json()
    assert served["complete"] is False
    assert audit_actions(downloads.factory, export_id) == ["export.start", "export.aborted"]


def test_the_command_line_says_when_an_export_broke_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", url)
    monkeypatch.setenv("ACCESSGAP_DISCLOSURE_MIN_CENTRES", "1")  # a handful of centres
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        slug = make_world(session).campaign.slug
    engine.dispose()
    monkeypatch.setattr(spss_stata, "write_table", failing_writer(after=1))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli_app, ["export", "--format", "dta", "--out", str(out), "--campaign", slug]
    )
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # rich wraps long lines at the terminal's width
    assert "broke off" in said
    assert "no manifest.json" in said
    assert not (out / "manifest.json").exists()
    assert (out / "nm_export.dta").stat().st_size > 0
