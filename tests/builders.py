"""Small keyword-only builders for test data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.registry.models import Centre
from surveys.registry.schemas import CentreCreate
from surveys.registry.service import create_centre


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
