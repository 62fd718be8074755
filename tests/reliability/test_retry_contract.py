"""Scenario 25 over HTTP: PostgreSQL at SERIALIZABLE, the respondent's real Submit button.

At SERIALIZABLE, concurrent finalizes of one response abort each other with 40001; the app runs
the request again (api/retry_middleware.py) and the client sees a success or a clean 409, never a
500, and exactly one submitted row exists.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.loadkit.checks import ledger
from bench.loadkit.clients import respondent_headers, submit_fields
from bench.loadkit.servers import Served, Zygote, server_env
from bench.loadkit.world import World, build_world, form_fields, question_kinds
from tests.databases import fresh_postgres_database

QUESTIONS = 30
ROUNDS = 3


async def _post_all(
    base: str, form_id: str, posts: list[tuple[dict[str, str], dict[str, Any]]]
) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(f"/r/forms/{form_id}", data=data, headers=headers)
                for headers, data in posts
            )
        )
    return [a.status_code for a in answers]


@pytest.fixture
def serializable_server(zygote: Zygote, tmp_path: Path) -> Iterator[tuple[World, Served]]:
    with fresh_postgres_database("accessgap_retry") as url:
        world = build_world(url, centres=2 * ROUNDS, questions=QUESTIONS, open_sessions=True)
        env = server_env(url, tmp_path, ACCESSGAP_DATABASE_ISOLATION="serializable")
        yield world, zygote.spawn(env, tmp_path / "server.log")


def test_identical_and_different_concurrent_finalizes_at_serializable(
    serializable_server: tuple[World, Served],
) -> None:
    world, server = serializable_server
    rng = random.Random(25)  # noqa: S311 - test data
    kinds = question_kinds(QUESTIONS)
    for _ in range(ROUNDS):
        # Scenario 3: twenty identical finalizes of one response.
        same = world.take(1)[0]
        data = submit_fields(same, form_fields(rng, kinds))
        statuses = asyncio.run(
            _post_all(server.base, world.form_id, [(respondent_headers(same), data)] * 20)
        )
        assert statuses == [303] * 20
        # Scenario 4: two different finalizes of one response.
        pair = world.take(1)[0]
        posts = [
            (respondent_headers(pair), submit_fields(pair, form_fields(rng, kinds)))
            for _ in range(2)
        ]
        statuses = asyncio.run(_post_all(server.base, world.form_id, posts))
        assert sorted(statuses) == [303, 409]
    book = ledger(world.url, world.slug)
    assert len(book.submitted) == 2 * ROUNDS
    assert book.duplicates == []
    assert book.half_written == []
    assert "Traceback" not in server.log_text()
