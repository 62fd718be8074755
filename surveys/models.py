"""Every ORM model, registered in one place so Alembic and the tests see the whole schema."""

from surveys.accounts.models import ApiToken, StaffSession, User
from surveys.audit.models import AuditEvent
from surveys.campaigns.models import (
    Campaign,
    CampaignCentre,
    CampaignGrant,
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
from surveys.throttles.models import ThrottleCounter

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "BoundaryVersion",
    "Campaign",
    "CampaignCentre",
    "CampaignGrant",
    "CampaignQuestionnaire",
    "Centre",
    "Contact",
    "Country",
    "DatasetRelease",
    "DatasetReleaseRecord",
    "Invitation",
    "Job",
    "JobResult",
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
    "ThrottleCounter",
    "User",
]
