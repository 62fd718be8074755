from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.questionnaires import service
from tests.audit_events import events, last_event
from tests.surveys.questionnaires.forms import tables

MANAGER = staff_actor(user_id=999_002, role="coordinator")

V1 = """
| survey |
|        | type              | name    | label::en | label::fr |
|        | select_one yes_no | has_pet | PET/CT?   | TEP/TDM ? |
|        | integer           | units   | Units     | Unités    |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
"""


def settings(version: str) -> str:
    return f"""
| settings |
|          | form_id | version    | title::en | title::fr | default_language |
|          | pet     | {version}  | PET       | TEP       | en               |
"""


class TestImportAndPublish:
    def test_import_creates_a_draft_and_the_same_content_is_found_again(
        self, session: Session
    ) -> None:
        first = service.import_definition(session, tables(V1, settings("1")))
        assert first.created
        assert first.version.status == "draft"
        assert len(first.version.content_hash) == 64
        again = service.import_definition(session, tables(V1, settings("1")))
        assert not again.created
        assert again.version.id == first.version.id

    def test_publishing_freezes_and_editing_makes_a_new_version(self, session: Session) -> None:
        service.import_definition(session, tables(V1, settings("1")))
        published = service.publish_version(session, "pet", "1")
        assert published.status == "published"
        assert published.published_at is not None
        edited = V1.replace("| Units     | Unités    |", "| Units in use | Unités en service |")
        with pytest.raises(service.VersionConflict):
            service.import_definition(session, tables(edited, settings("1")))
        second = service.import_definition(session, tables(edited, settings("2")))
        assert second.created
        assert service.get_version(session, "pet", published_only=True).version == "1"
        assert service.get_version(session, "pet").version == "2"

    def test_a_question_never_changes_type_under_the_same_name(self, session: Session) -> None:
        service.import_definition(session, tables(V1, settings("1")))
        changed = V1.replace("| integer           | units", "| decimal           | units")
        with pytest.raises(service.TypeChanged, match="'units' was integer"):
            service.import_definition(session, tables(changed, settings("2")))

    def test_an_incomplete_language_blocks_publishing(self, session: Session) -> None:
        partial = V1.replace("| Unités    |", "|           |")
        service.import_definition(session, tables(partial, settings("1")))
        with pytest.raises(service.NotPublishable) as caught:
            service.publish_version(session, "pet", "1")
        assert caught.value.errors[0].loc == ("survey", 3, "label")

    def test_an_invalid_definition_is_refused_with_every_error(self, session: Session) -> None:
        broken = V1.replace(
            "| integer           | units   | Units     | Unités    |",
            "| integer           | units   | Units     | Unités    |\n"
            "|        | integer           | units   | Again     | Encore    |\n"
            "|        | integer           | x       | ${nowhere} | X        |",
        )
        with pytest.raises(service.DefinitionInvalid) as caught:
            service.import_definition(session, tables(broken, settings("1")))
        assert caught.value.result.codes() >= {"definition.duplicate_name"}
        assert caught.value.errors[0].loc == ("survey", 4, "name")


class TestDiff:
    def test_lists_added_removed_and_changed_questions_and_choices(self, session: Session) -> None:
        service.import_definition(session, tables(V1, settings("1")))
        v2 = V1.replace(
            "| integer           | units   | Units     | Unités    |",
            "| integer           | units   | Units now | Unités    |\n"
            "|        | text              | notes   | Notes     | Notes     |",
        ).replace(
            "|         | yes_no    | no   | No        | Non       |",
            "|         | yes_no    | no   | No        | Non       |\n"
            "|         | yes_no    | dk   | Unknown   | Inconnu   |",
        )
        service.import_definition(session, tables(v2, settings("2")))
        diff = service.diff_versions(session, "pet", "1", "2")
        assert diff.added_questions == ["notes"]
        assert diff.removed_questions == []
        assert list(diff.changed_questions) == ["units"]
        assert diff.changed_questions["units"][0].field == "label"
        assert diff.added_choices == {"yes_no": ["dk"]}
        assert "+ question notes" in diff.lines()
        assert service.diff_versions(session, "pet", "1", "1").is_empty


class TestCatalogue:
    def test_every_catalogue_form_validates_and_publishes(self, session: Session) -> None:
        versions = service.load_catalogue(session)
        assert {v.questionnaire_id for v in versions}
        assert len(versions) == 8
        assert all(v.status == "published" for v in versions)
        summaries = {s.form_id: s for s in service.list_questionnaires(session)}
        assert summaries["radiotherapy"].domain == "radiotherapy"
        assert summaries["centre_profile"].published_version == "2026.1"
        again = service.load_catalogue(session)
        assert [v.id for v in again] == [v.id for v in versions]

    def test_catalogue_forms_are_in_english_and_french(self) -> None:
        for tables_ in service.catalogue_tables():
            from surveys.questionnaires.definitions.model import declared_languages

            assert declared_languages(tables_) == ["en", "fr"], tables_.source


class TestAuditedUseCases:
    def test_a_new_version_is_audited_the_same_content_again_is_not(self, session: Session) -> None:
        outcome = service.import_form(session, MANAGER, tables(V1, settings("1")), request_id="r")
        event = last_event(session, "questionnaire.import")
        assert (event.actor, event.object_type, event.object_id, event.details) == (
            "user:999002",
            "questionnaire",
            "pet@1",
            {"content_hash": outcome.version.content_hash},
        )
        again = service.import_form(session, MANAGER, tables(V1, settings("1")), request_id=None)
        assert not again.created
        assert len(events(session, "questionnaire.import")) == 1

    def test_publishing_is_audited(self, session: Session) -> None:
        service.import_form(session, MANAGER, tables(V1, settings("1")), request_id=None)
        published = service.publish_form(session, MANAGER, "pet", request_id="r-2")
        event = last_event(session, "questionnaire.publish")
        assert (event.object_id, event.details, event.request_id) == (
            "pet@1",
            {"content_hash": published.content_hash},
            "r-2",
        )

    def test_the_catalogue_from_the_command_line_leaves_one_event_per_change(
        self, session: Session
    ) -> None:
        versions = service.publish_catalogue(session, system_actor(), request_id=None)
        imports = events(session, "questionnaire.import")
        publications = events(session, "questionnaire.publish")
        assert len(imports) == len(publications) == len(versions) == 8
        assert {(e.actor, e.details["via"]) for e in imports + publications} == {
            ("system:cli", "cli")
        }
        service.publish_catalogue(session, system_actor(), request_id=None)
        assert len(events(session, "questionnaire.publish")) == 8

    def test_an_actor_without_questionnaires_manage_is_refused(self, session: Session) -> None:
        lead = staff_actor(user_id=999_004, role="domain_lead", domains=["radiomics"])
        with pytest.raises(PermissionDenied):
            service.import_form(session, lead, tables(V1, settings("1")), request_id=None)
        service.import_definition(session, tables(V1, settings("1")))
        with pytest.raises(PermissionDenied):
            service.publish_form(session, lead, "pet", "1", request_id=None)
        with pytest.raises(PermissionDenied):
            service.publish_catalogue(session, lead, request_id=None)
        assert service.get_version(session, "pet", "1").status == "draft"
        assert events(session, "questionnaire.import") == []
