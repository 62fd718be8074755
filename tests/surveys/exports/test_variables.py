from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

from surveys.exports.records import ResponseRecord
from surveys.exports.rows import LongRows, WideRows, iter_repeat
from surveys.exports.spss_stata import write_table
from surveys.exports.variables import Table, VersionForm, build_tables
from tests.surveys.questionnaires.forms import form

V1 = """
| survey |
|        | type                   | name    | label::en | identifier | parameters |
|        | text                   | contact | Contact   | yes        |            |
|        | select_one yes_no      | has_pet | PET?      |            |            |
|        | select_multiple techs  | techs   | Techs     |            |            |
|        | integer                | old_q   | Old       |            |            |
|        | begin_repeat           | rooms   | Rooms     |            |            |
|        | text                   | room    | Room      |            |            |
|        | begin_repeat           | devices | Devices   |            |            |
|        | text                   | vendor  | Vendor    |            |            |
|        | end_repeat             |         |           |            |            |
|        | end_repeat             |         |           |            |            |
| choices |
|         | list_name | name  | label::en |
|         | yes_no    | yes   | Yes       |
|         | yes_no    | no    | No        |
|         | techs     | pet   | PET       |
|         | techs     | spect | SPECT     |
"""

V2 = """
| survey |
|        | type                           | name    | label::en | identifier |
|        | select_one roles or_other      | role    | Role      | yes        |
|        | select_one yes_no              | has_pet | PET?      |            |
|        | select_multiple techs          | techs   | Techs     |            |
|        | begin_repeat                   | rooms   | Rooms     |            |
|        | text                           | room    | Room      |            |
|        | begin_repeat                   | devices | Devices   |            |
|        | text                           | vendor  | Vendor    |            |
|        | end_repeat                     |         |           |            |
|        | end_repeat                     |         |           |            |
| choices |
|         | list_name | name  | label::en |
|         | yes_no    | yes   | Yes       |
|         | yes_no    | no    | No        |
|         | techs     | pet   | PET       |
|         | techs     | mri   | MRI       |
|         | roles     | head  | Head      |
"""


def tables(*, identified: bool = False) -> list[Table]:
    versions = [
        VersionForm(1, "devices", 10, "1", form(V1)),
        VersionForm(1, "devices", 11, "2", form(V2)),
    ]
    return build_tables(versions, identified=identified)


def record(answers: dict[str, object]) -> ResponseRecord:
    return ResponseRecord(
        response_key="k1",
        campaign="wave",
        centre="c0ffee",
        centre_name=None,
        country="FR",
        region=None,
        questionnaire="devices",
        questionnaire_id=1,
        version="2",
        version_id=11,
        status="submitted",
        submitted_at=dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC),
        answers=answers,
    )


class TestBuildTables:
    def test_main_and_nested_repeat_tables_with_their_keys(self) -> None:
        main, rooms, devices = tables()
        assert [t.name for t in (main, rooms, devices)] == [
            "devices",
            "devices__rooms",
            "devices__rooms__devices",
        ]
        assert [k.name for k in rooms.keys] == ["response_key", "row_index"]
        assert [k.name for k in devices.keys] == ["response_key", "row_index", "parent_row_index"]
        assert devices.parent_name == "devices__rooms"

    def test_columns_are_the_union_of_versions_newest_order_first(self) -> None:
        main = tables()[0]
        assert [v.name for v in main.variables] == [
            "has_pet",
            "techs",
            "techs/pet",
            "techs/mri",
            "techs/spect",
            "old_q",
        ]

    def test_identifier_questions_and_their_other_text_are_left_out(self) -> None:
        names = {v.name for t in tables() for v in t.variables}
        assert not names & {"contact", "role", "role_other"}
        identified = {v.name for t in tables(identified=True) for v in t.variables}
        assert {"contact", "role", "role_other"} <= identified
        assert "centre_name" in [k.name for k in tables(identified=True)[0].keys]


class TestRows:
    ANSWERS: ClassVar[dict[str, Any]] = {
        "has_pet": "yes",
        "techs": ["mri"],
        "rooms": [
            {"room": "A", "devices": [{"vendor": "V1"}, {"vendor": "V2"}]},
            {"room": "B", "devices": [{"vendor": "V3"}]},
        ],
    }

    def test_repeat_rows_are_numbered_through_the_response(self) -> None:
        found = list(iter_repeat(self.ANSWERS, ("rooms", "devices")))
        assert [(p, i, r["vendor"]) for p, i, r in found] == [
            (1, 1, "V1"),
            (1, 2, "V2"),
            (2, 3, "V3"),
        ]

    def test_wide_rows_flag_choices_and_leave_unanswered_blank(self) -> None:
        main = tables()[0]
        row = next(WideRows(main, labels=False, language=None).rows(record(self.ANSWERS)))
        values = dict(zip([c.name for c in main.columns], row, strict=True))
        assert values["techs"] == "mri"
        assert (values["techs/pet"], values["techs/mri"]) == (0, 1)
        assert values["old_q"] is None
        assert values["submitted_at"] == "2026-11-29T12:00:00Z"
        unanswered = next(WideRows(main, labels=False, language=None).rows(record({})))
        assert unanswered[-4:] == [None, None, None, None]

    def test_labels_replace_codes(self) -> None:
        main = tables()[0]
        row = next(WideRows(main, labels=True, language="en").rows(record(self.ANSWERS)))
        assert row[9:11] == ["Yes", "MRI"]

    def test_long_rows_one_per_answer_and_per_chosen_choice(self) -> None:
        rows = list(LongRows(tables(), language=None).rows(record(self.ANSWERS)))
        picked = [(r[7], r[8], r[9], r[10], r[11]) for r in rows]
        assert picked == [
            (None, None, "has_pet", "yes", "Yes"),
            (None, None, "techs", "mri", "MRI"),
            ("rooms", 1, "room", "A", None),
            ("rooms", 2, "room", "B", None),
            ("devices", 1, "vendor", "V1", None),
            ("devices", 2, "vendor", "V2", None),
            ("devices", 3, "vendor", "V3", None),
        ]


META = """
| survey |
|        | type     | name    | label::en |
|        | start    | started |           |
|        | end      | ended   |           |
|        | today    | day     |           |
|        | deviceid | device  |           |
|        | username | user    |           |
|        | datetime | seen_at | Seen at   |
|        | integer  | units   | Units     |
"""


class TestMetadataColumns:
    """Metadata recorded at submission: typed timestamps and dates; who submitted (username,
    deviceid) is personal data, left out of pseudonymised exports."""

    ANSWERS: ClassVar[dict[str, Any]] = {
        "started": "2026-11-29T13:00:00+01:00",
        "ended": "2026-11-29T12:30:00+00:00",
        "day": "2026-11-29",
        "device": "accessgap-web",
        "user": "invitation:4",
        "seen_at": "2026-11-28T09:15",
        "units": 2,
    }

    @staticmethod
    def main(*, identified: bool) -> Table:
        [main] = build_tables([VersionForm(2, "meta", 20, "1", form(META))], identified=identified)
        return main

    def test_times_are_typed_and_who_submitted_is_pseudonymised_away(self) -> None:
        types = {v.name: v.data_type for v in self.main(identified=False).variables}
        assert types == {
            "started": "datetime",
            "ended": "datetime",
            "day": "date",
            "seen_at": "string",
            "units": "integer",
        }
        identified = [v.name for v in self.main(identified=True).variables]
        assert identified == ["started", "ended", "day", "device", "user", "seen_at", "units"]

    def test_recorded_times_are_written_as_utc_timestamps(self) -> None:
        main = self.main(identified=True)
        row = next(WideRows(main, labels=False, language=None).rows(record(self.ANSWERS)))
        values = dict(zip([c.name for c in main.columns], row, strict=True))
        assert (values["started"], values["ended"]) == (
            "2026-11-29T12:00:00Z",
            "2026-11-29T12:30:00Z",
        )
        assert (values["day"], values["user"], values["seen_at"]) == (
            "2026-11-29",
            "invitation:4",
            "2026-11-28T09:15",
        )

    def test_spss_reads_recorded_and_typed_times_as_datetimes(self, tmp_path: Path) -> None:
        import pyreadstat

        main = self.main(identified=False)
        rows = WideRows(main, labels=False, language=None).rows(record(self.ANSWERS))
        write_table(main, rows, tmp_path / "meta.sav", kind="sav", language=None)
        frame, _ = pyreadstat.read_sav(str(tmp_path / "meta.sav"))
        assert frame.loc[0, "started"] == dt.datetime(2026, 11, 29, 12, 0)
        assert frame.loc[0, "seen_at"] == dt.datetime(2026, 11, 28, 9, 15)
        assert frame.loc[0, "day"] == dt.date(2026, 11, 29)
