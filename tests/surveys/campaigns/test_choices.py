"""Choosing what a campaign sends (published versions) and to whom (centres)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from surveys.campaigns.choices import choose_centres, choose_versions
from surveys.errors import InvalidInput
from tests.builders import SMALL_FORM, make_centre, make_published_form

SMALL_FORM_V2 = SMALL_FORM.replace("| pet_small | 1 ", "| pet_small | 2 ").replace(
    "| Notes     | Notes ", "| Comments  | Notes "
)


def loc_of(exc: pytest.ExceptionInfo[InvalidInput]) -> tuple[str | int, ...]:
    return exc.value.errors[0].loc


class TestChooseVersions:
    def test_the_latest_published_unless_a_version_is_named(self, session: Session) -> None:
        first = make_published_form(session)
        second = make_published_form(session, SMALL_FORM_V2)
        assert choose_versions(session, [("pet_small", None)]) == [second]
        assert choose_versions(session, [("pet_small", "1")]) == [first]

    def test_refusals_name_the_choice(self, session: Session) -> None:
        make_published_form(session)
        with pytest.raises(InvalidInput) as unknown:
            choose_versions(session, [("pet_small", None), ("missing", None)])
        assert loc_of(unknown) == ("questionnaires", 1)
        with pytest.raises(InvalidInput) as twice:
            choose_versions(session, [("pet_small", None), ("pet_small", "1")])
        assert "chosen twice" in twice.value.errors[0].msg
        with pytest.raises(InvalidInput):
            choose_versions(session, [])


class TestChooseCentres:
    def test_all_active_by_country_or_by_id(self, session: Session) -> None:
        lyon = make_centre(session, name="Lyon", country="FR")
        milan = make_centre(session, name="Milan", country="IT")
        closed = make_centre(session, name="Closed", country="IT")
        closed.active = False
        assert choose_centres(session, scope="all") == [lyon, milan]
        assert choose_centres(session, scope="countries", countries=["it"]) == [milan]
        chosen = choose_centres(session, scope="ids", centre_ids=[closed.public_id, lyon.public_id])
        assert chosen == [lyon, closed]

    @pytest.mark.parametrize(
        ("scope", "arguments", "loc"),
        [
            ("countries", {"countries": ["QQ"]}, ("countries",)),
            ("countries", {"countries": ["DE"]}, ("centre_scope",)),
            ("ids", {"centre_ids": ["nope"]}, ("centre_ids",)),
            ("ids", {}, ("centre_ids",)),
            ("everything", {}, ("centre_scope",)),
        ],
    )
    def test_refusals(
        self, session: Session, scope: str, arguments: dict[str, list[str]], loc: tuple[str]
    ) -> None:
        make_centre(session, country="FR")
        with pytest.raises(InvalidInput) as refused:
            choose_centres(session, scope=scope, **arguments)
        assert loc_of(refused) == loc
