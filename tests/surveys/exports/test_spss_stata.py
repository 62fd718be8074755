from __future__ import annotations

import re

from surveys.exports.spss_stata import (
    LABEL_SET_NAME_LIMITS,
    NAME_LIMITS,
    safe_names,
    select_one_codes,
)
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
        for kind in ("sav", "dta"):
            mapped = safe_names(names, kind=kind)
            for original, name in mapped.items():
                assert VALID.match(name), (original, name)
                assert len(name) <= NAME_LIMITS[kind]
                assert not name.endswith("_")
            assert len({n.lower() for n in mapped.values()}) == len(names)
            assert mapped["techs/pet"] == "techs_pet"
            assert mapped["9lives"] == "v9lives"
            assert mapped["if"] != "if"
            assert mapped["str12"] != "str12"

    def test_each_format_has_its_own_length_limit(self) -> None:
        long = "cell_barriers_regulatory_approval_delays"  # 40 characters
        assert safe_names([long], kind="sav") == {long: long}
        assert safe_names([long], kind="dta") == {long: long[:32]}

    def test_a_stata_label_set_name_fits_too(self) -> None:
        # pyreadstat names the label set of the n-th labelled variable "<name><n>" (n from 0)
        long = [f"barriers_regulatory_approval_{i:02d}" for i in range(12)]
        mapped = safe_names(long, kind="dta", labelled=set(long))
        for number, name in enumerate(mapped[n] for n in long):
            assert len(name + str(number)) <= LABEL_SET_NAME_LIMITS["dta"]
        assert len({n.lower() for n in mapped.values()}) == len(long)
        assert safe_names(long, kind="sav", labelled=set(long)) == {n: n for n in long}

    def test_clashes_are_numbered_ignoring_case(self) -> None:
        mapped = safe_names(["Units", "units", "units!"], kind="sav")
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
