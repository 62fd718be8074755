"""The demo campaign: the built-in catalogue sent to the synthetic centres, several hundred of
which have answered, through the same submission service as real centres.

Answers are generated from each questionnaire's own definition: values inside the constraints,
skip logic respected (the service drops what does not apply), and availability that varies by
country and centre type, so the demo maps show gaps to look at. Everything is synthetic.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.campaigns.invitations import issue_invitation
from surveys.campaigns.lifecycle import create_synthetic_campaign, expected_centres, open_campaign
from surveys.campaigns.models import Campaign
from surveys.policy import system_actor
from surveys.questionnaires.answers import validate_answers
from surveys.questionnaires.definitions.compiled import CompiledForm, Question, compiled_form
from surveys.questionnaires.service import load_catalogue
from surveys.registry.models import Centre
from surveys.responses.errors import InvalidAnswers
from surveys.responses.models import Response
from surveys.responses.submission import submit

DEMO_SLUG = "demo-2026"
DEMO_ACTOR = system_actor("system:demo")
DEMO_INVITED_SHARE = 0.35
DEMO_RESPONDING_SHARE = 0.7
BOUND = re.compile(r"\.\s*(?P<op>>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)")
CAPABILITY = {
    "comprehensive_cancer_centre": 0.85,
    "university_hospital": 0.7,
    "general_hospital": 0.35,
    "private_clinic": 0.4,
    "research_institute": 0.5,
    "other": 0.2,
}


@dataclass(frozen=True)
class DemoCampaign:
    campaign: Campaign
    submitted: int
    invitation_token: str
    invited_centre: str


def _bounds(question: Question) -> tuple[float, float]:
    low, high = 0.0, 50.0
    text = question.source_json.get("constraint", "")
    for match in BOUND.finditer(text):
        value = float(match["value"])
        if match["op"] in {">=", ">"}:
            low = value + (1 if match["op"] == ">" else 0)
        else:
            high = value - (1 if match["op"] == "<" else 0)
    return low, max(low, high)


def _number(question: Question, rng: random.Random, capability: float) -> float:
    low, high = _bounds(question)
    if high - low > 60:
        high = low + max(5.0, (high - low) * 0.05 * capability)
    if question.kind == "integer":
        return rng.randint(int(low), int(max(low, high)))
    return round(rng.uniform(low, high), 1)


def _answer(form: CompiledForm, question: Question, rng: random.Random, capability: float) -> Any:
    kind = question.kind
    if kind in {"integer", "decimal"}:
        if "year" in question.name:
            return 2025
        return _number(question, rng, capability)
    if kind == "range":
        return int(float(question.parameters.get("start", 0)))
    if kind == "date":
        return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == "acknowledge":
        return "OK"
    if kind == "text":
        if question.identifier:  # personal data: clearly fake values, never a real person
            if "mail" in question.name:
                return f"contact{rng.randint(1, 9999)}@example.org"
            return "Synthetic Contact"
        return rng.choice(["", "", "Synthetic demo answer."])
    options = [c.name for c in form.options(question) if c.name != "other"]
    if not options:
        return ""
    if kind == "select_one":
        if "yes" in options:
            roll = rng.random()
            if roll < capability:
                return "yes"
            return "planned" if "planned" in options and roll < capability + 0.15 else "no"
        return rng.choice(options)
    chosen = [o for o in options if o != "none" and rng.random() < 0.3]
    return chosen or ([options[0]] if options[0] != "none" else ["none"])


def _fill(
    form: CompiledForm, questions: list[Question], rng: random.Random, capability: float
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questions:
        if question.kind == "group":
            answers.update(_fill(form, question.children, rng, capability))
        elif question.kind == "repeat":
            answers[question.name] = [
                _fill(form, question.children, rng, capability) for _ in range(rng.randint(0, 2))
            ]
        elif question.takes_answer and not question.generated:
            value = _answer(form, question, rng, capability)
            if value not in ("", []):
                answers[question.name] = value
    return answers


def synthetic_answers(
    form: CompiledForm, rng: random.Random, capability: float
) -> dict[str, Any] | None:
    """Answers that pass the form's own validation, or None when none were found."""
    answers = _fill(form, form.questions, rng, capability)
    for _ in range(6):
        result = validate_answers(form, answers)
        if result.ok:
            return result.answers
        for problem in result.errors:
            top = problem.loc[0] if problem.loc else None
            if problem.code == "required" and isinstance(top, str) and top in form.by_name:
                question = form.by_name[top]
                answers[top] = _answer(form, question, rng, capability) or "OK"
            elif isinstance(top, str):
                answers.pop(top, None)
    return None


def load_demo_campaign(
    session: Session,
    *,
    seed: int = 2026,
    share: float = DEMO_RESPONDING_SHARE,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCampaign | None:
    """Create and fill the demo campaign (once); returns None when it exists already.

    The network invites part of the registry (its member centres, in every country); most of
    them answer every questionnaire, as a real survey asks everyone whether they offer a
    technology (and "no" is an answer).
    """
    if session.scalar(select(Campaign.id).where(Campaign.slug == DEMO_SLUG)) is not None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    versions = load_catalogue(session)
    registry = list(
        session.scalars(select(Centre).where(Centre.is_synthetic.is_(True)).order_by(Centre.id))
    )
    by_country: dict[int, list[Centre]] = {}
    for centre in registry:
        by_country.setdefault(centre.country_id, []).append(centre)
    centres = [
        centre
        for members in by_country.values()
        for centre in rng.sample(
            members, min(len(members), max(3, round(len(members) * DEMO_INVITED_SHARE)))
        )
    ]
    campaign = create_synthetic_campaign(
        session,
        DEMO_ACTOR,
        slug=DEMO_SLUG,
        name="Demo survey 2026 (synthetic data)",
        versions=versions,
        centres=centres,
        opens_at=now - dt.timedelta(days=30),
        closes_at=now + dt.timedelta(days=60),
        request_id=None,
    )
    open_campaign(session, DEMO_ACTOR, campaign, request_id=None)
    country_factor: dict[int, float] = {}
    forms = [(v, compiled_form(v.definition, v.content_hash)) for v in versions]
    submitted = 0
    waiting: list[Centre] = []
    for done, centre in enumerate(centres, start=1):
        if progress is not None:
            progress(done, len(centres))
        if rng.random() > share:
            waiting.append(centre)
            continue
        factor = country_factor.setdefault(centre.country_id, rng.uniform(0.45, 1.15))
        capability = min(0.97, CAPABILITY.get(centre.centre_type, 0.3) * factor)
        for version, form in forms:
            answers = synthetic_answers(form, rng, capability)
            if answers is None:
                continue
            try:
                submit(
                    session,
                    submission_uuid=str(uuid.uuid4()),
                    campaign=campaign,
                    centre=centre,
                    version=version,
                    answers=answers,
                    now=now,
                    actor=DEMO_ACTOR.label,
                )
            except InvalidAnswers:
                continue
            submitted += 1
        # Keep the unit of work small: thousands of tracked rows make every flush slower.
        session.flush()
        session.expunge_all()
    campaign = session.get_one(Campaign, campaign.id)
    invited = waiting[0] if waiting else centres[0]
    issued = issue_invitation(session, campaign, invited)
    return DemoCampaign(campaign, submitted, issued.token, invited.name)


def demo_invitation(session: Session) -> tuple[str, str] | None:
    """A fresh invitation link token to the demo campaign for a centre that has not answered."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == DEMO_SLUG))
    if campaign is None:
        return None
    answered = set(
        session.scalars(select(Response.centre_id).where(Response.campaign_id == campaign.id))
    )
    for centre in expected_centres(session, campaign):
        if centre.id not in answered:
            return issue_invitation(session, campaign, centre).token, centre.name
    return None
