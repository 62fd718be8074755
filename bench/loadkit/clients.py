"""Simulated clients (httpx, asyncio, loopback) and the figures their requests give."""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from bench.loadkit.world import Invited

RESPONDENT_COOKIE = "accessgap_respondent"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="expected_version" value="(\d+)"')
UUID_FIELD = re.compile(r'name="submission_uuid" value="([0-9a-f-]{36})"')
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass
class Outcome:
    """One request (or one step of a journey) as the client saw it."""

    kind: str
    ok: bool
    status: int | None
    started: float
    seconds: float
    detail: str = ""
    submission_uuid: str | None = None


def _failure(kind: str, started: float, exc: BaseException) -> Outcome:
    return Outcome(
        kind, False, None, started, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
    )


def submit_fields(
    invited: Invited, fields: dict[str, Any], action: str = "submit"
) -> dict[str, Any]:
    assert invited.csrf is not None
    assert invited.expected_version is not None
    return {
        "csrf_token": invited.csrf,
        "expected_version": str(invited.expected_version),
        "submission_uuid": invited.submission_uuid or "",
        "action": action,
        **fields,
    }


def respondent_headers(invited: Invited, **extra: str) -> dict[str, str]:
    assert invited.cookie is not None
    return {"Cookie": f"{RESPONDENT_COOKIE}={invited.cookie}", **extra}


async def submit_opened(
    client: httpx.AsyncClient, form_id: str, invited: Invited, fields: dict[str, Any]
) -> Outcome:
    """The finalize of a centre whose session and draft exist: one POST, 303 to the receipt."""
    started = time.perf_counter()
    try:
        response = await client.post(
            f"/r/forms/{form_id}",
            data=submit_fields(invited, fields),
            headers=respondent_headers(invited),
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return _failure("submit", started, exc)
    location = response.headers.get("location", "")
    ok = response.status_code == 303 and location.startswith("/r/receipt/")
    return Outcome(
        "submit",
        ok,
        response.status_code,
        started,
        time.perf_counter() - started,
        "" if ok else response.text[:300],
        location.rsplit("/", 1)[-1] if ok else None,
    )


async def autosave(
    client: httpx.AsyncClient, form_id: str, invited: Invited, fields: dict[str, Any]
) -> Outcome:
    """The page's background save (JSON); on success the draft's new version is kept."""
    started = time.perf_counter()
    try:
        response = await client.post(
            f"/r/forms/{form_id}",
            data=submit_fields(invited, fields, action="save"),
            headers=respondent_headers(invited, Accept="application/json"),
        )
    except httpx.HTTPError as exc:
        return _failure("autosave", started, exc)
    ok = response.status_code == 200
    if ok:
        try:
            invited.expected_version = int(response.json()["version"])
        except (ValueError, KeyError, TypeError) as exc:  # a 200 that is not the save's JSON
            return Outcome(
                "autosave", False, 200, started, time.perf_counter() - started, repr(exc)
            )
    return Outcome(
        "autosave",
        ok,
        response.status_code,
        started,
        time.perf_counter() - started,
        "" if ok else response.text[:300],
    )


async def open_invitation(client: httpx.AsyncClient, form_id: str, invited: Invited) -> Outcome:
    """``GET /i/{token}`` then the form page, as a browser does: session, CSRF, version, UUID."""
    started = time.perf_counter()
    try:
        opened = await client.get(f"/i/{invited.token}", follow_redirects=False)
        cookie = opened.cookies.get(RESPONDENT_COOKIE)
        if opened.status_code != 303 or not cookie:
            return Outcome("open", False, opened.status_code, started, 0.0, opened.text[:300])
        invited.cookie = cookie
        page = await client.get(f"/r/forms/{form_id}", headers=respondent_headers(invited))
    except httpx.HTTPError as exc:
        return _failure("open", started, exc)
    csrf, version, key = (
        CSRF.search(page.text),
        VERSION.search(page.text),
        UUID_FIELD.search(page.text),
    )
    if page.status_code != 200 or not (csrf and version and key):
        return Outcome("open", False, page.status_code, started, 0.0, page.text[:300])
    invited.csrf, invited.expected_version = csrf.group(1), int(version.group(1))
    invited.submission_uuid = key.group(1)
    return Outcome("open", True, 200, started, time.perf_counter() - started)


def new_client(base: str, **headers: str) -> httpx.AsyncClient:
    """One simulated user with its own connection.

    The cookie jar is emptied after every response: one client may act for several centres in
    turn, and each request names its centre's session in its own ``Cookie`` header.
    """
    client = httpx.AsyncClient(
        base_url=base,
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
        headers=headers,
    )

    async def forget_cookies(response: httpx.Response) -> None:
        client.cookies.clear()

    client.event_hooks["response"] = [forget_cookies]
    return client


async def run_clients(
    base: str,
    clients: int,
    jobs: Sequence[Callable[[httpx.AsyncClient], Awaitable[list[Outcome]]]],
    *,
    deadline_seconds: float,
) -> tuple[list[Outcome], float]:
    """``clients`` concurrent users work through ``jobs`` (each job is one user's errand).

    Returns every outcome and the wall time. Jobs not started when the deadline passes are
    skipped (and reported by the caller as missing), so a run is bounded in time as in count.
    """
    queue: asyncio.Queue[Callable[[httpx.AsyncClient], Awaitable[list[Outcome]]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    stop_at = started + deadline_seconds

    async def worker() -> None:
        async with new_client(base) as client:
            while time.perf_counter() < stop_at:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                outcomes.extend(await job(client))

    await asyncio.gather(*(worker() for _ in range(clients)))
    return outcomes, time.perf_counter() - started


@dataclass
class Figures:
    """Throughput and latency of one kind of request."""

    count: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    error_samples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(outcomes: Sequence[Outcome], seconds: float) -> Figures:
    good = [o.seconds * 1000 for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return Figures(
        count=len(outcomes),
        errors=len(bad),
        seconds=round(seconds, 3),
        per_second=round(len(good) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=rounded(percentile(good, 50)),
        p95_ms=rounded(percentile(good, 95)),
        p99_ms=rounded(percentile(good, 99)),
        max_ms=rounded(max(good) if good else None),
        error_samples=sorted({f"{o.status} {o.detail[:160]}" for o in bad})[:5],
    )


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def jitter(rng: random.Random, seconds: float) -> float:
    """A start offset in [0, seconds), so that periodic clients do not march in step."""
    return rng.uniform(0, seconds)
