"""Choosing what a campaign sends and to whom: questionnaire versions by form id (the latest
published unless a version is named) and centres (all active ones, the active ones of some
countries, or a list of stable ids). Refusals name the field and the choice at fault."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.errors import FieldError, InvalidInput
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country

CENTRE_SCOPES = ("all", "countries", "ids")


def choose_versions(
    session: Session, choices: Sequence[tuple[str, str | None]]
) -> list[QuestionnaireVersion]:
    """The versions a campaign sends: ``(form_id, version)``, the latest published when None."""
    chosen: list[QuestionnaireVersion] = []
    problems: list[FieldError] = []
    for index, (form_id, number) in enumerate(choices):
        query = (
            select(QuestionnaireVersion)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(
                Questionnaire.form_id == form_id,
                QuestionnaireVersion.status == "published",
            )
            .options(joinedload(QuestionnaireVersion.questionnaire))
        )
        if number is not None:
            query = query.where(QuestionnaireVersion.version == number)
        found = session.scalar(
            query.order_by(
                QuestionnaireVersion.published_at.desc(), QuestionnaireVersion.id.desc()
            ).limit(1)
        )
        if found is None:
            what = f"version {number} of {form_id!r}" if number else f"{form_id!r}"
            problems.append(
                FieldError(
                    ("questionnaires", index),
                    f"no published {what}; publish it first or choose another questionnaire",
                )
            )
        elif any(v.questionnaire_id == found.questionnaire_id for v in chosen):
            problems.append(
                FieldError(("questionnaires", index), f"{form_id!r} is chosen twice; keep one")
            )
        else:
            chosen.append(found)
    if not choices:
        problems.append(FieldError(("questionnaires",), "choose at least one questionnaire"))
    if problems:
        raise InvalidInput("Some questionnaires cannot be sent.", errors=problems)
    return chosen


def choose_centres(
    session: Session,
    *,
    scope: str,
    countries: Sequence[str] = (),
    centre_ids: Sequence[str] = (),
) -> list[Centre]:
    """The centres a campaign asks: all active ones, the active ones of some countries, or a list
    of centres by their stable ids (inactive ones included: naming a centre is deliberate)."""
    if scope not in CENTRE_SCOPES:
        raise InvalidInput(
            f"Unknown centre choice {scope!r}; use one of {', '.join(CENTRE_SCOPES)}.",
            errors=[FieldError(("centre_scope",), "unknown choice")],
        )
    query = select(Centre).join(Country, Country.id == Centre.country_id).order_by(Centre.id)
    if scope == "ids":
        wanted = list(dict.fromkeys(centre_ids))
        found = list(session.scalars(query.where(Centre.public_id.in_(wanted))))
        unknown = sorted(set(wanted) - {c.public_id for c in found})
        if unknown or not wanted:
            message = (
                f"unknown centre id(s): {', '.join(unknown[:10])}" if unknown else "list one centre"
            )
            raise InvalidInput(
                "Some centres are not in the registry.",
                errors=[FieldError(("centre_ids",), message)],
            )
        return found
    query = query.where(Centre.active.is_(True))
    if scope == "countries":
        codes = sorted({c.upper() for c in countries})
        known = set(session.scalars(select(Country.iso2).where(Country.iso2.in_(codes))))
        unknown = [c for c in codes if c not in known]
        if unknown or not codes:
            message = f"unknown country code(s): {', '.join(unknown)}" if unknown else "name one"
            raise InvalidInput(
                "Some countries are not known.", errors=[FieldError(("countries",), message)]
            )
        query = query.where(Country.iso2.in_(codes))
    centres = list(session.scalars(query))
    if not centres:
        raise InvalidInput(
            "No active centre matches this choice.",
            errors=[FieldError(("centre_scope",), "no active centre matches")],
        )
    return centres
