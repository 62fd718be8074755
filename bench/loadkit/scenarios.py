"""The load scenarios of RELIABILITY.md section D (and the driver of the crash test), as async
drivers shared by ``tests/reliability`` (bounded), ``bench/soak.py`` (full length) and the
benchmarks. Every loop is bounded by a count and by a deadline."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.loadkit import clients
from bench.loadkit.checks import Ledger
from bench.loadkit.clients import Outcome
from bench.loadkit.world import Invited, World, form_fields, question_kinds

# --- scenario 23: a burst of finalizes ---------------------------------------------------------


@dataclass
class BurstResult:
    sent: set[str]  # the submission UUIDs the form pages carried (one per centre)
    acknowledged: list[str]  # UUIDs of the receipts the server redirected to
    outcomes: list[Outcome]
    seconds: float

    @property
    def submits(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == "submit"]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


async def burst(
    base: str, world: World, *, clients_count: int, submissions: int, deadline: float = 300
) -> BurstResult:
    """``clients_count`` browsers share ``submissions`` centres; each centre finalizes once (a
    distinct submission UUID per centre).

    A centre whose session was opened ahead (``build_world(open_sessions=...)``) only posts its
    finalize, so the burst is of finalizes alone; any other first opens its invitation and loads
    the form, as a browser does, and those two requests are part of the burst.
    """
    rng = random.Random(23)  # noqa: S311 - reproducible answers, not a secret
    kinds = question_kinds(world.questions)
    sent: set[str] = set()

    def job(entry: Invited) -> Callable[[httpx.AsyncClient], Any]:
        async def run(client: httpx.AsyncClient) -> list[Outcome]:
            steps = []
            if entry.cookie is None:
                opened = await clients.open_invitation(client, world.form_id, entry)
                steps.append(opened)
                if not opened.ok:
                    return steps
            assert entry.submission_uuid is not None
            sent.add(entry.submission_uuid)
            fields = form_fields(rng, kinds)
            steps.append(await clients.submit_opened(client, world.form_id, entry, fields))
            return steps

        return run

    jobs = [job(entry) for entry in world.take(submissions)]
    outcomes, seconds = await clients.run_clients(
        base, clients_count, jobs, deadline_seconds=deadline
    )
    acknowledged = [o.submission_uuid for o in outcomes if o.ok and o.submission_uuid]
    return BurstResult(sent, acknowledged, outcomes, seconds)


# --- scenario 16: submitting while the server is killed ----------------------------------------


@dataclass
class CrashRound:
    acknowledged: dict[int, str]  # centre id -> receipt UUID
    unacknowledged: list[Invited]  # sent (or about to be) when the server died
    outcomes: list[Outcome]


async def submit_until_killed(
    base: str,
    form_id: str,
    queue: list[Invited],
    answers: dict[int, dict[str, Any]],
    *,
    clients_count: int,
    kill_after: float,
    kill: Callable[[], None] | None,
    deadline: float = 60,
) -> CrashRound:
    """Finalize centres from ``queue`` continuously until ``kill`` (SIGKILL) runs after
    ``kill_after`` seconds (without ``kill``, until the queue is done). Centres whose request got
    no answer are handed back, to be retried after the restart with the same answers (the
    idempotency key makes that safe)."""
    pending = list(queue)
    acknowledged: dict[int, str] = {}
    unacknowledged: list[Invited] = []
    outcomes: list[Outcome] = []
    stop_at = time.perf_counter() + deadline

    async def worker() -> None:
        async with clients.new_client(base) as client:
            while pending and time.perf_counter() < stop_at:
                entry = pending.pop()
                outcome = await clients.submit_opened(
                    client, form_id, entry, answers[entry.centre_id]
                )
                outcomes.append(outcome)
                if outcome.ok and outcome.submission_uuid:
                    acknowledged[entry.centre_id] = outcome.submission_uuid
                else:
                    unacknowledged.append(entry)
                    if outcome.status is None:  # the server is gone: stop this client
                        return

    async def killer() -> None:
        if kill is not None:
            await asyncio.sleep(kill_after)
            await asyncio.to_thread(kill)

    await asyncio.gather(killer(), *(worker() for _ in range(clients_count)))
    return CrashRound(acknowledged, unacknowledged + pending, outcomes)


# --- scenario 24: mixed realistic load ---------------------------------------------------------


@dataclass
class MixedPlan:
    seconds: float
    respondents: int = 20
    autosave_every: float = 5.0
    leads: int = 5
    lead_every: float = 10.0
    export_every: float = 60.0
    export_first_at: float = 5.0
    submit_every: float = 2.0


@dataclass
class ExportRun:
    sent_at: float
    first_byte_at: float
    done_at: float
    status: int | None
    keys: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class Submission:
    key: str
    sent_at: float
    acked_at: float | None


@dataclass
class MixedResult:
    outcomes: list[Outcome]
    exports: list[ExportRun]
    submissions: list[Submission]
    seconds: float
    started: float = 0.0  # perf_counter() when the load began

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]


def _json_body(response: httpx.Response) -> bool:
    """A non-empty JSON document (a broken body is a failed request, not a crashed client)."""
    try:
        return bool(response.json())
    except ValueError:
        return False


def _main_table(archive: zipfile.ZipFile, form_id: str) -> tuple[list[str], dict[str, Any]]:
    import json

    manifest = json.loads(archive.read("manifest.json"))
    name = next(n for n in archive.namelist() if n.rsplit("/", 1)[-1] == f"{form_id}.csv")
    text = archive.read(name).decode("utf-8-sig")
    keys = [row["response_key"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    return keys, manifest


async def export_once(base: str, token: str, slug: str, form_id: str) -> ExportRun:
    """The researcher's (here: coordinator's, identified, so keys are submission UUIDs) CSV."""
    sent = time.perf_counter()
    run = ExportRun(sent, sent, sent, None)
    try:
        async with (
            clients.new_client(base, Authorization=f"Bearer {token}") as client,
            client.stream(
                "GET", "/api/v1/exports/csv/identified", params={"campaign": slug}
            ) as response,
        ):
            run.status = response.status_code
            body = bytearray()
            first = True
            async for chunk in response.aiter_bytes():
                if first:
                    run.first_byte_at, first = time.perf_counter(), False
                body.extend(chunk)
        run.done_at = time.perf_counter()
        if run.status == 200:
            run.keys, run.manifest = _main_table(zipfile.ZipFile(io.BytesIO(bytes(body))), form_id)
    except (httpx.HTTPError, zipfile.BadZipFile, KeyError, StopIteration) as exc:
        run.error = f"{type(exc).__name__}: {exc}"
    return run


async def mixed_load(
    base: str,
    world: World,
    plan: MixedPlan,
    *,
    autosavers: list[Invited],
    submitters: list[Invited],
    seed: int = 24,
) -> MixedResult:
    """Respondents autosave, domain leads refresh indicator JSON and GeoJSON, a steady trickle of
    centres submit, and a researcher exports the CSV, all for ``plan.seconds``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible load, not a secret
    kinds = question_kinds(world.questions)
    outcomes: list[Outcome] = []
    exports: list[ExportRun] = []
    submissions: list[Submission] = []
    started = time.perf_counter()
    stop_at = started + plan.seconds

    async def pause(seconds: float) -> bool:
        """Sleep, unless that would pass the end; say whether to go on."""
        if time.perf_counter() + seconds >= stop_at:
            await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
            return False
        await asyncio.sleep(seconds)
        return True

    async def respondent(entry: Invited) -> None:
        answers = form_fields(rng, kinds)
        async with clients.new_client(base) as client:
            if not await pause(clients.jitter(rng, plan.autosave_every)):
                return
            while True:
                subset = {k: v for k, v in answers.items() if rng.random() < 0.7}
                outcomes.append(await clients.autosave(client, world.form_id, entry, subset))
                if not await pause(plan.autosave_every):
                    return

    async def lead() -> None:
        headers = {"Authorization": f"Bearer {world.tokens['domain_lead']}"}
        path = f"/api/v1/campaigns/{world.slug}/indicators/{world.indicator}"
        async with clients.new_client(base, **headers) as client:
            if not await pause(clients.jitter(rng, plan.lead_every)):
                return
            for round_ in range(100_000):
                url = path if round_ % 2 == 0 else f"{path}/geojson"
                t0 = time.perf_counter()
                try:
                    response = await client.get(url, params={"level": "country"})
                    ok = response.status_code == 200 and _json_body(response)
                    outcomes.append(
                        Outcome(
                            "dashboard",
                            ok,
                            response.status_code,
                            t0,
                            time.perf_counter() - t0,
                            "" if ok else response.text[:200],
                        )
                    )
                except httpx.HTTPError as exc:
                    outcomes.append(
                        Outcome("dashboard", False, None, t0, time.perf_counter() - t0, str(exc))
                    )
                if not await pause(plan.lead_every):
                    return

    async def submitter() -> None:
        async with clients.new_client(base) as client:
            for entry in submitters:
                if not await pause(plan.submit_every):
                    return
                assert entry.submission_uuid is not None
                record = Submission(entry.submission_uuid, time.perf_counter(), None)
                submissions.append(record)
                outcome = await clients.submit_opened(
                    client, world.form_id, entry, form_fields(rng, kinds)
                )
                outcomes.append(outcome)
                if outcome.ok:
                    record.acked_at = time.perf_counter()

    async def researcher() -> None:
        if not await pause(plan.export_first_at):
            return
        while True:
            run = await export_once(base, world.tokens["coordinator"], world.slug, world.form_id)
            exports.append(run)
            ok = run.status == 200 and not run.error
            outcomes.append(
                Outcome(
                    "export",
                    ok,
                    run.status,
                    run.sent_at,
                    run.done_at - run.sent_at,
                    run.error,
                )
            )
            if not await pause(plan.export_every):
                return

    await asyncio.gather(
        *(respondent(entry) for entry in autosavers[: plan.respondents]),
        *(lead() for _ in range(plan.leads)),
        submitter(),
        researcher(),
    )
    return MixedResult(outcomes, exports, submissions, time.perf_counter() - started, started)


def export_consistency(
    run: ExportRun, result: MixedResult, before: set[str], drafts: set[str], form_id: str
) -> list[str]:
    """Why an export is not a consistent snapshot (empty when it is).

    The snapshot was taken between the request and its first byte: it must hold every response
    submitted before the request was sent and none that was sent after the first byte came, no
    draft, no key twice, and its manifest must count what the file holds.
    """
    problems = []
    keys = set(run.keys)
    if len(keys) != len(run.keys):
        problems.append("a response appears twice")
    acked_before = {
        s.key for s in result.submissions if s.acked_at is not None and s.acked_at < run.sent_at
    }
    sent_by_first_byte = {s.key for s in result.submissions if s.sent_at < run.first_byte_at}
    if missing := (before | acked_before) - keys:
        problems.append(f"{len(missing)} responses submitted before the export are missing")
    if extra := keys - before - sent_by_first_byte:
        problems.append(f"{len(extra)} responses sent after the export started are in it")
    if leaked := keys & drafts:
        problems.append(f"{len(leaked)} drafts are in the export")
    if run.manifest.get("complete") is not True:
        problems.append("the manifest does not say the export is complete")
    rows = {t["name"]: t["rows"] for t in run.manifest.get("tables", [])}
    if rows.get(form_id) != len(run.keys) or run.manifest.get("responses") != len(run.keys):
        problems.append(f"the manifest counts {rows}, the file holds {len(run.keys)} rows")
    return problems


def mixed_load_problems(
    result: MixedResult, before: Ledger, after: Ledger, form_id: str
) -> list[str]:
    """Why a mixed load broke scenario 24's promises (empty when it kept them).

    Failure ratio 0; every acknowledged submission stored once and nothing else added; at least
    one export, each a consistent snapshot (:func:`export_consistency`). ``before`` and
    ``after`` are the campaign's :func:`~bench.loadkit.checks.ledger` around the load.
    """
    problems = []
    if failures := result.failures:
        kinds: dict[str, int] = {}
        for outcome in failures:
            key = f"{outcome.kind} {outcome.status}"
            kinds[key] = kinds.get(key, 0) + 1
        samples = sorted({f"{o.kind} {o.status} {o.detail[:160]}" for o in failures})[:5]
        problems.append(f"{len(failures)} of {len(result.outcomes)} failed {kinds}: {samples}")
    acknowledged = {s.key for s in result.submissions if s.acked_at is not None}
    if not result.submissions:
        problems.append("no submission was sent")
    if after.duplicates:
        problems.append(f"{len(after.duplicates)} submissions are stored twice")
    if lost := acknowledged - set(after.submitted):
        problems.append(f"{len(lost)} acknowledged submissions are not stored")
    if stray := set(after.submitted) - set(before.submitted) - acknowledged:
        problems.append(f"{len(stray)} stored submissions were never acknowledged")
    if after.half_written:
        problems.append(f"{len(after.half_written)} submissions are half written")
    if not result.exports:
        problems.append("no export ran")
    for run in result.exports:
        for problem in export_consistency(
            run, result, set(before.submitted), after.drafts, form_id
        ):
            problems.append(f"export at {run.sent_at - result.started:.1f} s: {problem}")
    return problems
