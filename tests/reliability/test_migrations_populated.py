"""Scenario 22 (RELIABILITY.md section C): migrations preserve a populated database.

The database is filled at head with submitted responses (the load form, plus a form with every
question type: note, select one and multiple, integer, decimal, text, date, range, acknowledge,
a repeat, a calculation and a matrix group) and a row in every table, among them those later
revisions added: staff sessions and a login throttle (0002), a sealed dataset release with its
immutability triggers (0003), respondent sessions (0004), review comments (0005).

It is then migrated down and up again, and the canonical dump of every table compared with the
dump before. The only differences allowed are the intended ones: a table a revision creates
comes back empty after going below that revision, and the columns 0002 adds to
``user_account`` come back NULL (SQLite rebuilds that table in batch mode with rows in it).
Finally ``upgrade head`` runs on a copy of a database populated at the first revision.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from bench.loadkit import checks
from bench.loadkit.world import add_submitted, build_world
from surveys import backup, migrate
from surveys.accounts.models import User
from surveys.accounts.sessions import start_session
from surveys.campaigns.invitations import issue_invitation
from surveys.campaigns.models import Campaign, CampaignGrant
from surveys.db import is_sqlite, make_engine, make_session_factory, transaction, utcnow
from surveys.exports import releases
from surveys.exports.schemas import ReleaseCreate
from surveys.jobs.models import Job, JobResult
from surveys.questionnaires.definitions.tables import read_markdown
from surveys.questionnaires.service import import_definition, publish_version
from surveys.registry.models import BoundaryVersion, Centre, Contact, ReferenceFigure, Region
from surveys.responses.review import review_with_comment
from surveys.responses.submission import submit
from surveys.throttles.models import ThrottleCounter
from tests.builders import make_campaign
from tests.databases import fresh_postgres_database
from tests.reliability.conftest import soak_sized

SCRIPTS = ScriptDirectory.from_config(migrate.alembic_config())
HEAD = SCRIPTS.get_current_head()
PREVIOUS = SCRIPTS.get_revision(HEAD).down_revision
FIRST = "0001"
# What each revision adds: a table it creates is empty after a round trip below it. A revision
# that adds a table must say so here (the test fails on a table that the population left empty).
TABLES_ADDED = {
    "0002": {"staff_session"},
    "0003": {"dataset_release", "dataset_release_record"},
    "0004": {"respondent_session"},
    "0005": {"response_comment"},
    "0008": {"throttle_counter"},
    "0012": {"job", "job_result", "reference_figure"},
}
# 0008 grants every researcher every campaign again when it is re-applied (at that moment, by
# "migration:0008"): after going below it the grants are compared as (user, campaign) pairs.
REGRANTED = "campaign_grant"
COLUMNS_ADDED = {"0002": {"user_account": {"totp_last_step", "last_login_at"}}}
Dump = dict[str, list[list[Any]]]

EVERY_TYPE_FORM = """
| survey |
|        | type                     | name       | label::en   | label::fr   | required | relevant           | constraint | calculation       | parameters    | appearance |
|        | note                     | intro      | About       | À propos    |          |                    |            |                   |               |            |
|        | select_one yes_no        | has_pet    | PET/CT?     | TEP/TDM ?   | yes      |                    |            |                   |               |            |
|        | integer                  | pet_units  | Units       | Unités      |          | ${has_pet} = 'yes' | . >= 0     |                   |               |            |
|        | decimal                  | wait_weeks | Weeks       | Semaines    |          |                    | . >= 0     |                   |               |            |
|        | select_multiple barriers | barriers   | Barriers    | Obstacles   |          |                    |            |                   |               |            |
|        | text                     | notes      | Notes       | Notes       |          |                    |            |                   |               |            |
|        | date                     | since      | Since       | Depuis      |          |                    |            |                   |               |            |
|        | range                    | confidence | Confidence  | Confiance   |          |                    |            |                   | start=1 end=5 |            |
|        | acknowledge              | consent    | I agree     | J'accepte   |          |                    |            |                   |               |            |
|        | begin_repeat             | devices    | Devices     | Appareils   |          |                    |            |                   |               |            |
|        | text                     | vendor     | Vendor      | Fabricant   |          |                    |            |                   |               |            |
|        | integer                  | year       | Year        | Année       |          |                    | . >= 1980  |                   |               |            |
|        | end_repeat               |            |             |             |          |                    |            |                   |               |            |
|        | calculate                | device_n   |             |             |          |                    |            | count(${devices}) |               |            |
|        | begin_group              | units      | Units       | Unités      |          |                    |            |                   | columns=years | matrix     |
|        | integer                  | linac      | Linacs      | Linacs      |          |                    | . >= 0     |                   |               |            |
|        | end_group                |            |             |             |          |                    |            |                   |               |            |
| choices |
|         | list_name | name  | label::en | label::fr |
|         | yes_no    | yes   | Yes       | Oui       |
|         | yes_no    | no    | No        | Non       |
|         | barriers  | cost  | Cost      | Coût      |
|         | barriers  | staff | Staff     | Personnel |
|         | years     | 2024  | 2024      | 2024      |
|         | years     | 2025  | 2025      | 2025      |
| settings |
|          | form_id    | version | title::en  | title::fr    | domain    |
|          | every_type | 1       | Every type | Tous les types | radiomics |
"""


def every_type_answers(number: int) -> dict[str, Any]:
    return {
        "has_pet": "yes" if number % 2 == 0 else "no",
        "pet_units": str(number),
        "wait_weeks": f"{number}.25",
        "barriers": ["cost", "staff"][: 1 + number % 2],
        "notes": f"Réponse n° {number}: ☢ «quoted», line\nbreak",
        "since": f"2024-02-{10 + number:02d}",
        "confidence": 1 + number % 5,
        "consent": "OK",
        "devices": [{"vendor": f"Vendor {i}", "year": str(2000 + i)} for i in range(number % 3)],
        "linac__2024": number,
        "linac__2025": number + 1,
    }


def populate(url: str, responses_count: int) -> None:
    """Responses of every question type, and a row in every table that a revision added."""
    world = build_world(url, centres=responses_count + 3, open_sessions=2)
    add_submitted(url, world.slug, responses_count)
    engine = make_engine(url)
    now = utcnow()
    try:
        with transaction(make_session_factory(engine)) as session:
            outcome = import_definition(session, read_markdown(EVERY_TYPE_FORM, source="every.md"))
            version = publish_version(session, "every_type", outcome.version.version)
            centres = session.query(Centre).order_by(Centre.id).limit(3).all()
            session.add(
                Contact(centre_id=centres[0].id, name="Dr Ana Núñez", email="ana@example.org")
            )
            session.add(
                Region(
                    code="FR71",
                    nuts_version="2021",
                    level=2,
                    name="Rhône-Alpes",
                    country_id=centres[0].country_id,
                    geometry_geojson='{"type": "Point", "coordinates": [4.85, 45.75]}',
                )
            )
            # As revision 0007 derives it from the regions held (the import time unknown).
            session.add(BoundaryVersion(level=2, nuts_version="2021", active=True, regions=1))
            session.flush()
            session.query(BoundaryVersion).update({"imported_at": None, "source": None})
            campaign = make_campaign(
                session, slug="every-type", name="Every type", centres=centres, versions=[version]
            )
            submitted = []
            for number, centre in enumerate(centres):
                issue_invitation(session, campaign, centre)
                done = submit(
                    session,
                    submission_uuid=str(uuid.uuid4()),
                    campaign=campaign,
                    centre=centre,
                    version=version,
                    answers=every_type_answers(number),
                    now=now,
                    actor="test",
                )
                submitted.append(done.response)
            review_with_comment(
                session, submitted[0], "approved", "Checked against the registry.", author="lead"
            )
            review_with_comment(
                session, submitted[1], "has_issues", "Units look high.", author="lead"
            )
            releases.create_release(
                session,
                ReleaseCreate(campaign="every-type"),
                created_by="coordinator",
                pseudonym_secret="p" * 32,
                min_centres=1,  # one approved centre: a release with a row in every table
            )
            user = session.query(User).order_by(User.id).first()
            assert user is not None
            user.last_login_at = now
            user.totp_last_step = 123
            start_session(session, user, absolute=dt.timedelta(days=1), now=now)
            session.add(
                ThrottleCounter(
                    key_hash="0" * 64, group_hash="0" * 64, failures=2, window_started_at=now
                )
            )
            # A finished job with its file, and an official figure (tables of 0012).
            job = Job(
                kind="export",
                title="CSV export",
                params={"format": "csv"},
                status="succeeded",
                requested_by="coordinator",
                progress_done=1,
                progress_total=1,
                attempts=1,
                created_at=now,
                finished_at=now,
            )
            session.add(job)
            session.flush()
            session.add(
                JobResult(
                    job_id=job.id,
                    filename="export.zip",
                    media_type="application/zip",
                    size=3,
                    sha256="0" * 64,
                    content=b"zip",
                )
            )
            session.add(
                ReferenceFigure(
                    area_code="FR",
                    area_level="country",
                    year=2024,
                    indicator="rt_mv_units_per_million",
                    value=7.5,
                    source="test series",
                )
            )
            # The researcher of the load world holds every campaign, as 0008 would grant it.
            held = set(session.execute(select(CampaignGrant.user_id, CampaignGrant.campaign_id)))
            for researcher in session.query(User).filter(User.role == "researcher"):
                for campaign_id in session.scalars(select(Campaign.id)):
                    if (researcher.id, campaign_id) in held:
                        continue
                    session.add(
                        CampaignGrant(
                            user_id=researcher.id,
                            campaign_id=campaign_id,
                            granted_at=now,
                            granted_by="test",
                        )
                    )
    finally:
        engine.dispose()


def canonical(url: str) -> Dump:
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return checks.dump(connection)
    finally:
        engine.dispose()


def with_columns(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return checks.columns_by_table(connection)
    finally:
        engine.dispose()


def intended(before: Dump, columns: dict[str, list[str]], below: str) -> Dump:
    """``before`` as it must look after going below revision ``below`` and back to head."""
    expected = dict(before)
    for revision, tables in TABLES_ADDED.items():
        if revision > below:
            for name in tables:
                expected[name] = []
    for revision, added in COLUMNS_ADDED.items():
        if revision > below:
            for table, names in added.items():
                blank = [columns[table].index(name) for name in names]
                expected[table] = [
                    [None if i in blank else v for i, v in enumerate(row)] for row in before[table]
                ]
    return expected


def grant_pairs(dump: Dump, columns: dict[str, list[str]]) -> set[tuple[Any, Any]]:
    user, campaign = (columns[REGRANTED].index(name) for name in ("user_id", "campaign_id"))
    return {(row[user], row[campaign]) for row in dump[REGRANTED]}


def differing(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    return sorted(name for name in left.keys() | right.keys() if left.get(name) != right.get(name))


@pytest.fixture
def populated(server_database: str) -> str:
    populate(server_database, soak_sized(200, 10_000))
    return server_database


def test_down_and_up_again_keeps_every_row(populated: str) -> None:
    before = canonical(populated)
    columns = with_columns(populated)
    assert before["alembic_version"] == [[HEAD]]
    # procrastinate_*: the job queue library's own tables (PostgreSQL), empty between jobs.
    empty = [name for name, rows in before.items() if not rows]
    assert [name for name in empty if not name.startswith("procrastinate_")] == []

    for below in (PREVIOUS, FIRST):
        migrate.downgrade(populated, below)
        migrate.upgrade(populated)
        migrate.check(populated)
        after = canonical(populated)
        assert with_columns(populated) == columns
        expected = intended(before, columns, below)
        if below < "0008":
            assert grant_pairs(after, columns) == grant_pairs(before, columns)
            expected[REGRANTED] = after[REGRANTED]
        assert differing(expected, after) == [], f"below {below}"
    if is_sqlite(populated):
        assert checks.sqlite_health(checks.sqlite_path(populated)) == (["ok"], [])


def add_second_draft(url: str) -> tuple[int, int]:
    """A newer draft beside an existing one for the same centre, which only revisions before
    0006 allow (two colleagues opening the form at once); returns (older id, newer id)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            response = backup.reflect(connection).tables["response"]
            older = connection.execute(
                select(response).where(response.c.status == "draft").order_by(response.c.id)
            ).first()
            assert older is not None
            newer = {
                **{name: value for name, value in older._asdict().items() if name != "id"},
                "submission_uuid": str(uuid.uuid4()),
                "updated_at": older.updated_at + dt.timedelta(minutes=5),
                "answers": {"pet_units": 7},
            }
            newer_id = connection.execute(
                response.insert().returning(response.c.id), newer
            ).scalar_one()
    finally:
        engine.dispose()
    return older.id, newer_id


def test_upgrade_head_on_a_copy_populated_at_the_first_revision(
    populated: str, tmp_path: Path
) -> None:
    migrate.downgrade(populated, FIRST)
    withdrawn, kept_draft = add_second_draft(populated)
    old = canonical(populated)
    old_columns = with_columns(populated)
    assert old["alembic_version"] == [[FIRST]]

    file = tmp_path / "first.backup"
    backup.create_backup(populated, file, "copy", kdf=backup.KdfParameters(log2_n=10))
    with copy_target(populated, tmp_path) as copy:
        backup.restore_backup(file, copy, "copy")
        migrate.upgrade(copy)
        migrate.check(copy)
        new = canonical(copy)
        new_columns = with_columns(copy)
        kept = canonical_columns(copy, old_columns)

    assert new["alembic_version"] == [[HEAD]]
    for table in set().union(*TABLES_ADDED.values()):
        assert new[table] == []
    for table, names in COLUMNS_ADDED["0002"].items():
        index = [new_columns[table].index(name) for name in names]
        assert all(row[i] is None for row in new[table] for i in index)
    # 0006: of two drafts of one centre, the older is withdrawn (kept, not deleted).
    key, status = (old_columns["response"].index(name) for name in ("id", "status"))
    expected = {**old, "response": [list(row) for row in old["response"]]}
    for row in expected["response"]:
        if row[key] == withdrawn:
            row[status] = "withdrawn"
    assert [row[status] for row in kept["response"] if row[key] == kept_draft] == ["draft"]
    del expected["alembic_version"], kept["alembic_version"]
    assert differing(expected, kept) == []


@contextmanager
def copy_target(url: str, folder: Path) -> Iterator[str]:
    if is_sqlite(url):
        yield f"sqlite:///{folder / 'copy.sqlite3'}"
        return
    with fresh_postgres_database("accessgap_copy") as copy:
        yield copy


def canonical_columns(url: str, columns: dict[str, list[str]]) -> Dump:
    """The dump of the tables and columns named (those of an older revision), at any revision."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return checks.dump(connection, only=columns)
    finally:
        engine.dispose()
