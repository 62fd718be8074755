"""Small keyword-only builders for test data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.campaigns.lifecycle import create_campaign, open_campaign
from surveys.campaigns.models import Campaign
from surveys.campaigns.schemas import CampaignCreate
from surveys.policy import system_actor
from surveys.questionnaires.definitions.tables import read_markdown
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.questionnaires.service import import_definition, publish_version
from surveys.registry.models import Centre
from surveys.registry.schemas import CentreCreate
from surveys.registry.service import create_centre

# Who sets test data up: the system, as an operator's command would.
BUILDER = system_actor("system:test")


def make_centre(
    session: Session,
    *,
    name: str = "Institut Test",
    country: str = "FR",
    city: str | None = "Lyon",
    latitude: float | None = 45.75,
    longitude: float | None = 4.85,
    centre_type: str = "university_hospital",
) -> Centre:
    return create_centre(
        session,
        CentreCreate(
            name=name,
            country=country,
            city=city,
            latitude=latitude,
            longitude=longitude,
            centre_type=centre_type,
        ),
    )


SMALL_FORM = """
| survey |
|        | type              | name    | label::en | label::fr | required | relevant           | constraint |
|        | select_one yes_no | has_pet | PET/CT?   | TEP/TDM ? | yes      |                    |            |
|        | integer           | units   | Units     | Unités    | yes      | ${has_pet} = 'yes' | . >= 0     |
|        | text              | notes   | Notes     | Notes     |          |                    |            |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
| settings |
|          | form_id   | version | title::en | title::fr | domain           |
|          | pet_small | 1       | PET       | TEP       | nuclear_medicine |
"""


def make_published_form(session: Session, md: str = SMALL_FORM) -> QuestionnaireVersion:
    outcome = import_definition(session, read_markdown(md, source="builder.md"))
    return publish_version(
        session, outcome.version.definition["settings"]["form_id"], outcome.version.version
    )


def make_campaign(
    session: Session,
    *,
    slug: str = "wave-1",
    centres: list[Centre],
    versions: list[QuestionnaireVersion],
    open_now: bool = True,
    name: str | None = None,
) -> Campaign:
    """A campaign asked as a coordinator asks for one (these versions, these centres by id),
    opened unless ``open_now`` is false."""
    request = CampaignCreate.model_validate(
        {
            "slug": slug,
            "name": name or slug.title(),
            "questionnaires": [
                {"form_id": v.definition["settings"]["form_id"], "version": v.version}
                for v in versions
            ],
            "centre_scope": "ids",
            "centre_ids": [c.public_id for c in centres],
        }
    )
    campaign = create_campaign(session, BUILDER, request, request_id=None)
    if open_now:
        open_campaign(session, BUILDER, campaign, request_id=None)
    return campaign
