"""Every ORM model, registered in one place so Alembic and the tests see the whole schema."""

from surveys.accounts.models import ApiToken, LoginThrottle, StaffSession, User
from surveys.audit.models import AuditEvent
from surveys.campaigns.models import (
    Campaign,
    CampaignCentre,
    CampaignQuestionnaire,
    Invitation,
    RespondentSession,
)
from surveys.db import Base
from surveys.exports.models import DatasetRelease, DatasetReleaseRecord
from surveys.jobs.models import Job, JobResult
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import (
    BoundaryVersion,
    Centre,
    Contact,
    Country,
    Population,
    ReferenceFigure,
    Region,
)
from surveys.responses.models import Response, ResponseComment, ResponseVersion

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "BoundaryVersion",
    "Campaign",
    "CampaignCentre",
    "CampaignQuestionnaire",
    "Centre",
    "Contact",
    "Country",
    "DatasetRelease",
    "DatasetReleaseRecord",
    "Invitation",
    "Job",
    "JobResult",
    "LoginThrottle",
    "Population",
    "Questionnaire",
    "QuestionnaireVersion",
    "ReferenceFigure",
    "Region",
    "RespondentSession",
    "Response",
    "ResponseComment",
    "ResponseVersion",
    "StaffSession",
    "User",
]
