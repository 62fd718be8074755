"""Races on committed data: parallel submissions settle on exactly one row, never a 500.

These tests commit, so they run on a database of their own (a fresh SQLite file and a fresh
PostgreSQL database), not inside the rolled-back transaction of the other tests.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from surveys import migrate
from surveys.campaigns.models import Campaign
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.countries import seed_countries
from surveys.registry.models import Centre
from surveys.responses import submission
from surveys.responses.errors import StaleVersion
from surveys.responses.models import Response
from tests.builders import make_campaign, make_centre, make_published_form
from tests.databases import fresh_postgres_database

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
ANSWERS = {"has_pet": "yes", "units": "3"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    def build(url: str) -> Iterator[sessionmaker[Session]]:
        migrate.upgrade(url)
        engine = make_engine(url, pool_size=25)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            seed_countries(session)
        yield factory
        engine.dispose()

    if request.param == "sqlite":
        yield from build(f"sqlite:///{tmp_path_factory.mktemp('races') / 'races.sqlite3'}")
    else:
        with fresh_postgres_database("accessgap_races") as url:
            yield from build(url)


def prepare(factory: sessionmaker[Session], slug: str) -> tuple[int, int, int]:
    with transaction(factory) as session:
        centre = make_centre(session, name=f"Centre {slug}")
        version = make_published_form(session)
        campaign = make_campaign(session, slug=slug, centres=[centre], versions=[version])
        return campaign.id, centre.id, version.id


def run_parallel(count: int, work: Callable[[int], object]) -> list[object]:
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def target(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # every outcome is collected and checked
            results[index] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def submitter(
    factory: sessionmaker[Session],
    ids: tuple[int, int, int],
    key: Callable[[int], str],
    answers: Callable[[int], dict[str, object]],
) -> Callable[[int], object]:
    campaign_id, centre_id, version_id = ids

    def work(index: int) -> object:
        with transaction(factory) as session:
            outcome = submission.submit(
                session,
                submission_uuid=key(index),
                campaign=session.get_one(Campaign, campaign_id),
                centre=session.get_one(Centre, centre_id),
                version=session.get_one(QuestionnaireVersion, version_id),
                answers=answers(index),
                now=NOW,
                actor="test",
            )
            return "replay" if outcome.replay else "created"

    return work


def final_count(factory: sessionmaker[Session], centre_id: int) -> int:
    with transaction(factory) as session:
        return (
            session.scalar(
                select(func.count(Response.id)).where(
                    Response.centre_id == centre_id, Response.status == "submitted"
                )
            )
            or 0
        )


def test_twenty_parallel_identical_submissions_make_one_row(
    factory: sessionmaker[Session],
) -> None:
    for round_ in range(5):
        ids = prepare(factory, f"same-uuid-{round_}-{uuid.uuid4().hex[:6]}")
        key = str(uuid.uuid4())
        results = run_parallel(
            20, submitter(factory, ids, lambda _, key=key: key, lambda _: ANSWERS)
        )
        unexpected = [
            r
            for r in results
            if r not in {"created", "replay"}
            and not (isinstance(r, DomainError) and r.code == "request_in_progress")
        ]
        assert unexpected == []
        assert results.count("created") == 1
        assert final_count(factory, ids[1]) == 1


def test_two_drafts_of_one_centre_finalised_at_once_give_one_success_and_one_409(
    factory: sessionmaker[Session],
) -> None:
    for round_ in range(10):
        ids = prepare(factory, f"two-drafts-{round_}-{uuid.uuid4().hex[:6]}")
        keys = [str(uuid.uuid4()), str(uuid.uuid4())]
        results = run_parallel(
            2,
            submitter(
                factory,
                ids,
                lambda i, keys=keys: keys[i],
                lambda i: {"has_pet": "yes", "units": str(i + 1)},
            ),
        )
        codes = sorted(r if isinstance(r, str) else getattr(r, "code", repr(r)) for r in results)
        assert codes == ["already_finalised", "created"]
        assert final_count(factory, ids[1]) == 1


def test_read_then_write_from_two_workers_loses_no_update(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id, centre_id, version_id = prepare(factory, f"drafts-{uuid.uuid4().hex[:6]}")
    with transaction(factory) as session:
        draft = submission.start_draft(
            session,
            session.get_one(Campaign, campaign_id),
            session.get_one(Centre, centre_id),
            session.get_one(QuestionnaireVersion, version_id),
            now=NOW,
        )
        draft_id = draft.id
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> object:
        for n in range(50):
            try:
                with transaction(factory) as session:
                    response = submission.get_response(session, draft_id)
                    submission.save_draft(
                        session,
                        response,
                        {"notes": f"{index}-{n}"},
                        expected_version=response.version,
                        now=NOW,
                    )
                outcome = "saved"
            except StaleVersion:
                outcome = "stale"
            with lock:
                outcomes.append(outcome)
        return None

    results = run_parallel(2, worker)
    assert [r for r in results if r is not None] == []
    assert len(outcomes) == 100
    with transaction(factory) as session:
        final = submission.get_response(session, draft_id)
        assert final.version == 1 + outcomes.count("saved")
