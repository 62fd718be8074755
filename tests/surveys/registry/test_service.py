from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from surveys.policy import PermissionDenied, staff_actor
from surveys.registry import service
from surveys.registry.schemas import CentreCreate, CentreFilter, CentreUpdate
from tests.audit_events import events, last_event
from tests.builders import make_centre

WRITER = staff_actor(user_id=999_002, role="coordinator")
READER = staff_actor(user_id=999_003, role="researcher")


class TestCreateCentre:
    def test_gives_a_stable_public_id_and_keeps_the_fields(self, session: Session) -> None:
        centre = make_centre(session, name="Centre Léon Bérard", country="fr")
        read = service.to_read(centre)
        assert len(read.id) == 36
        assert read.country == "FR"
        assert read.country_name == "France"
        assert read.name == "Centre Léon Bérard"
        assert read.version == 1
        assert read.is_synthetic is False

    def test_refuses_an_unknown_country_naming_the_field(self, session: Session) -> None:
        with pytest.raises(service.UnknownCountry) as caught:
            make_centre(session, country="ZZ")
        assert caught.value.errors[0].loc == ("country",)
        assert "ZZ" in caught.value.errors[0].msg


class TestListCentres:
    def test_filters_by_country_and_text(self, session: Session) -> None:
        make_centre(session, name="Gustave Roussy", country="FR", city="Villejuif")
        make_centre(session, name="Netherlands Cancer Institute", country="NL", city="Amsterdam")
        make_centre(session, name="Institut Curie", country="FR", city="Paris")

        french = service.list_centres(session, CentreFilter(country="FR"))
        assert french.total == 2
        assert {c.name for c in french.items} == {"Gustave Roussy", "Institut Curie"}

        by_city = service.list_centres(session, CentreFilter(q="amster"))
        assert [c.name for c in by_city.items] == ["Netherlands Cancer Institute"]

    def test_pages_in_a_stable_order(self, session: Session) -> None:
        for n in range(5):
            make_centre(session, name=f"Centre {n}", country="BE", city="Gent")
        first = service.list_centres(session, CentreFilter(country="BE"), page=1, per_page=2)
        third = service.list_centres(session, CentreFilter(country="BE"), page=3, per_page=2)
        assert first.total == 5
        assert [c.name for c in first.items] == ["Centre 0", "Centre 1"]
        assert [c.name for c in third.items] == ["Centre 4"]


class TestUpdateCentre:
    def test_changes_fields_and_bumps_the_version(self, session: Session) -> None:
        centre = make_centre(session)
        updated = service.update_centre(
            session,
            WRITER,
            centre.public_id,
            CentreUpdate(version=1, city="Lyon 8e", country="BE"),
            request_id=None,
        )
        assert updated.city == "Lyon 8e"
        assert updated.country.iso2 == "BE"
        assert updated.version == 2

    def test_refuses_a_stale_version(self, session: Session) -> None:
        centre = make_centre(session)
        service.update_centre(
            session, WRITER, centre.public_id, CentreUpdate(version=1, city="A"), request_id=None
        )
        with pytest.raises(service.StaleCentre) as caught:
            service.update_centre(
                session,
                WRITER,
                centre.public_id,
                CentreUpdate(version=1, city="B"),
                request_id=None,
            )
        assert caught.value.code == "stale_version"
        assert service.get_centre(session, centre.public_id).city == "A"

    def test_missing_centre_is_not_found(self, session: Session) -> None:
        with pytest.raises(service.CentreNotFound):
            service.get_centre(session, "00000000-0000-0000-0000-000000000000")


class TestAuditedUseCases:
    def test_register_and_update_record_their_events(self, session: Session) -> None:
        data = CentreCreate(name="Centre Oscar Lambret", country="FR", city="Lille")
        centre = service.register_centre(session, WRITER, data, request_id="r-1")
        created = last_event(session, "centre.create")
        assert (created.actor, created.object_type, created.object_id, created.details) == (
            "user:999002",
            "centre",
            centre.public_id,
            {"version": 1},
        )
        assert created.request_id == "r-1"
        change = CentreUpdate(version=1, city="Lille Cedex")
        service.update_centre(session, WRITER, centre.public_id, change, request_id="r-2")
        updated = last_event(session, "centre.update")
        assert (updated.object_id, updated.details) == (
            centre.public_id,
            {"fields": ["city"], "version": 2},
        )

    def test_an_actor_without_registry_write_is_refused(self, session: Session) -> None:
        centre = make_centre(session)
        with pytest.raises(PermissionDenied):
            service.register_centre(
                session, READER, CentreCreate(name="X", country="FR"), request_id=None
            )
        with pytest.raises(PermissionDenied):
            service.update_centre(
                session,
                READER,
                centre.public_id,
                CentreUpdate(version=1, city="Y"),
                request_id=None,
            )
        assert centre.city == "Lyon"
        assert events(session, "centre.create") == events(session, "centre.update") == []
