"""A populated database to load: a long questionnaire, many invited centres, staff API tokens.

Everything is made through the services (or, for bulk data that only needs to exist, plain INSERTs
of the same rows), on a migrated database. Each simulated client submits as a different centre,
because a campaign holds one submitted response per centre and questionnaire.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from surveys import migrate
from surveys.accounts.models import User
from surveys.accounts.schemas import TokenCreate
from surveys.accounts.tokens import issue_token
from surveys.audit.models import AuditEvent
from surveys.campaigns import respondents
from surveys.campaigns.invitations import issue_invitation
from surveys.campaigns.lifecycle import campaign_versions, create_synthetic_campaign, open_campaign
from surveys.campaigns.models import Campaign, CampaignCentre, CampaignGrant
from surveys.db import make_engine, make_session_factory, transaction, utcnow
from surveys.policy import Permission, system_actor
from surveys.questionnaires.answers import validate_answers
from surveys.questionnaires.definitions.compiled import compile_definition
from surveys.questionnaires.definitions.tables import read_markdown
from surveys.questionnaires.service import import_definition, publish_version
from surveys.registry.countries import seed_countries
from surveys.registry.models import Centre, Country, Population
from surveys.responses.models import Response, ResponseStatus, ResponseVersion, ReviewState
from surveys.responses.submission import answers_hash, start_draft

FORM_ID = "bench_load"
LOADER = system_actor("system:bench")
DOMAIN = "radiomics"
INDICATOR = "bench_scanners"
CHOICES = ("alpha", "bravo", "charlie", "delta", "echo")
COUNTRIES = ("FR", "DE", "IT", "ES", "PL", "NL", "BE", "SE", "AT", "PT", "GR", "SI", "DK", "NO")
WORDS = ("scanner", "linac", "cyclotron", "waiting", "list", "staff", "nurse", "physicist", "é")
# A realistic mix: mostly numbers and choices, some free text and dates.
MIX = ["integer"] * 10 + ["decimal"] * 4 + ["select_one"] * 6 + ["select_multiple"] * 2
MIX += ["text"] * 5 + ["date"] * 3


def question_kinds(count: int) -> list[tuple[str, str]]:
    """``(name, type)`` of ``count`` questions; ``q000`` is the integer the indicator sums."""
    return [(f"q{i:03d}", MIX[i % len(MIX)]) for i in range(count)]


def form_markdown(count: int = 150) -> str:
    """A questionnaire of ``count`` questions with the logic real ones have.

    Every fifth question is required, integers carry a constraint, every seventh question is
    relevant only when ``q000`` is not negative (it never is in the generated answers, so a
    full response answers all ``count`` questions), and ``q000`` feeds an indicator.
    """
    header = "| | type | name | label::en | label::fr | required | relevant | constraint |"
    rows = ["| survey |", header]
    for index, (name, kind) in enumerate(question_kinds(count)):
        full = f"{kind} opts" if kind.startswith("select") else kind
        required = "yes" if index % 5 == 0 else ""
        relevant = "${q000} >= 0" if index % 7 == 3 else ""
        constraint = ". >= 0 and . <= 100000" if kind == "integer" else ""
        rows.append(
            f"| | {full} | {name} | Question {index} | Question {index} (fr) | {required} "
            f"| {relevant} | {constraint} |"
        )
    rows += ["| choices |", "| | list_name | name | label::en | label::fr |"]
    rows += [f"| | opts | {c} | {c.title()} | {c.upper()} |" for c in CHOICES]
    rows += [
        "| indicators |",
        "| | id | numerator | aggregation | denominator | label::en | label::fr | unit::en "
        "| unit::fr |",
        f"| | {INDICATOR} | ${{q000}} | sum | population_per_million | Scanners per million "
        "| Scanners par million | scanners per million | scanners par million |",
        "| settings |",
        "| | form_id | version | title::en | title::fr | domain |",
        f"| | {FORM_ID} | 1 | Load questionnaire | Questionnaire de charge | {DOMAIN} |",
    ]
    return "\n".join(rows) + "\n"


def form_fields(rng: random.Random, kinds: list[tuple[str, str]]) -> dict[str, Any]:
    """A complete, valid set of answers as the page posts them (text; lists for multiples)."""
    fields: dict[str, Any] = {}
    for name, kind in kinds:
        if kind == "integer":
            fields[name] = str(rng.randint(0, 5000))
        elif kind == "decimal":
            fields[name] = f"{rng.uniform(0, 1000):.3f}"
        elif kind == "select_one":
            fields[name] = rng.choice(CHOICES)
        elif kind == "select_multiple":
            fields[name] = rng.sample(CHOICES, rng.randint(1, 3))
        elif kind == "date":
            day = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
            fields[name] = day.isoformat()
        else:
            fields[name] = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
    return fields


@dataclass
class Invited:
    """One centre's way in: its invitation token and, when opened ahead, its session."""

    centre_id: int
    token: str
    cookie: str | None = None
    csrf: str | None = None
    expected_version: int | None = None
    submission_uuid: str | None = None


@dataclass
class World:
    url: str
    slug: str
    questions: int
    invited: list[Invited]
    tokens: dict[str, str] = field(default_factory=dict)  # role -> raw API token
    form_id: str = FORM_ID
    indicator: str = INDICATOR

    def take(self, count: int) -> list[Invited]:
        """Hand out ``count`` centres no client has used yet."""
        if count > len(self.invited):
            raise RuntimeError(f"only {len(self.invited)} unused centres left, {count} wanted")
        taken, self.invited = self.invited[:count], self.invited[count:]
        return taken


def _staff_token(session: Any, role: str, scopes: list[Permission], domains: list[str]) -> str:
    user = User(
        email=f"{role}.{uuid.uuid4().hex[:8]}@bench.invalid",
        display_name=f"Load {role}",
        password_hash="!unusable",  # noqa: S106 - no password sign-in for these accounts
        role=role,
        domains=domains,
        countries=[],
        active=True,
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    if role == "researcher":  # researchers read only the campaigns granted to them
        for campaign_id in session.scalars(select(Campaign.id)):
            session.add(CampaignGrant(user_id=user.id, campaign_id=campaign_id, granted_by="load"))
        session.flush()
    return issue_token(session, user, TokenCreate(name="load", scopes=scopes, days=7)).token


def build_world(
    url: str,
    *,
    centres: int,
    questions: int = 150,
    open_sessions: bool | int = False,
    slug: str = "load-1",
    migrated: bool = False,
) -> World:
    """Migrate ``url`` and fill it: one published questionnaire, ``centres`` invited centres.

    With ``open_sessions`` every invitation (or that many, the first ones) is also exchanged for
    a respondent session and a draft (what ``GET /i/{token}`` and the first form page do), so a
    client can submit with one request: the session cookie, its CSRF token and the draft's
    version are kept on :class:`Invited`.
    """
    opened = centres if open_sessions is True else int(open_sessions)
    if not migrated:
        migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = utcnow()
    try:
        with transaction(factory) as session:
            seed_countries(session)
            if not session.query(Population).filter_by(source="load test figures").count():
                session.add_all(
                    Population(
                        area_code=code,
                        area_level="country",
                        year=2024,
                        value=5_000_000 + 1_000_000 * i,
                        source="load test figures",
                    )
                    for i, code in enumerate(COUNTRIES)
                )
            version = _published_form(session, questions)
            country_ids = {
                c.iso2: c.id for c in session.query(Country).filter(Country.iso2.in_(COUNTRIES))
            }
            rows = [
                {
                    "name": f"Load centre {slug} {i}",
                    "country_id": country_ids[COUNTRIES[i % len(COUNTRIES)]],
                    "city": "Loadville",
                    "latitude": 40.0 + (i % 20) * 0.5,
                    "longitude": -5.0 + (i % 30),
                    "is_synthetic": True,
                }
                for i in range(centres)
            ]
            made = [Centre(**row) for row in rows]
            session.add_all(made)
            session.flush()
            campaign = create_synthetic_campaign(
                session,
                LOADER,
                slug=slug,
                name=f"Load {slug}",
                versions=[version],
                centres=made,
                request_id=None,
            )
            open_campaign(session, LOADER, campaign, request_id=None)
            invited = []
            for number, centre in enumerate(made):
                issued = issue_invitation(session, campaign, centre)
                entry = Invited(centre_id=centre.id, token=issued.token)
                if number < opened:
                    raw, row = respondents.open_session(
                        session, issued.token, now=now, request_id=None
                    )
                    draft = start_draft(session, campaign, centre, version, now=now)
                    entry.cookie, entry.csrf = raw, row.csrf_token
                    entry.expected_version = draft.version
                    entry.submission_uuid = draft.submission_uuid
                invited.append(entry)
            tokens = {
                "domain_lead": _staff_token(
                    session, "domain_lead", [Permission.MAPS_READ], [DOMAIN]
                ),
                "researcher": _staff_token(
                    session, "researcher", [Permission.EXPORT_PSEUDONYMISED], []
                ),
                "coordinator": _staff_token(
                    session,
                    "coordinator",
                    [Permission.EXPORT_IDENTIFIED, Permission.EXPORT_PSEUDONYMISED],
                    [],
                ),
            }
    finally:
        engine.dispose()
    return World(url=url, slug=slug, questions=questions, invited=invited, tokens=tokens)


def _published_form(session: Any, questions: int) -> Any:
    from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion

    found = session.scalar(
        select(QuestionnaireVersion)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.form_id == FORM_ID, QuestionnaireVersion.status == "published")
    )
    if found is not None:
        return found
    outcome = import_definition(session, read_markdown(form_markdown(questions), source="load"))
    return publish_version(session, FORM_ID, outcome.version.version)


def add_submitted(url: str, slug: str, count: int, *, seed: int = 11) -> int:
    """``count`` more submitted responses in campaign ``slug``, inserted in bulk.

    The answers are validated by the questionnaire (as a submission's are) and each row gets its
    version row and its ``response.finalize`` audit event, as a submission stores them; it is
    only faster than ``count`` requests.
    Returns the number of responses submitted in the campaign afterwards.
    """
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not a secret
    try:
        with transaction(factory) as session:
            campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
            assert campaign is not None
            version = campaign_versions(session, campaign)[0]
            form = compile_definition(version.definition)
            kinds = [
                (q.name, q.kind) for q in form.questions if q.takes_answer and q.kind != "group"
            ]
            busy = select(Response.centre_id).where(Response.campaign_id == campaign.id)
            free = list(
                session.scalars(
                    select(CampaignCentre.centre_id)
                    .where(
                        CampaignCentre.campaign_id == campaign.id,
                        CampaignCentre.centre_id.not_in(busy),
                    )
                    .order_by(CampaignCentre.centre_id.desc())
                    .limit(count)
                )
            )
            if len(free) < count:
                raise RuntimeError(f"only {len(free)} centres without a response, {count} wanted")
            now = utcnow()
            for start in range(0, count, 500):
                batch = []
                for centre_id in free[start : start + 500]:
                    validated = validate_answers(form, form_fields(rng, kinds))
                    assert validated.ok, validated.errors[:3]
                    batch.append(
                        {
                            "submission_uuid": str(uuid.uuid4()),
                            "campaign_id": campaign.id,
                            "centre_id": centre_id,
                            "questionnaire_id": version.questionnaire_id,
                            "questionnaire_version_id": version.id,
                            "status": ResponseStatus.SUBMITTED,
                            "review_state": ReviewState.RECEIVED,
                            "answers": validated.answers,
                            "answers_hash": answers_hash(validated.answers),
                            "version": 1,
                            "created_at": now,
                            "updated_at": now,
                            "submitted_at": now,
                        }
                    )
                ids = session.scalars(insert(Response).returning(Response.id), batch).all()
                session.execute(
                    insert(ResponseVersion),
                    [
                        {
                            "response_id": rid,
                            "number": 1,
                            "status": ResponseStatus.SUBMITTED,
                            "answers": row["answers"],
                            "answers_hash": row["answers_hash"],
                            "actor": "load",
                            "created_at": now,
                        }
                        for rid, row in zip(ids, batch, strict=True)
                    ],
                )
                session.execute(
                    insert(AuditEvent),
                    [
                        {
                            "at": now,
                            "actor": "system:load",
                            "action": "response.finalize",
                            "object_type": "response",
                            "object_id": str(rid),
                            "details": {"answers_hash": row["answers_hash"]},
                        }
                        for rid, row in zip(ids, batch, strict=True)
                    ],
                )
            return (
                session.scalar(
                    select(func.count(Response.id)).where(
                        Response.campaign_id == campaign.id,
                        Response.status == ResponseStatus.SUBMITTED,
                    )
                )
                or 0
            )
    finally:
        engine.dispose()
