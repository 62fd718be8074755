"""Every ORM model, registered in one place so Alembic and the tests see the whole schema."""

from surveys.accounts.models import ApiToken, User
from surveys.audit.models import AuditEvent
from surveys.campaigns.models import Campaign, CampaignCentre, CampaignQuestionnaire, Invitation
from surveys.db import Base
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Contact, Country, Population, Region
from surveys.responses.models import Response, ResponseVersion

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Campaign",
    "CampaignCentre",
    "CampaignQuestionnaire",
    "Centre",
    "Contact",
    "Country",
    "Invitation",
    "Population",
    "Questionnaire",
    "QuestionnaireVersion",
    "Region",
    "Response",
    "ResponseVersion",
    "User",
]
