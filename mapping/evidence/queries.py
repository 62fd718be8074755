"""The reads behind the evidence use cases that :mod:`mapping.queries` does not already offer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.campaigns.models import Campaign, CampaignQuestionnaire
from surveys.policy import Actor, scope_by_domain
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion


@dataclass(frozen=True)
class CampaignForm:
    """One questionnaire version of a campaign, with its domain and definition."""

    form_id: str
    domain: str
    definition: dict[str, Any]


def campaign_forms(session: Session, actor: Actor, campaign: Campaign) -> list[CampaignForm]:
    """The campaign's questionnaire versions within the actor's domains, in one query."""
    query = (
        select(QuestionnaireVersion.definition, Questionnaire.domain)
        .join(
            CampaignQuestionnaire,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(CampaignQuestionnaire.campaign_id == campaign.id)
        .order_by(QuestionnaireVersion.id)
    )
    return [
        CampaignForm(str(definition["settings"]["form_id"]), domain or "profile", definition)
        for definition, domain in session.execute(
            scope_by_domain(actor, query, Questionnaire.domain)
        )
    ]
