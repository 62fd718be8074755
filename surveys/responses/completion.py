"""How far a campaign has got: centres invited, started and submitted (by country and by
questionnaire domain), and which centres still owe a submission.

Counted within the actor's scope, as every staff read is (RELIABILITY.md 3.2): a domain lead
counts the responses of their domains. A draft counts only as "started".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.campaigns.lifecycle import campaign_versions, expected_centres
from surveys.campaigns.models import Campaign, CampaignCentre, CampaignQuestionnaire
from surveys.policy import Actor, country_clause, domain_clause
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country
from surveys.responses.models import FINAL_STATUSES, Response, ResponseStatus

STARTED_STATUSES = (ResponseStatus.DRAFT, ResponseStatus.SUBMITTED, ResponseStatus.APPROVED)
NO_DOMAIN = "unassigned"


@dataclass(frozen=True)
class CompletionRow:
    key: str
    invited: int
    started: int
    submitted: int

    @property
    def response_rate(self) -> float:
        return self.submitted / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class Completion:
    total: CompletionRow
    by_country: list[CompletionRow]
    by_domain: list[CompletionRow]


def completion(session: Session, actor: Actor, campaign: Campaign) -> Completion:
    """Centres invited, started (a draft or a submission) and submitted, by country and by
    questionnaire domain, counting only responses in the actor's scope."""
    in_countries = country_clause(actor, Country.iso2)
    invited: dict[str, int] = dict(
        session.execute(
            select(Country.iso2, func.count(CampaignCentre.id))
            .join(Centre, Centre.id == CampaignCentre.centre_id)
            .join(Country, Country.id == Centre.country_id)
            .where(CampaignCentre.campaign_id == campaign.id, in_countries)
            .group_by(Country.iso2)
        ).all()
    )
    domain = func.coalesce(Questionnaire.domain, NO_DOMAIN)
    domains = sorted(
        set(
            session.scalars(
                select(domain)
                .select_from(CampaignQuestionnaire)
                .join(
                    QuestionnaireVersion,
                    QuestionnaireVersion.id == CampaignQuestionnaire.questionnaire_version_id,
                )
                .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
                .where(
                    CampaignQuestionnaire.campaign_id == campaign.id,
                    domain_clause(actor, Questionnaire.domain),
                )
            )
        )
    )

    def centres(statuses: tuple[str, ...], by: Any | None) -> dict[str, int]:
        columns = [by] if by is not None else []
        query = (
            select(*columns, func.count(func.distinct(Response.centre_id)))
            .select_from(Response)
            .join(Centre, Centre.id == Response.centre_id)
            .join(Country, Country.id == Centre.country_id)
            .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
            .join(
                CampaignCentre,
                (CampaignCentre.campaign_id == Response.campaign_id)
                & (CampaignCentre.centre_id == Response.centre_id),
            )
            .where(
                Response.campaign_id == campaign.id,
                Response.status.in_(statuses),
                domain_clause(actor, Questionnaire.domain),
                in_countries,
            )
        )
        if by is None:
            return {"": session.scalar(query) or 0}
        return {str(row[0]): int(row[1]) for row in session.execute(query.group_by(by))}

    started_c, submitted_c = (
        centres(STARTED_STATUSES, Country.iso2),
        centres(FINAL_STATUSES, Country.iso2),
    )
    started_d, submitted_d = centres(STARTED_STATUSES, domain), centres(FINAL_STATUSES, domain)
    all_invited = sum(invited.values())
    return Completion(
        total=CompletionRow(
            "total",
            all_invited,
            centres(STARTED_STATUSES, None)[""],
            centres(FINAL_STATUSES, None)[""],
        ),
        by_country=[
            CompletionRow(code, count, started_c.get(code, 0), submitted_c.get(code, 0))
            for code, count in sorted(invited.items())
        ],
        by_domain=[
            CompletionRow(code, all_invited, started_d.get(code, 0), submitted_d.get(code, 0))
            for code in domains
        ],
    )


def centres_not_submitted(session: Session, campaign: Campaign) -> list[Centre]:
    """Expected centres still missing a submitted response to at least one questionnaire."""
    wanted = {v.questionnaire_id for v in campaign_versions(session, campaign)}
    done: dict[int, set[int]] = {}
    for centre_id, questionnaire_id in session.execute(
        select(Response.centre_id, Response.questionnaire_id).where(
            Response.campaign_id == campaign.id, Response.status.in_(FINAL_STATUSES)
        )
    ):
        done.setdefault(centre_id, set()).add(questionnaire_id)
    return [c for c in expected_centres(session, campaign) if not wanted <= done.get(c.id, set())]
