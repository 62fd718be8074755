"""Every route x every role, generated from ``app.routes`` (RELIABILITY.md scenario 32, section 3).

The expected answer comes from the rule each route declares (``api.auth.Require(permission)``,
``Public()``, ``Probe()``, ``ByInvitation()``) and the role table of ``surveys.policy``:

* a route that declares no rule fails ``test_every_route_declares_its_access_rule``;
* anonymous on a protected route: 401 problem (API) or 303 to ``/login`` (pages);
* a role without the permission: 403; with it: neither 401 nor 403, and never 5xx;
* a path parameter naming an object another user owns answers exactly like a missing id (404).

Adding a route: declare its rule on the route (one line). If its path has a new parameter name,
add one line to ``SAMPLES`` below (and to ``FOREIGN`` if the object belongs to someone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.auth import (
    INVITATION_PREFIXES,
    PUBLIC_MOUNT_PREFIXES,
    PUBLIC_PATHS,
    ByInvitation,
    Require,
)
from surveys.accounts import sessions
from surveys.accounts.models import ApiToken
from surveys.policy import ROLE_PERMISSIONS, Permission, Role, staff_actor
from tests.accounts_fixtures import (
    ROLES,
    SESSION_COOKIE,
    RouteCase,
    issue_token,
    make_user,
    route_cases,
)
from tests.builders import make_centre

ACTORS = ("anonymous", *ROLES)
MISSING_ID = "2147483647"


@dataclass
class World:
    """The objects the requests point at: one of each, owned by someone per role."""

    centre_id: str = ""
    target_user_id: int = 0
    user_ids: dict[str, int] = field(default_factory=dict)
    own_tokens: dict[str, int] = field(default_factory=dict)
    foreign_token: int = 0


# How to fill each path parameter for a role: an object that exists and the role may reach.
SAMPLES: dict[str, Callable[[World, str], str]] = {
    "centre_id": lambda w, role: w.centre_id,
    "user_id": lambda w, role: str(w.target_user_id),
    "token_id": lambda w, role: str(w.own_tokens.get(role, w.foreign_token)),
    "form_id": lambda w, role: "no_such_form",
    "version": lambda w, role: "1",
    "format": lambda w, role: "csv-long",
    "export_id": lambda w, role: "00000000-0000-4000-8000-000000000000",
    "release_id": lambda w, role: MISSING_ID,
    "grant_id": lambda w, role: MISSING_ID,
    "slug": lambda w, role: "no-such-campaign",
    "invitation_id": lambda w, role: MISSING_ID,
    "response_id": lambda w, role: MISSING_ID,
    "number": lambda w, role: "1",
    "token": lambda w, role: "no-such-invitation-token",
    "submission_uuid": lambda w, role: "00000000-0000-4000-8000-000000000000",
    "indicator": lambda w, role: "no_such_indicator",
    "fmt": lambda w, role: "png",
    "job_id": lambda w, role: MISSING_ID,
}

# Parameters naming an object someone owns: (the foreign object, whether the role may reach it).
FOREIGN: dict[str, tuple[Callable[[World], str], Callable[[str], bool]]] = {
    "token_id": (
        lambda w: str(w.foreign_token),
        lambda role: (
            Permission.TOKENS_MANAGE
            in staff_actor(user_id=-1, role=role, domains=["radiomics"]).permissions
        ),
    ),
}


def build_world(session_factory: sessionmaker[Session]) -> World:
    world = World()
    with session_factory() as session, session.begin():
        world.centre_id = make_centre(session, name="Matrix centre", country="FR").public_id
        for role in ROLES:
            world.user_ids[role] = make_user(session, role=role).id
        world.target_user_id = make_user(session, role="researcher").id
        stranger = make_user(session, role="coordinator").id
    for role in ROLES:
        scopes = (
            [Permission.REGISTRY_READ]
            if role != "researcher"
            else [Permission.EXPORT_PSEUDONYMISED]
        )
        issue_token(session_factory, world.user_ids[role], scopes)
    issue_token(session_factory, stranger, [Permission.REGISTRY_READ])
    with session_factory() as session:
        for token in session.query(ApiToken).all():
            owner = {v: k for k, v in world.user_ids.items()}.get(token.user_id)
            if owner is None:
                world.foreign_token = token.id
            else:
                world.own_tokens[owner] = token.id
    return world


def fresh_client(
    client: TestClient, session_factory: sessionmaker[Session], world: World, actor: str
) -> tuple[TestClient, str]:
    """The client with its cookies cleared and a brand-new session of the role (so a logout in
    one case spoils nothing). One client serves every case: starting an app (its lifespan) per
    case cost more than the requests."""
    client.cookies.clear()
    if actor == "anonymous":
        client.get("/login")
        return client, client.cookies["accessgap_csrf"]
    with session_factory() as session, session.begin():
        from surveys.accounts.models import User

        user = session.get(User, world.user_ids[actor])
        assert user is not None
        raw, row = sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        csrf = row.csrf_token
    client.cookies.set(SESSION_COOKIE, raw, domain="testserver.local")
    return client, csrf


def url_for(case: RouteCase, values: dict[str, str]) -> str:
    url = case.path
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)
    return url


def call(client: TestClient, case: RouteCase, url: str, csrf: str):  # type: ignore[no-untyped-def]
    headers = {"X-CSRF-Token": csrf}
    if case.method in ("GET", "DELETE"):
        return client.request(case.method, url, headers=headers, follow_redirects=False)
    if case.api:
        return client.request(case.method, url, json={}, headers=headers, follow_redirects=False)
    return client.request(
        case.method, url, data={"csrf_token": csrf}, headers=headers, follow_redirects=False
    )


def expectation(case: RouteCase, actor: str) -> str:
    """``allowed``, ``unauthenticated`` or ``forbidden`` for this route and actor."""
    assert case.rule is not None
    if case.rule.public:
        return "allowed"
    if actor == "anonymous":
        return "unauthenticated"
    permission = case.rule.permission
    if permission is None or permission in ROLE_PERMISSIONS[Role(actor)]:
        return "allowed"
    return "forbidden"


def check(case: RouteCase, actor: str, response) -> str | None:  # type: ignore[no-untyped-def]
    """What is wrong with the answer, or None."""
    status = response.status_code
    expected = expectation(case, actor)
    if status >= 500:
        return f"{status} (server error)"
    if expected == "allowed" and status in (401, 403):
        return f"{status}, expected to be allowed"
    if expected == "forbidden" and status != 403:
        return f"{status}, expected 403"
    if expected == "unauthenticated":
        if case.api and status != 401:
            return f"{status}, expected 401"
        if not case.api and not (
            status == 303 and response.headers["location"].startswith("/login?next=")
        ):
            return f"{status}, expected 303 to /login"
    return None


def test_every_route_declares_its_access_rule(client: TestClient) -> None:
    cases, others = route_cases(client.app)  # type: ignore[arg-type]
    undeclared = [str(c) for c in cases if c.rule is None]
    assert not undeclared, (
        "these routes declare no access rule; add Depends(Require(Permission.X)) or "
        "Depends(Public()) to each:\n" + "\n".join(undeclared)
    )
    for path in others:
        assert path in PUBLIC_PATHS or path.startswith(PUBLIC_MOUNT_PREFIXES), path
    for case in cases:
        under_invitation = case.path.startswith(INVITATION_PREFIXES)
        assert under_invitation == isinstance(case.rule, ByInvitation), case
    for case in cases:
        if case.path.startswith("/admin"):
            assert isinstance(case.rule, Require), case
            assert case.rule.permission is not None, case


def test_every_route_for_every_role(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    world = build_world(session_factory)
    cases, _ = route_cases(app)
    one_client = client  # entered once by the fixture; each case clears its cookies
    failures: list[str] = []
    checked = 0
    for case in cases:
        if case.rule is None:
            continue  # reported by test_every_route_declares_its_access_rule
        missing_samples = [p for p in case.params if p not in SAMPLES]
        if missing_samples:
            failures.append(f"{case}: add a sample for {missing_samples} to SAMPLES")
            continue
        for actor in ACTORS:
            values = {p: SAMPLES[p](world, actor) for p in case.params}
            other, csrf = fresh_client(one_client, session_factory, world, actor)
            problem = check(case, actor, call(other, case, url_for(case, values), csrf))
            checked += 1
            if problem:
                failures.append(f"{case} as {actor}: {problem}")
    assert not failures, "\n".join(failures)
    assert checked == len([c for c in cases if c.rule is not None]) * len(ACTORS)
    print(
        f"route matrix: {checked} requests ({checked // len(ACTORS)} routes x {len(ACTORS)} roles)"
    )


def test_foreign_objects_answer_like_missing_ones(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    world = build_world(session_factory)
    cases, _ = route_cases(app)
    one_client = client  # entered once by the fixture; each case clears its cookies
    failures: list[str] = []
    compared = 0
    for case in cases:
        owned = [p for p in case.params if p in FOREIGN]
        if case.rule is None or not owned:
            continue
        for actor in ROLES:
            if expectation(case, actor) != "allowed":
                continue
            for param in owned:
                foreign, reachable = FOREIGN[param]
                if reachable(actor):
                    continue
                base = {p: SAMPLES[p](world, actor) for p in case.params}
                answers = []
                for value in (foreign(world), MISSING_ID):
                    other, csrf = fresh_client(one_client, session_factory, world, actor)
                    answers.append(call(other, case, url_for(case, {**base, param: value}), csrf))
                foreign_answer, missing_answer = answers
                compared += 1
                if foreign_answer.status_code != 404 or missing_answer.status_code != 404:
                    failures.append(
                        f"{case} as {actor}: foreign {foreign_answer.status_code}, "
                        f"missing {missing_answer.status_code}; both must be 404"
                    )
                elif strip_ids(foreign_answer) != strip_ids(missing_answer):
                    failures.append(f"{case} as {actor}: foreign and missing bodies differ")
    assert not failures, "\n".join(failures)
    assert compared > 0


def strip_ids(response) -> str:  # type: ignore[no-untyped-def]
    """The body without what differs on every request (request id, CSRF token, nonce)."""
    import re

    text = response.text
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", text)
    text = re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", text)
    return re.sub(r'nonce="[^"]+"', "NONCE", text)


@pytest.mark.parametrize("role", ROLES)
def test_role_table_grants_what_section_3_says(role: str) -> None:
    granted = ROLE_PERMISSIONS[Role(role)]
    assert Permission.ACCOUNT in granted
    if role != "admin":
        assert Permission.USERS_MANAGE not in granted
        assert Permission.PRIVACY_MANAGE not in granted
    if role in ("domain_lead", "researcher"):
        assert Permission.AUDIT_READ not in granted
        assert Permission.EXPORT_IDENTIFIED not in granted
        assert Permission.REGISTRY_WRITE not in granted
        assert Permission.RESPONSES_EDIT not in granted
    if role == "researcher":
        assert granted <= {
            Permission.ACCOUNT,
            Permission.TOKENS_OWN,
            Permission.REGISTRY_READ,
            Permission.EXPORT_PSEUDONYMISED,
        }
