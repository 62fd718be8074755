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
    "country": lambda w, role: "FR",
    "code": lambda w, role: "FR",
    "table": lambda w, role: "areas",
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


# --- the data-scope matrix (issue 14, point 2; scenario 33) -------------------------------------
#
# Status codes are not enough: a route may answer 200 to a lead of domain A with domain B's data
# in the body. Every GET route a domain lead may call is requested with domain B's objects in its
# path (and B's names in the usual filters), and the body must hold nothing of B: no form id,
# title, campaign, answer or indicator of B. A lead limited to one country gets nothing of the
# other country's centres either. The same requests with domain A's objects must show A's data
# on some routes, so a route that shows nothing at all cannot pass for a scoped one.


def scope_form(form_id: str, title: str, domain: str, indicator: str) -> str:
    return f"""
| survey |
|        | type              | name  | label::en  |
|        | select_one yes_no | has   | Offered?   |
|        | integer           | units | Units      |
|        | text              | notes | Notes      |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| indicators |
|            | id          | numerator | aggregation | denominator | label::en  | unit::en |
|            | {indicator} | ${{units}} | sum         | none        | {title} KPI | units   |
| settings |
|          | form_id   | version | form_title | domain   |
|          | {form_id} | 1       | {title}    | {domain} |
"""


# What must never reach the lead of domain A (nuclear medicine), and what shows A's data. A
# marker the request itself carries (an id in the path, a filter) is not looked for in that
# answer: "no campaign is called 'scope-bravo'" only repeats what was asked.
FOREIGN_MARKERS = ("scope_bravo", "Scope Bravo", "scope-bravo", "Scope-Bravo", "BRAVO-ANSWER")
OWN_MARKERS = ("Scope Alpha", "ALPHA-ANSWER")
# What must never reach a lead limited to France.
FOREIGN_COUNTRY_MARKERS = ("Delta Hospital DE", "DELTA-ANSWER")
# The filters list routes take, set to the other domain's (or country's) data.
DOMAIN_QUERY = {"campaign": "scope-both", "questionnaire": "scope_bravo", "domain": "radiotherapy"}
COUNTRY_QUERY = {"campaign": "scope-both", "country": "DE"}


@dataclass
class ScopeWorld:
    own: dict[str, str] = field(default_factory=dict)
    foreign: dict[str, str] = field(default_factory=dict)
    foreign_country: dict[str, str] = field(default_factory=dict)


def build_scope_world(session_factory: sessionmaker[Session]) -> ScopeWorld:
    """Forms of two domains, a campaign of each and one of both, answered in France and
    Germany; the ids to put in paths for each kind of check."""
    from surveys.responses import review
    from tests.builders import make_campaign, make_published_form
    from tests.surveys.exports.data import submit_answers

    with session_factory() as session, session.begin():
        alpha = make_published_form(
            session, scope_form("scope_alpha", "Scope Alpha", "nuclear_medicine", "alpha_kpi")
        )
        bravo = make_published_form(
            session, scope_form("scope_bravo", "Scope Bravo", "radiotherapy", "bravo_kpi")
        )
        french = make_centre(session, name="Charlie Hospital FR", country="FR")
        german = make_centre(session, name="Delta Hospital DE", country="DE")
        centres = [french, german]
        make_campaign(session, slug="scope-alpha", centres=centres, versions=[alpha])
        make_campaign(session, slug="scope-bravo", centres=centres, versions=[bravo])
        both = make_campaign(session, slug="scope-both", centres=centres, versions=[alpha, bravo])
        ids: dict[tuple[str, str], str] = {}
        for centre, country_marker in ((french, "CHARLIE"), (german, "DELTA-ANSWER")):
            for version, marker in ((alpha, "ALPHA-ANSWER"), (bravo, "BRAVO-ANSWER")):
                response = submit_answers(
                    session,
                    campaign=both,
                    centre=centre,
                    version=version,
                    values={"has": "yes", "units": 3, "notes": f"{marker} {country_marker}"},
                )
                review.review(session, response, "approved")
                ids[(centre.public_id, marker)] = str(response.id)
        own = {
            "form_id": "scope_alpha",
            "slug": "scope-both",
            "indicator": "alpha_kpi",
            "response_id": ids[(french.public_id, "ALPHA-ANSWER")],
            "centre_id": french.public_id,
        }
        return ScopeWorld(
            own=own,
            foreign={
                **own,
                "form_id": "scope_bravo",
                "slug": "scope-bravo",
                "indicator": "bravo_kpi",
                "response_id": ids[(french.public_id, "BRAVO-ANSWER")],
            },
            foreign_country={
                **own,
                "response_id": ids[(german.public_id, "ALPHA-ANSWER")],
                "centre_id": german.public_id,
            },
        )


def lead_routes(app: FastAPI) -> list[RouteCase]:
    """The GET routes a domain lead may call (their own data, not respondents' or probes')."""
    granted = ROLE_PERMISSIONS[Role.DOMAIN_LEAD]
    cases, _ = route_cases(app)
    return [
        c
        for c in cases
        if c.method == "GET"
        and isinstance(c.rule, Require)
        and (c.rule.permission is None or c.rule.permission in granted)
    ]


def scope_leaks(
    client: TestClient,
    cases: list[RouteCase],
    values: dict[str, str],
    markers: tuple[str, ...],
    query: dict[str, str],
) -> tuple[list[str], int]:
    """The routes whose body holds a marker (list routes: also with the foreign filters); and
    how many answers were read."""
    leaks = []
    read = 0
    for case in cases:
        if "fmt" in case.params and values["slug"] == "scope-both":
            continue  # a figure of the lead's own domain: areas only, no centre (and slow)
        filled = {p: values.get(p) or SAMPLES[p](World(), "domain_lead") for p in case.params}
        filled |= {"fmt": "svg"} if "fmt" in case.params else {}  # text, searchable
        url = url_for(case, filled)
        for params in ({}, query) if not case.params else ({},):
            answer = client.get(url, params=params, follow_redirects=False)
            read += 1
            assert answer.status_code < 500, f"{url}: {answer.status_code}"
            asked = url + repr(params)
            found = [m for m in markers if m not in asked and m in answer.text]
            if found:
                leaks.append(f"{url} {params or ''} -> {answer.status_code}: {found}")
    return leaks, read


def test_a_lead_receives_nothing_of_another_domain_or_country(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    from tests.accounts_fixtures import sign_in

    world = build_scope_world(session_factory)
    cases = lead_routes(client.app)  # type: ignore[arg-type]
    sign_in(client, session_factory, role="domain_lead", domains=["nuclear_medicine"])
    leaks, read = scope_leaks(client, cases, world.foreign, FOREIGN_MARKERS, DOMAIN_QUERY)
    assert not leaks, "domain B's data reached the lead of domain A:\n" + "\n".join(leaks)
    # The lead's own domain is there: forms, versions, campaigns, responses, indicators, maps.
    for path in (
        "/api/v1/forms",
        "/api/v1/forms/{form_id}/versions/{version}",
        "/api/v1/campaigns/{slug}",
        "/api/v1/responses/{response_id}",
        "/api/v1/campaigns/{slug}/indicators",
        "/coordinator/campaigns/{slug}",
        "/coordinator/responses/{response_id}",
        "/maps/{slug}/{indicator}",
    ):
        (case,) = [c for c in cases if c.path == path]
        body = client.get(url_for(case, {p: world.own.get(p, "1") for p in case.params})).text
        assert any(m in body for m in OWN_MARKERS), f"{path} shows nothing of the lead's domain"

    # A lead of the same domain limited to France: nothing of the German centre.
    client.cookies.clear()
    sign_in(
        client,
        session_factory,
        role="domain_lead",
        domains=["nuclear_medicine"],
        countries=["FR"],
    )
    leaks, more = scope_leaks(
        client, cases, world.foreign_country, FOREIGN_COUNTRY_MARKERS, COUNTRY_QUERY
    )
    assert not leaks, "another country's data reached a country-scoped lead:\n" + "\n".join(leaks)
    assert "Charlie Hospital FR" in client.get("/api/v1/centres").text
    print(f"data-scope matrix: {len(cases)} routes, {read + more} requests as scoped leads")
