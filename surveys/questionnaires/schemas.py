"""What the API and the CLI return about questionnaires."""

from __future__ import annotations

import datetime as dt
from typing import Any

from surveys.questionnaires.definitions.diff import DefinitionDiff
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.questionnaires.rules import Problem, ValidationResult
from surveys.questionnaires.service import QuestionnaireSummary
from surveys.schemas import Schema


class ProblemRead(Schema):
    code: str
    sheet: str
    row: int | None
    column: str | None
    message: str
    fix: str
    severity: str

    @classmethod
    def of(cls, problem: Problem) -> ProblemRead:
        return cls(
            code=problem.code,
            sheet=problem.sheet,
            row=problem.row,
            column=problem.column,
            message=problem.message,
            fix=problem.fix,
            severity=problem.severity,
        )


class ValidationReport(Schema):
    ok: bool
    errors: list[ProblemRead]
    warnings: list[ProblemRead]

    @classmethod
    def of(cls, result: ValidationResult) -> ValidationReport:
        return cls(
            ok=result.ok,
            errors=[ProblemRead.of(p) for p in result.errors],
            warnings=[ProblemRead.of(p) for p in result.warnings],
        )


class QuestionnaireRead(Schema):
    form_id: str
    title: str
    domain: str | None
    versions: int
    latest_version: str
    latest_status: str
    published_version: str | None

    @classmethod
    def of(cls, summary: QuestionnaireSummary) -> QuestionnaireRead:
        return cls.model_validate(summary, from_attributes=True)


class VersionRead(Schema):
    form_id: str
    version: str
    status: str
    content_hash: str
    languages: list[str]
    questions: int
    created_at: dt.datetime
    published_at: dt.datetime | None

    @classmethod
    def of(cls, version: QuestionnaireVersion, form_id: str) -> VersionRead:
        definition = version.definition
        return cls(
            form_id=form_id,
            version=version.version,
            status=version.status,
            content_hash=version.content_hash,
            languages=list(definition["languages"]),
            questions=sum(1 for r in definition["survey"] if not r["type"].startswith("end_")),
            created_at=version.created_at,
            published_at=version.published_at,
        )


class VersionDefinition(VersionRead):
    definition: dict[str, Any]


class FieldChangeRead(Schema):
    field: str
    before: Any
    after: Any


class DiffRead(Schema):
    form_id: str
    before: str
    after: str
    added_questions: list[str]
    removed_questions: list[str]
    changed_questions: dict[str, list[FieldChangeRead]]
    added_choices: dict[str, list[str]]
    removed_choices: dict[str, list[str]]
    changed_choices: dict[str, list[str]]
    changed_settings: list[FieldChangeRead]

    @classmethod
    def of(cls, diff: DefinitionDiff, form_id: str, before: str, after: str) -> DiffRead:
        return cls(
            form_id=form_id,
            before=before,
            after=after,
            added_questions=diff.added_questions,
            removed_questions=diff.removed_questions,
            changed_questions={
                name: [
                    FieldChangeRead(field=c.field, before=c.before, after=c.after) for c in changes
                ]
                for name, changes in diff.changed_questions.items()
            },
            added_choices=diff.added_choices,
            removed_choices=diff.removed_choices,
            changed_choices=diff.changed_choices,
            changed_settings=[
                FieldChangeRead(field=c.field, before=c.before, after=c.after)
                for c in diff.changed_settings
            ],
        )
