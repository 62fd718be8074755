from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from surveys.registry import service
from surveys.registry.schemas import CentreFilter, CentreUpdate
from tests.builders import make_centre


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
            session, centre.public_id, CentreUpdate(version=1, city="Lyon 8e", country="BE")
        )
        assert updated.city == "Lyon 8e"
        assert updated.country.iso2 == "BE"
        assert updated.version == 2

    def test_refuses_a_stale_version(self, session: Session) -> None:
        centre = make_centre(session)
        service.update_centre(session, centre.public_id, CentreUpdate(version=1, city="A"))
        with pytest.raises(service.StaleCentre) as caught:
            service.update_centre(session, centre.public_id, CentreUpdate(version=1, city="B"))
        assert caught.value.code == "stale_version"
        assert service.get_centre(session, centre.public_id).city == "A"

    def test_missing_centre_is_not_found(self, session: Session) -> None:
        with pytest.raises(service.CentreNotFound):
            service.get_centre(session, "00000000-0000-0000-0000-000000000000")
