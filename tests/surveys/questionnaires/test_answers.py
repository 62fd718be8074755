from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.questionnaires.answers import validate_answers
from tests.surveys.questionnaires.forms import form

DEVICES = form("""
| survey |
|        | type                     | name        | label::en        | required | relevant              | constraint         | constraint_message::en | calculation                  | parameters      | appearance |
|        | select_one yes_no        | has_pet     | PET/CT?          | yes      |                       |                    |                        |                              |                 |            |
|        | integer                  | pet_units   | Units            | yes      | ${has_pet} = 'yes'    | . >= 0 and . <= 20 | Between 0 and 20.      |                              |                 |            |
|        | decimal                  | wait_weeks  | Waiting (weeks)  |          | ${has_pet} = 'yes'    | . >= 0             |                        |                              |                 |            |
|        | select_multiple barriers | barriers    | Barriers         |          |                       |                    |                        |                              |                 |            |
|        | text                     | notes       | Notes            |          |                       |                    |                        |                              | max-length=20   |            |
|        | date                     | since       | Since            |          |                       |                    |                        |                              |                 |            |
|        | range                    | confidence  | Confidence       |          |                       |                    |                        |                              | start=1 end=5   |            |
|        | begin_repeat             | devices     | Devices          |          | ${has_pet} = 'yes'    |                    |                        |                              |                 |            |
|        | text                     | vendor      | Vendor           | yes      |                       |                    |                        |                              |                 |            |
|        | integer                  | year        | Year installed   |          |                       | . >= 1980          |                        |                              |                 |            |
|        | end_repeat               |             |                  |          |                       |                    |                        |                              |                 |            |
|        | calculate                | device_rows |                  |          |                       |                    |                        | count(${devices})            |                 |            |
|        | begin_group              | units       | Units by type    |          |                       |                    |                        |                              | columns=years   | matrix     |
|        | integer                  | linac       | Linacs           |          |                       | . >= 0             |                        |                              |                 |            |
|        | integer                  | mr_linac    | MR-linacs        |          |                       | . >= 0             |                        |                              |                 |            |
|        | end_group                |             |                  |          |                       |                    |                        |                              |                 |            |
|        | calculate                | total_2025  |                  |          |                       |                    |                        | coalesce(${linac__2025}, 0) + coalesce(${mr_linac__2025}, 0) |  |  |
| choices |
|         | list_name | name      | label::en |
|         | yes_no    | yes       | Yes       |
|         | yes_no    | no        | No        |
|         | barriers  | cost      | Cost      |
|         | barriers  | staff     | Staff     |
|         | years     | 2024      | 2024      |
|         | years     | 2025      | 2025      |
""")


def check(answers: dict[str, Any], **options: Any) -> tuple[dict[str, Any], set[tuple[Any, ...]]]:
    result = validate_answers(DEVICES, answers, **options)
    return result.answers, {(*e.loc, e.code) for e in result.errors}


class TestTypes:
    def test_values_are_typed_and_normalised(self) -> None:
        answers, errors = check(
            {
                "has_pet": "yes",
                "pet_units": "3",
                "wait_weeks": "2,5",
                "barriers": "cost staff",
                "since": "2024-02-29",
                "confidence": 4,
            }
        )
        assert errors == set()
        assert answers["pet_units"] == 3
        assert answers["wait_weeks"] == 2.5
        assert answers["barriers"] == ["cost", "staff"]
        assert answers["since"] == "2024-02-29"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("pet_units", "3.5"),
            ("pet_units", "many"),
            ("pet_units", True),
            ("pet_units", 2**40),
            ("wait_weeks", "nan"),
            ("since", "2023-02-29"),
            ("since", "29/02/2024"),
            ("confidence", 7),
            ("confidence", 2.5),
            ("notes", "x" * 21),
            ("notes", "a\x00b"),
            ("barriers", 5),
        ],
    )
    def test_wrong_types_are_errors_on_the_field(self, field: str, value: Any) -> None:
        base = {"has_pet": "yes", "pet_units": 1}
        _, errors = check({**base, field: value})
        assert (field, "type") in errors

    def test_unknown_questions_and_choices_are_errors(self) -> None:
        _, errors = check({"has_pet": "maybe", "nonsense": 1, "barriers": ["cost", "weather"]})
        assert ("nonsense", "unknown_question") in errors
        assert ("has_pet", "choice") in errors
        assert ("barriers", "choice") in errors


class TestLogic:
    def test_required_when_relevant_and_constraint_messages(self) -> None:
        result = validate_answers(DEVICES, {"has_pet": "yes", "pet_units": 40})
        assert [(e.loc, e.code, e.message) for e in result.errors] == [
            (("pet_units",), "constraint", "Between 0 and 20.")
        ]
        _, errors = check({"has_pet": "yes"})
        assert ("pet_units", "required") in errors
        _, errors = check({})
        assert ("has_pet", "required") in errors

    def test_answers_that_do_not_apply_are_dropped_with_a_warning(self) -> None:
        result = validate_answers(DEVICES, {"has_pet": "no", "pet_units": 4, "wait_weeks": 2})
        assert result.ok
        assert "pet_units" not in result.answers
        assert {w.loc for w in result.warnings} == {("pet_units",), ("wait_weeks",)}

    def test_drafts_skip_required_but_keep_type_checks(self) -> None:
        result = validate_answers(DEVICES, {"pet_units": "x"}, partial=True)
        assert [(e.loc, e.code) for e in result.errors] == [(("pet_units",), "type")]

    def test_repeats_are_checked_row_by_row_and_counted(self) -> None:
        result = validate_answers(
            DEVICES,
            {
                "has_pet": "yes",
                "pet_units": 2,
                "devices": [{"vendor": "Siemens", "year": 2020}, {"year": 1970}],
            },
        )
        assert {(e.loc, e.code) for e in result.errors} == {
            (("devices", 1, "vendor"), "required"),
            (("devices", 1, "year"), "constraint"),
        }
        assert result.answers["device_rows"] == 2

    def test_a_matrix_with_columns_has_one_cell_per_row_and_column(self) -> None:
        result = validate_answers(
            DEVICES,
            {
                "has_pet": "no",
                "linac__2024": 2,
                "linac__2025": 3,
                "mr_linac__2025": 1,
            },
        )
        assert result.ok, result.errors
        assert result.answers["total_2025"] == 4
        _, errors = check({"has_pet": "no", "linac__2025": -1})
        assert ("linac__2025", "constraint") in errors

    def test_calculations_are_computed_on_the_server(self) -> None:
        result = validate_answers(DEVICES, {"has_pet": "no", "total_2025": 999})
        assert result.answers["total_2025"] == 0
        assert any(w.code == "ignored" for w in result.warnings)


ANSWER_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
    st.lists(
        st.dictionaries(st.sampled_from(["vendor", "year", "x"]), st.text(max_size=5)), max_size=3
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "has_pet",
                "pet_units",
                "wait_weeks",
                "barriers",
                "notes",
                "since",
                "confidence",
                "devices",
                "linac__2025",
                "device_rows",
                "unknown",
            ]
        ),
        ANSWER_VALUES,
    )
)
def test_validation_never_crashes_on_any_answers(answers: dict[str, Any]) -> None:
    result = validate_answers(DEVICES, answers)
    assert isinstance(result.errors, list)


PHONES = """
| survey |
|        | type         | name  | label::en | label::fr | constraint             |
|        | phone number | phone | Phone     | Téléphone |                        |
|        | phone number | fax   | Fax       | Fax       | string-length(.) <= 20 |
"""


def test_a_phone_number_takes_digits_only_as_pyxform_makes_it() -> None:
    phones = form(PHONES)
    assert validate_answers(phones, {"phone": "0612345678", "fax": "+33 1 23"}).ok
    refused = validate_answers(phones, {"phone": "+33 6 12 34"})
    assert [(p.loc, p.code, p.message) for p in refused.errors] == [
        (("phone",), "constraint", "Enter numbers only.")
    ]
    in_french = validate_answers(phones, {"phone": "06-12"}, language="fr")
    assert [p.message for p in in_french.errors] == ["Saisissez uniquement des chiffres."]


ROOMS = """
| survey |
|        | type         | name         | label::en | calculation                                             |
|        | begin_repeat | rooms        | Rooms     |                                                         |
|        | text         | use          | Use       |                                                         |
|        | begin_repeat | devices      | Devices   |                                                         |
|        | text         | vendor       | Vendor    |                                                         |
|        | end_repeat   |              |           |                                                         |
|        | end_repeat   |              |           |                                                         |
|        | calculate    | second_use   |           | indexed-repeat(${use}, ${rooms}, 2)                     |
|        | calculate    | uses         |           | count(${use})                                           |
|        | calculate    | third_first  |           | indexed-repeat(${vendor}, ${rooms}, 3, ${devices}, 1)   |
|        | calculate    | first_second |           | indexed-repeat(${vendor}, ${rooms}, 1, ${devices}, 2)   |
|        | calculate    | all_devices  |           | count(${devices})                                       |
"""


def test_indexed_repeat_reads_the_row_asked_for_at_any_depth() -> None:
    answers = {
        "rooms": [
            {"devices": [{"vendor": "elekta"}, {}]},  # no use given: row 2 is still row 2
            {"use": "ct"},
            {"use": "mri", "devices": [{"vendor": "siemens"}]},
        ]
    }
    found = validate_answers(form(ROOMS), answers)
    assert found.ok, found.errors
    computed = {k: found.answers.get(k) for k in ("second_use", "uses", "third_first")}
    assert computed == {"second_use": "ct", "uses": 3, "third_first": "siemens"}
    assert found.answers["first_second"] == ""  # the second device of room 1 has no vendor
    assert found.answers["all_devices"] == 3
