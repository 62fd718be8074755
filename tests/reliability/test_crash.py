"""Scenario 16 (RELIABILITY.md section C): kill -9 mid-submit, twenty times.

Clients finalize centres continuously while the server is SIGKILLed at a random moment, then
restarted (a forked uvicorn server, as fast as the fork server allows). A finalize that was
acknowledged (303 to its receipt) must have been committed before the answer left; a finalize
that died with the server must be wholly there or wholly absent, and retrying it with the same
submission UUID (what the page does) must give one response, not two.

What ``make test`` runs, and so proves, is the scenario's full figure: twenty kills per database,
each at a random point of a steady flow of finalizes, every acknowledged finalize present
afterwards, none half-written or duplicated, SQLite's integrity and foreign-key checks clean.
The servers fork from the test process's fork server (``tests/forks.py``), so a restart costs
a fork rather than a fresh interpreter; the time limit is a bound for a stuck run, not a target.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from bench.loadkit import checks
from bench.loadkit.scenarios import submit_until_killed
from bench.loadkit.servers import Served, Zygote, server_env, wait_ready
from bench.loadkit.world import Invited, build_world, form_fields, question_kinds
from surveys.db import is_sqlite
from tests.reliability.conftest import soak_sized

CLIENTS = 4
# Each round kills the server at a random moment of this window (seconds) after it acknowledged
# its first few finalizes; it finalizes a dozen or two centres in it, out of the round's share.
KILL_WINDOW = 0.6
PER_ROUND = 30


def kill_9(server: Served) -> None:
    """SIGKILL; a process that is already gone while it is watched counts as gone."""
    with contextlib.suppress(ProcessLookupError):
        server.kill()


def kill_9_later(server: Served, *, acknowledged: int, then: float) -> None:
    """SIGKILL ``then`` seconds after the server has acknowledged ``acknowledged`` finalizes
    (counted in its access log), so that kills land at random points of a steady flow rather
    than all in a fresh server's first, slower requests."""
    give_up = time.monotonic() + 10
    while time.monotonic() < give_up:
        if server.log_text().count('" 303') >= acknowledged:
            break
        time.sleep(0.02)
    time.sleep(then)
    kill_9(server)


def test_every_acknowledged_finalize_survives_kill_9(
    server_database: str,
    shared_zygote: Zygote,
    report_figures: Callable[[str], None],
    tmp_path: Path,
) -> None:
    rounds = soak_sized(20, 200)
    # A bound, not an expectation: twenty rounds take under a minute on a quiet machine.
    deadline = time.monotonic() + soak_sized(600, 3600)
    # A full queue for every round: a round that ran out of centres would kill an idle server
    # (after waiting out kill_9_later's ten seconds for finalizes that never come).
    world = build_world(server_database, centres=rounds * PER_ROUND, open_sessions=True)
    fresh = list(world.invited)
    rng = random.Random(16)  # noqa: S311 - reproducible kill points, not a secret
    kinds = question_kinds(world.questions)
    answers = {entry.centre_id: form_fields(rng, kinds) for entry in fresh}
    env = server_env(server_database, tmp_path / "data")
    acknowledged: dict[int, str] = {}
    in_flight: list[Invited] = []  # sent when the server died: retried first after the restart
    killed_mid_request = 0

    def boot(number: int) -> tuple[Served, Future[None]]:
        """Fork the next server now; it gets ready while the current one is under load, so a
        restart costs little more than the kill."""
        server = shared_zygote.spawn(env, tmp_path / f"server-{number}.log", wait=False)
        return server, booting.submit(wait_ready, server.base, server.pid, server.log)

    kills = 0
    with ThreadPoolExecutor(max_workers=1) as booting:
        server, ready = boot(0)
        while kills < rounds and time.monotonic() < deadline:
            ready.result()
            following, ready = boot(kills + 1)
            queue = fresh[-PER_ROUND:] + in_flight
            del fresh[-PER_ROUND:]
            result = asyncio.run(
                submit_until_killed(
                    server.base,
                    world.form_id,
                    queue,
                    answers,
                    clients_count=CLIENTS,
                    kill_after=0,
                    kill=partial(
                        kill_9_later,
                        server,
                        acknowledged=rng.randint(0, 3),
                        then=rng.uniform(0, KILL_WINDOW),
                    ),
                    deadline=120,
                )
            )
            kills += 1
            acknowledged.update(result.acknowledged)
            failed = sum(not outcome.ok for outcome in result.outcomes)
            killed_mid_request += sum(outcome.status is None for outcome in result.outcomes)
            in_flight = result.unacknowledged[:failed]
            fresh.extend(result.unacknowledged[failed:])
            assert not server.alive()
            server = following
        ready.result()

    settled = asyncio.run(
        submit_until_killed(
            server.base,
            world.form_id,
            in_flight,
            answers,
            clients_count=CLIENTS,
            kill_after=0,
            kill=None,
            deadline=300,
        )
    )
    acknowledged.update(settled.acknowledged)
    server.stop()

    ledger = checks.ledger(server_database, world.slug)
    present = set(ledger.submitted)
    lost = set(acknowledged.values()) - present
    report_figures(
        f"scenario 16: {kills} kills, "
        f"{killed_mid_request} requests cut by a kill, acknowledged "
        f"{len(acknowledged) - len(lost)}/{len(acknowledged)} present, "
        f"{len(ledger.half_written)} half-written"
    )
    assert kills == rounds, f"only {kills} of {rounds} kills before the deadline"
    assert killed_mid_request > 0, "no kill landed while a finalize was in flight"
    assert acknowledged, "no finalize was acknowledged between the kills"
    assert lost == set()
    assert settled.unacknowledged == [], [o.detail for o in settled.outcomes if not o.ok][:3]
    assert ledger.duplicates == []
    assert ledger.half_written == []
    by_centre = {entry.centre_id: entry.submission_uuid for entry in world.invited}
    assert all(by_centre[centre] == key for centre, key in acknowledged.items())
    if is_sqlite(server_database):
        integrity, foreign = checks.sqlite_health(checks.sqlite_path(server_database))
        assert integrity == ["ok"]
        assert foreign == []
