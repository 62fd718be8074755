from __future__ import annotations

import pytest

from surveys.questionnaires.rules import Problem, validate
from tests.surveys.questionnaires.forms import tables


def problems(md: str, settings: str | None = None) -> list[Problem]:
    result = validate(tables(md) if settings is None else tables(md, settings))
    return result.problems


def one(md: str, code: str, sheet: str = "survey") -> Problem:
    found = [p for p in problems(md) if p.code == code and p.sheet == sheet]
    assert len(found) == 1, problems(md)
    return found[0]


def test_a_clean_form_has_no_problem() -> None:
    assert (
        problems("""
| survey |
|        | type               | name      | label::en      | relevant            | constraint |
|        | select_one yes_no  | has_pet   | PET/CT?        |                     |            |
|        | integer            | pet_units | How many?      | ${has_pet} = 'yes'  | . >= 0     |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
""")
        == []
    )


@pytest.mark.parametrize(
    ("md", "code", "row", "column"),
    [
        (
            """
| survey |
|        | type    | name | label::en |
|        | integer | a    | A         |
|        | integer | a    | A again   |
""",
            "definition.duplicate_name",
            3,
            "name",
        ),
        (
            """
| survey |
|        | type    | name | label::en | relevant    |
|        | integer | a    | A         | ${missing} > 1 |
""",
            "definition.unknown_reference",
            2,
            "relevant",
        ),
        (
            """
| survey |
|        | type      | name | label::en | calculation |
|        | calculate | a    |           | ${b} + 1    |
|        | calculate | b    |           | ${a} + 1    |
""",
            "definition.calculation_cycle",
            2,
            "calculation",
        ),
        (
            """
| survey |
|        | type             | name | label::en |
|        | select_one sizes | s    | Size      |
""",
            "definition.missing_choice_list",
            2,
            "type",
        ),
        (
            """
| survey |
|        | type             | name | label::en |
|        | select_one sizes | s    | Size      |
| choices |
|         | list_name | name  | label::en |
|         | sizes     | small | Small     |
|         | sizes     | small | Tiny      |
""",
            "definition.duplicate_choice",
            3,
            "name",
        ),
        (
            """
| survey |
|        | type        | name | label::en |
|        | begin_group | g    | Group     |
|        | integer     | a    | A         |
""",
            "definition.unbalanced_group",
            2,
            "type",
        ),
        (
            """
| survey |
|        | type    | name       | label::en |
|        | integer | instanceID | A         |
""",
            "definition.reserved_name",
            2,
            "name",
        ),
        (
            """
| survey |
|        | type      | name | label::en |
|        | calculate | c    |           |
""",
            "definition.missing_calculation",
            2,
            "calculation",
        ),
        (
            """
| survey |
|        | type    | name | label::en | constraint |
|        | integer | a    | A         | . >=       |
""",
            "definition.expression_syntax",
            2,
            "constraint",
        ),
        (
            """
| survey |
|        | type  | name | label::en |
|        | photo | here | Picture   |
""",
            "definition.unsupported_type",
            2,
            "type",
        ),
        (
            """
| survey |
|        | type    | name | label::en | calculation            |
|        | integer | a    | A         |                        |
|        | calculate | b  |           | pulldata('x', 'y', 'z', 'w') |
""",
            "definition.unsupported_function",
            3,
            "calculation",
        ),
        (
            """
| survey |
|        | type         | name | label::en | repeat_count |
|        | begin_repeat | r    | Rows      |              |
|        | integer      | a    | A         | 3            |
|        | end_repeat   |      |           |              |
""",
            "definition.misplaced_repeat_count",
            3,
            "repeat_count",
        ),
        (
            """
| survey |
|        | type    | name   | label::en |
|        | integer | 1bad   | A         |
""",
            "definition.invalid_name",
            2,
            "name",
        ),
        (
            """
| survey |
|        | type    | name | label::en | label::fr |
|        | integer | a    | A         |           |
|        | integer | b    | B         | B fr      |
""",
            "definition.incomplete_language",
            2,
            "label",
        ),
    ],
)
def test_each_rule_reports_its_code_row_and_column(
    md: str, code: str, row: int, column: str
) -> None:
    sheet = "choices" if code == "definition.duplicate_choice" else "survey"
    problem = one(md, code, sheet)
    assert (problem.sheet, problem.row, problem.column) == (sheet, row, column)
    assert problem.fix, "every problem says how to fix it"
    assert f"row {row}" in problem.describe()


def test_parse_errors_name_the_question_and_position() -> None:
    problem = one(
        """
| survey |
|        | type    | name  | label::en | relevant   |
|        | integer | count | A         | 1 + + )    |
""",
        "definition.expression_syntax",
    )
    assert "position" in problem.message
    assert "1 + + )" in problem.message


def test_incomplete_languages_are_warnings_not_errors() -> None:
    result = validate(
        tables("""
| survey |
|        | type    | name | label::en | label::fr |
|        | integer | a    | A         |           |
|        | integer | b    | B         | B         |
""")
    )
    assert result.ok
    assert result.warnings[0].code == "definition.incomplete_language"


def test_indicators_are_checked() -> None:
    found = problems("""
| survey |
|        | type    | name  | label::en |
|        | integer | units | Units     |
| indicators |
|            | id    | numerator    | aggregation | denominator | label::en |
|            | per_m | ${units}     | sum         | population_per_million | Units |
|            | per_m | ${nothing}   | average     | people      | Again |
""")
    codes = {p.code for p in found}
    assert {
        "definition.duplicate_indicator",
        "definition.unknown_reference",
        "definition.indicator_aggregation",
        "definition.indicator_denominator",
    } <= codes


def test_an_odk_form_with_features_beyond_ours_gets_a_list_never_a_traceback() -> None:
    found = problems("""
| survey |
|        | type      | name   | label::English (en) | media::image | appearance |
|        | start     | start  |                     |              |            |
|        | geoshape  | area   | Area                |              |            |
|        | image     | photo  | Photo               | x.png        |            |
|        | text      | name   | Name                |              | multiline  |
|        | select_one_from_file clinics.csv | clinic | Clinic |      |            |
|        | begin_repeat | r   | Rows                |              |            |
|        | end_group |        |                     |              |            |
""")
    unsupported = [(p.row, p.code) for p in found if p.severity == "error"]
    assert not [p for p in found if p.row == 2]  # metadata: recorded, not asked
    assert (3, "definition.unsupported_type") in unsupported
    assert (4, "definition.unsupported_type") in unsupported
    assert (6, "definition.missing_attachment") in unsupported
    assert any(p.code == "definition.unbalanced_group" for p in found)
    assert any(p.code == "definition.ignored_column" and p.column == "media::image" for p in found)
