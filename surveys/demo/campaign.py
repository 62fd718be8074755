"""The demo campaign: the built-in catalogue sent to the synthetic centres, several hundred of
which have answered, through the same submission service as real centres.

The answers are synthetic but sized on published figures: before anyone answers, each country's
totals (megavoltage units from IAEA DIRAC, PET/CT scanners and surgical robots at a level drawn
for the country) are shared out over the centres that will answer (:mod:`surveys.demo.capacity`),
and every answer follows from what its centre has (:mod:`surveys.demo.answers`). Skip logic is
respected (the service drops what does not apply). Everything is deterministic from the seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.campaigns.invitations import issue_invitation
from surveys.campaigns.lifecycle import (
    close_campaign,
    create_synthetic_campaign,
    expected_centres,
    open_campaign,
)
from surveys.campaigns.models import Campaign
from surveys.demo.answers import rules_for, synthetic_answers
from surveys.demo.capacity import CentreFacts, Respondent, plan_country
from surveys.demo.profiles import CountryProfile, country_profiles
from surveys.demo.regions import catchments, region_populations, regional_shares
from surveys.policy import system_actor
from surveys.questionnaires.definitions.compiled import CompiledForm, compiled_form
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.questionnaires.service import load_catalogue
from surveys.registry.countries import countries_by_code
from surveys.registry.models import Centre
from surveys.responses.errors import InvalidAnswers
from surveys.responses.models import Response
from surveys.responses.submission import submit

DEMO_SLUG = "demo-2026"
DEMO_ACTOR = system_actor("system:demo")
DEMO_NAME = "Demo survey 2026 (synthetic data)"
DEMO_INVITED_SHARE = 0.35
DEMO_RESPONDING_SHARE = 0.7
DEMO_SEED = 2026
EARLIER_SLUG = "demo-2024"
EARLIER_NAME = "Demo survey 2024, earlier wave (synthetic data)"
EARLIER_RESPONDING_SHARE = 0.55
# The network invites enough of a country's centres that those who answer can hold its
# radiotherapy (DIRAC's megavoltage units) at about this many units each, or all of them.
UNITS_PER_RESPONDING_CENTRE = 7


@dataclass(frozen=True)
class DemoCampaign:
    """A loaded demo wave; a closed wave has no invitation (token and centre are empty)."""

    campaign: Campaign
    submitted: int
    invitation_token: str
    invited_centre: str


def invited_count(members: int, profile: CountryProfile, share: float) -> int:
    """How many of a country's ``members`` centres the demo network invites."""
    wanted = max(
        3,
        round(members * DEMO_INVITED_SHARE),
        math.ceil(profile.mv_units / (UNITS_PER_RESPONDING_CENTRE * max(share, 0.1))),
    )
    return min(members, wanted)


def spread_sample(members: list[Centre], k: int, rng: random.Random) -> list[Centre]:
    """``k`` of a country's centres spread over its regions: every n-th of them in the order of
    their regions, from a random start (a network invites centres across the country, not
    three in its capital).

    >>> from types import SimpleNamespace as C
    >>> members = [C(id=i, region_id=r) for i, r in enumerate([3, 1, 2, 1, 2, 3])]
    >>> sorted({c.region_id for c in spread_sample(members, 3, random.Random(1))})
    [1, 2, 3]
    """
    ordered = sorted(members, key=lambda c: (c.region_id or 0, c.id))
    if k >= len(ordered):
        return ordered
    step = len(ordered) / k
    start = rng.random() * step
    return [ordered[int(start + i * step)] for i in range(k)]


def _submit(
    session: Session,
    campaign: Campaign,
    centre: Centre,
    version: QuestionnaireVersion,
    form: CompiledForm,
    answers: dict[str, Any],
    now: dt.datetime,
) -> bool:
    """Submit through the service; drop the answers it refuses and try again (a few times)."""
    for _ in range(4):
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
        except InvalidAnswers as refused:
            for problem in refused.validated.errors:
                top = problem.loc[0] if problem.loc else None
                if isinstance(top, str) and problem.code == "required" and top in form.by_name:
                    answers[top] = (
                        "OK" if form.by_name[top].kind == "acknowledge" else answers.get(top, "")
                    )
                elif isinstance(top, str):
                    answers.pop(top, None)
            continue
        return True
    return False


@dataclass(frozen=True)
class DemoWave:
    """One wave of the demo: its campaign, when it ran, the year its figures refer to, and
    how its countries' capacity stood then beside the main wave's (1 = the same)."""

    slug: str
    name: str
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    reference_year: int | None
    capacity: float = 1.0
    imaging: float = 1.0
    robots: float = 1.0
    waits: float = 1.0
    closed: bool = False
    invite_share: float | None = None
    """The answering share the invitations are sized for (None: the share that answers)."""


EARLIER_WAVE = DemoWave(
    slug=EARLIER_SLUG,
    name=EARLIER_NAME,
    opens_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    closes_at=dt.datetime(2024, 6, 30, tzinfo=dt.UTC),
    reference_year=2023,
    # Two years earlier: about a tenth fewer megavoltage units, fewer PET/CT scanners and
    # surgical robots (the fastest-growing of the three), and longer waits.
    capacity=0.9,
    imaging=0.8,
    robots=0.65,
    waits=1.15,
    closed=True,
    # As many invitations as the main wave sends; fewer of them answered.
    invite_share=DEMO_RESPONDING_SHARE,
)


EARLIER_ANSWERED_ON = dt.datetime(2024, 4, 15, tzinfo=dt.UTC)


def earlier_profile(profile: CountryProfile, wave: DemoWave) -> CountryProfile:
    """A country as it stood at an earlier wave: capacity scaled, waits lengthened.

    Examples
    --------
    >>> from surveys.demo.profiles import country_profiles
    >>> now = country_profiles(["DE"], 2026)["DE"]
    >>> then = earlier_profile(now, EARLIER_WAVE)
    >>> then.mv_units < now.mv_units and then.wait_factor > now.wait_factor
    True
    """
    return replace(
        profile,
        mv_units=round(profile.mv_units * wave.capacity),
        pet_ct_per_million=profile.pet_ct_per_million * wave.imaging,
        robots_per_million=profile.robots_per_million * wave.robots,
        wait_factor=profile.wait_factor * wave.waits,
    )


def load_demo_campaign(
    session: Session,
    *,
    seed: int = DEMO_SEED,
    share: float = DEMO_RESPONDING_SHARE,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCampaign | None:
    """Create and fill the demo campaign (once); returns None when it exists already.

    The network invites part of the registry (its member centres, in every country); most of
    them answer every questionnaire, as a real survey asks everyone whether they offer a
    technology (and "no" is an answer).
    """
    now = now or dt.datetime.now(dt.UTC)
    wave = DemoWave(
        DEMO_SLUG, DEMO_NAME, now - dt.timedelta(days=30), now + dt.timedelta(days=60), None
    )
    return _load_wave(
        session, wave, seed=seed, share=share, now=now, progress=progress, profile_seed=seed
    )


def load_earlier_wave(
    session: Session,
    *,
    seed: int = 2024,
    share: float = EARLIER_RESPONDING_SHARE,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCampaign | None:
    """Create and fill the demo's earlier wave (2024, closed), once; None when it exists.

    The same questionnaires, sent to a sample of the same registry drawn from another seed, so
    most countries answered both waves; fewer centres answered, and each country had somewhat
    less capacity (:data:`EARLIER_WAVE`). It is dated before the main wave, so the main wave
    stays the newest campaign.
    """
    return _load_wave(
        session,
        EARLIER_WAVE,
        seed=seed,
        share=share,
        now=EARLIER_ANSWERED_ON,
        progress=progress,
        profile_seed=DEMO_SEED,
    )


def _load_wave(
    session: Session,
    wave: DemoWave,
    *,
    seed: int,
    share: float,
    now: dt.datetime,
    progress: Callable[[int, int], None] | None,
    profile_seed: int,
) -> DemoCampaign | None:
    if session.scalar(select(Campaign.id).where(Campaign.slug == wave.slug)) is not None:
        return None
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    versions = load_catalogue(session)
    codes = {country.id: country.iso2 for country in countries_by_code(session).values()}
    registry = session.scalars(
        select(Centre).where(Centre.is_synthetic.is_(True)).order_by(Centre.id)
    )
    by_country: dict[str, list[Centre]] = {}
    for centre in registry:
        by_country.setdefault(codes[centre.country_id], []).append(centre)
    # An earlier wave draws the countries of the main wave (its seed), as they stood then.
    profiles = {
        code: earlier_profile(profile, wave)
        for code, profile in country_profiles(sorted(by_country), profile_seed).items()
    }
    centres = [
        centre
        for code, members in sorted(by_country.items())
        for centre in spread_sample(
            members, invited_count(len(members), profiles[code], wave.invite_share or share), rng
        )
    ]
    campaign = create_synthetic_campaign(
        session,
        DEMO_ACTOR,
        slug=wave.slug,
        name=wave.name,
        versions=versions,
        centres=centres,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        request_id=None,
    )
    if wave.opens_at is not None and wave.closed:
        campaign.created_at = wave.opens_at - dt.timedelta(days=14)
    open_campaign(session, DEMO_ACTOR, campaign, request_id=None)
    facts = _plan(centres, codes, profiles, rng, share, seed, region_populations(session))
    if wave.reference_year is not None:
        facts = {c: replace(f, reference_year=wave.reference_year) for c, f in facts.items()}
    forms = [(v, compiled_form(v.definition, v.content_hash)) for v in versions]
    submitted = 0
    waiting: list[Centre] = []
    for done, centre in enumerate(centres, start=1):
        if progress is not None:
            progress(done, len(centres))
        if centre.id not in facts:
            waiting.append(centre)
            continue
        for version, form in forms:
            answer_rng = random.Random(f"{seed}:answers:{centre.id}:{form.form_id}")  # noqa: S311
            answers = synthetic_answers(form, rules_for(form.form_id), facts[centre.id], answer_rng)
            submitted += _submit(session, campaign, centre, version, form, answers, now)
        # Keep the unit of work small: thousands of tracked rows make every flush slower.
        session.flush()
        session.expunge_all()
    campaign = session.get_one(Campaign, campaign.id)
    if wave.closed:
        close_campaign(session, DEMO_ACTOR, campaign, request_id=None)
        return DemoCampaign(campaign, submitted, "", "")
    invited = waiting[0] if waiting else centres[0]
    issued = issue_invitation(session, campaign, invited)
    return DemoCampaign(campaign, submitted, issued.token, invited.name)


def _plan(
    centres: list[Centre],
    codes: dict[int, str],
    profiles: dict[str, CountryProfile],
    rng: random.Random,
    share: float,
    seed: int,
    populations: dict[int, tuple[int, int]],
) -> dict[int, CentreFacts]:
    """Who answers (``share`` of the invited), and what each of them has, country by country;
    a centre serves its share of its region's population (``populations``: country id and
    people, by region id)."""
    answering: dict[str, list[Centre]] = {}
    for centre in centres:
        if rng.random() <= share:
            answering.setdefault(codes[centre.country_id], []).append(centre)
    facts: dict[int, CentreFacts] = {}
    for code, members in answering.items():
        homes = {c.id: c.region_id for c in members}
        people = {region: value for region, (_, value) in populations.items()}
        country_id = members[0].country_id
        served = catchments(homes, people)
        shares = regional_shares(
            homes, people, sum(v for c, v in populations.values() if c == country_id)
        )
        respondents = [
            Respondent(
                c.id,
                code,
                c.centre_type,
                tuple(c.accreditations),
                catchment=served[c.id],
                regional_share=shares[c.id],
            )
            for c in members
        ]
        facts.update(plan_country(profiles[code], respondents, seed))
    return facts


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
