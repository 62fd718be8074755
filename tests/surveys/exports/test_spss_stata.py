from __future__ import annotations

import re

from surveys.exports.spss_stata import MAX_NAME, safe_names, select_one_codes
from surveys.exports.variables import Variable
from surveys.questionnaires.definitions.compiled import Choice

VALID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class TestSafeNames:
    def test_every_name_is_a_valid_stata_and_spss_identifier(self) -> None:
        names = [
            "techs/pet",
            "linac__2025",
            "9lives",
            "_private",
            "if",
            "str12",
            "with",
            "a" * 40,
            "a" * 40 + "b",
            "ÄÖü-name.dot",
            "trailing_",
        ]
        mapped = safe_names(names)
        for original, name in mapped.items():
            assert VALID.match(name), (original, name)
            assert len(name) <= MAX_NAME
            assert not name.endswith("_")
        assert len({n.lower() for n in mapped.values()}) == len(names)
        assert mapped["techs/pet"] == "techs_pet"
        assert mapped["9lives"] == "v9lives"
        assert mapped["if"] != "if"
        assert mapped["str12"] != "str12"

    def test_clashes_are_numbered_ignoring_case(self) -> None:
        mapped = safe_names(["Units", "units", "units!"])
        assert list(mapped.values()) == ["Units", "units_2", "units_3"]

    def test_valid_names_are_kept(self) -> None:
        assert safe_names(["has_pet", "units"]) == {"has_pet": "has_pet", "units": "units"}


class TestSelectOneCodes:
    def test_whole_number_names_are_their_own_codes(self) -> None:
        variable = Variable("q", "select_one", choices=[Choice("1", {}), Choice("99", {})])
        assert select_one_codes(variable) == {"1": 1, "99": 99}

    def test_other_names_are_numbered_in_list_order(self) -> None:
        variable = Variable("q", "select_one", choices=[Choice("yes", {}), Choice("no", {})])
        assert select_one_codes(variable) == {"yes": 1, "no": 2}
