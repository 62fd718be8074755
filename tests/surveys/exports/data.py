"""Test data for exports: an inline questionnaire with every exported type, a repeat and an
identifier question, and a builder that stores responses the only way real ones are stored
(through :func:`surveys.responses.submission.submit`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from surveys.campaigns.models import Campaign
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre
from surveys.responses import review, submission
from surveys.responses.models import Response
from tests.builders import make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)

EXPORT_FORM = """
| survey |
|        | type                  | name         | label::en      | label::fr           | identifier | relevant           | constraint |
|        | text                  | contact_name | Contact person | Personne de contact | yes        |                    |            |
|        | select_one yes_no     | has_pet      | PET/CT?        | TEP/TDM ?           |            |                    |            |
|        | integer               | units        | Units          | Unités              |            | ${has_pet} = 'yes' | . >= -10   |
|        | decimal               | share        | Share          | Part                |            |                    |            |
|        | date                  | since        | Since          | Depuis              |            |                    |            |
|        | select_multiple techs | techs        | Techniques     | Techniques          |            |                    |            |
|        | text                  | notes        | Notes          | Notes               |            |                    |            |
|        | begin_repeat          | devices      | Devices        | Appareils           |            |                    |            |
|        | text                  | vendor       | Vendor         | Fabricant           |            |                    |            |
|        | integer               | year         | Year           | Année               |            |                    |            |
|        | end_repeat            |              |                |                     |            |                    |            |
| choices |
|         | list_name | name         | label::en    | label::fr     |
|         | yes_no    | yes          | Yes          | Oui           |
|         | yes_no    | no           | No           | Non           |
|         | techs     | pet          | PET          | TEP           |
|         | techs     | spect        | SPECT        | TEMP          |
|         | techs     | theranostics | Theranostics | Théranostique |
| settings |
|          | form_id   | version | title::en        | title::fr          | domain           |
|          | nm_export | 1       | Nuclear medicine | Médecine nucléaire | nuclear_medicine |
"""

TRICKY_TEXT = 'Ünïcödé 👩🏽‍⚕️ 𝔘𝔫𝔦 עִבְרִית العربية e\u0301 "quoted", comma\r\nsecond line\nthird ☢'  # noqa: RUF001 - on purpose


def answers(index: int = 0, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "contact_name": f"Dr Secret {index}",
        "has_pet": "yes",
        "units": -3 if index == 0 else index,
        "share": 0.25,
        "since": "2019-05-01",
        "techs": ["pet", "theranostics"],
        "notes": TRICKY_TEXT,
        "devices": [{"vendor": '=HYPERLINK("http://x")', "year": 2020}, {"vendor": "Acme"}],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@dataclass
class ExportWorld:
    campaign: Campaign
    version: QuestionnaireVersion
    centres: list[Centre]
    responses: list[Response]


def submit_answers(
    session: Session,
    *,
    campaign: Campaign,
    centre: Centre,
    version: QuestionnaireVersion,
    values: dict[str, Any],
    approve: bool = False,
    now: dt.datetime = NOW,
) -> Response:
    outcome = submission.submit(
        session,
        submission_uuid=str(uuid.uuid4()),
        campaign=campaign,
        centre=centre,
        version=version,
        answers=values,
        now=now,
        actor="test",
    )
    if approve:
        review.review(session, outcome.response, "approved")
    return outcome.response


def make_world(
    session: Session,
    *,
    centres: int = 3,
    slug: str = "wave-x",
    countries: tuple[str, ...] = ("FR", "DE", "IT"),
    approve: int = 1,
) -> ExportWorld:
    """A published form, an open campaign, ``centres`` centres that each submitted once (the
    first ``approve`` approved), and one draft that must never be exported."""
    version = make_published_form(session, EXPORT_FORM)
    made = [
        make_centre(
            session,
            name=f"Secret Hospital {i}",
            country=countries[i % len(countries)],
            latitude=45.123456 + i,
            longitude=4.987654 + i,
        )
        for i in range(centres)
    ]
    extra = make_centre(session, name="Draft Only Hospital", country="ES")
    campaign = make_campaign(session, slug=slug, centres=[*made, extra], versions=[version])
    stored = [
        submit_answers(
            session,
            campaign=campaign,
            centre=centre,
            version=version,
            values=answers(i),
            approve=i < approve,
            now=NOW + dt.timedelta(days=i),
        )
        for i, centre in enumerate(made)
    ]
    draft = submission.start_draft(session, campaign, extra, version, now=NOW)
    submission.save_draft(
        session, draft, answers(99, notes="DRAFT-ONLY"), expected_version=draft.version, now=NOW
    )
    session.flush()
    return ExportWorld(campaign, version, made, stored)
