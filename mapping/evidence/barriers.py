"""Barriers to access: what the centres of each domain and country say blocks patients' access.

A barrier question is a ``select_multiple`` whose name ends in ``barriers`` (the built-in
catalogue's ``nm_barriers``, ``rt_barriers``...), one per domain questionnaire. For each
question, each country and all countries together, the summary counts:

* ``responding``: the centres that answered the question in a submitted or approved response;
* ``invited``: the centres the campaign expects answers from (its centres in that country);
* ``coverage``: responding / invited;
* ``citing`` and ``share``: the responding centres that chose a barrier, and their share of
  the responding centres (NaN where none responded: no data is never a share of zero).

"Other" free text (``<question>_other``) names no one but may name a colleague or a supplier:
it is listed only for actors who may read institution-level answers
(:attr:`surveys.policy.Permission.RESPONSES_READ`: coordinators, admins, domain leads), never
for researchers; :attr:`BarrierSummary.others` is None for an actor without it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from mapping import queries
from mapping.errors import CountryNotInStudy, DomainNotInCampaign
from mapping.evidence.queries import CampaignForm, campaign_forms
from mapping.reads import CampaignReads
from surveys.campaigns.models import Campaign
from surveys.domains import DOMAINS, PROFILE
from surveys.policy import Actor, Permission, authorize
from surveys.questionnaires.definitions.model import GENERATED_OTHER_SUFFIX, OTHER_LABELS

ALL_COUNTRIES = "ALL"
"""The ``area_code`` of the rows over every country of the campaign."""
BARRIER_SUFFIX = "barriers"
TABLE_COLUMNS = [
    "domain",
    "form_id",
    "question",
    "area_code",
    "area_name",
    "barrier",
    "barrier_label",
    "citing",
    "responding",
    "invited",
    "share",
    "coverage",
]


@dataclass(frozen=True)
class BarrierQuestion:
    """One barrier question of a questionnaire: its choices in order, labels per language."""

    domain: str
    form_id: str
    name: str
    label: Mapping[str, str]
    choices: tuple[tuple[str, Mapping[str, str]], ...]
    default_language: str

    def text(self, texts: Mapping[str, str], language: str) -> str:
        """A text in ``language``, else the questionnaire's default language, else any."""
        return (
            texts.get(language)
            or texts.get(self.default_language)
            or next(iter(texts.values()), "")
        )

    def choice_label(self, name: str, language: str) -> str:
        """A choice's label in ``language`` (its name when it has none)."""
        texts = dict(self.choices).get(name, {})
        return self.text(texts, language) or name


@dataclass(frozen=True)
class OtherAnswer:
    """One centre's "other" barrier, as it wrote it (escaped wherever it is shown)."""

    domain: str
    area_code: str
    centre: str
    text: str


@dataclass(frozen=True, eq=False)
class BarrierSummary:
    """The barriers of a campaign, by domain and country, in one language.

    ``table`` has :data:`TABLE_COLUMNS`, one row per question, area and barrier, the rows of
    every country first, then :data:`ALL_COUNTRIES`; ``others`` the "other" texts, or None when
    the actor may not read them.
    """

    campaign: Campaign
    language: str
    questions: tuple[BarrierQuestion, ...]
    table: pd.DataFrame
    others: tuple[OtherAnswer, ...] | None
    country: str | None = None

    def for_area(self, area_code: str) -> pd.DataFrame:
        """The rows of one area (a country code or :data:`ALL_COUNTRIES`)."""
        return self.table[self.table["area_code"] == area_code]

    def table_rows(self) -> list[list[Any]]:
        """A header row, then the table's rows (missing as None), for a CSV."""
        frame = self.table
        values = frame.astype(object).where(frame.notna(), None).values.tolist()
        return [list(frame.columns), *values]


def barrier_questions(form: CampaignForm) -> list[BarrierQuestion]:
    """The barrier questions of one questionnaire, with their choices ("other" last)."""
    definition = form.definition
    default = str(definition["settings"].get("default_language") or "en")
    found = []
    for item in definition.get("survey", []):
        name = str(item.get("name") or "")
        if item.get("type") != "select_multiple" or not name.endswith(BARRIER_SUFFIX):
            continue
        choices = [
            (str(choice["name"]), dict(choice.get("label", {})))
            for choice in definition.get("choices", {}).get(item.get("list_name"), [])
            if choice.get("name") != "other"
        ]
        if item.get("or_other"):
            choices.append(("other", {lang: texts[0] for lang, texts in OTHER_LABELS.items()}))
        found.append(
            BarrierQuestion(
                form.domain,
                form.form_id,
                name,
                dict(item.get("label", {})),
                tuple(choices),
                default,
            )
        )
    return found


def chosen(value: object) -> list[str]:
    """The choices of a ``select_multiple`` answer: a list, or XLSForm's space-separated text.

    >>> chosen(["cost", "staff"]), chosen("cost staff"), chosen(""), chosen(None)
    (['cost', 'staff'], ['cost', 'staff'], [], [])
    """
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v)]
    if isinstance(value, str):
        return value.split()
    return []


def barrier_table(
    question: BarrierQuestion,
    responses: pd.DataFrame,
    expected: pd.DataFrame,
    area_names: Mapping[str, str],
    language: str = "en",
) -> pd.DataFrame:
    """The share of responding centres citing each barrier of one question, per country and
    over all countries.

    ``responses`` has ``centre_id``, ``country`` and ``answers`` (submitted and approved only);
    ``expected`` the campaign's centres with ``centre_id`` and ``country``.

    Examples
    --------
    >>> q = BarrierQuestion("d", "f", "x_barriers", {}, (("cost", {"en": "Cost"}),
    ...     ("staff", {"en": "Staff"})), "en")
    >>> responses = pd.DataFrame({"centre_id": [1, 2], "country": ["FR", "FR"],
    ...     "answers": [{"x_barriers": ["cost"]}, {"x_barriers": ["cost", "staff"]}]})
    >>> expected = pd.DataFrame({"centre_id": [1, 2, 3, 4], "country": ["FR"] * 4})
    >>> table = barrier_table(q, responses, expected, {"FR": "France"})
    >>> france = table[table["area_code"] == "FR"]
    >>> france[["barrier", "citing", "share", "coverage"]].values.tolist()
    [['cost', 2, 1.0, 0.5], ['staff', 1, 0.5, 0.5]]
    """
    answered: dict[int, tuple[str, list[str]]] = {}
    for centre, country, answers in zip(
        responses["centre_id"], responses["country"], responses["answers"], strict=True
    ):
        picked = chosen(answers.get(question.name)) if isinstance(answers, dict) else []
        if picked:
            answered[int(centre)] = (str(country), picked)
    invited = expected.groupby("country")["centre_id"].nunique()
    areas = sorted(set(expected["country"].dropna()))
    rows = []
    for area in [*areas, ALL_COUNTRIES]:
        mine = [
            picked
            for country, picked in answered.values()
            if area == ALL_COUNTRIES or country == area
        ]
        responding = len(mine)
        asked = int(invited.sum() if area == ALL_COUNTRIES else invited.get(area, 0))
        for barrier, _ in question.choices:
            citing = sum(1 for picked in mine if barrier in picked)
            rows.append(
                {
                    "domain": question.domain,
                    "form_id": question.form_id,
                    "question": question.name,
                    "area_code": area,
                    "area_name": "All countries"
                    if area == ALL_COUNTRIES
                    else area_names.get(area, area),
                    "barrier": barrier,
                    "barrier_label": question.choice_label(barrier, language),
                    "citing": citing,
                    "responding": responding,
                    "invited": asked,
                    "share": citing / responding if responding else math.nan,
                    "coverage": responding / asked if asked else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def other_answers(
    question: BarrierQuestion, responses: pd.DataFrame, centre_names: Mapping[int, str]
) -> list[OtherAnswer]:
    """The "other" texts of one barrier question, by country and centre."""
    key = question.name + GENERATED_OTHER_SUFFIX
    found = []
    for centre, country, answers in zip(
        responses["centre_id"], responses["country"], responses["answers"], strict=True
    ):
        text = answers.get(key) if isinstance(answers, dict) else None
        if isinstance(text, str) and text.strip():
            found.append(
                OtherAnswer(
                    question.domain, str(country), centre_names.get(int(centre), ""), text.strip()
                )
            )
    return sorted(found, key=lambda o: (o.domain, o.area_code, o.centre))


def barrier_summary(
    session: Session,
    actor: Actor,
    campaign: str,
    *,
    domain: str | None = None,
    country: str | None = None,
    language: str = "en",
) -> BarrierSummary:
    """The barriers of a campaign's questionnaires (within the actor's domains), by domain and
    country; ``domain`` keeps one domain, ``country`` (ISO alpha-2) one country beside the
    all-country rows.

    Raises :class:`~mapping.errors.DomainNotInCampaign` for a domain the campaign does not
    send (or the actor may not see), :class:`~mapping.errors.CountryNotInStudy` for a country
    without any centre in the campaign.
    """
    authorize(actor, Permission.MAPS_READ)
    chosen_campaign = queries.campaign(session, actor, campaign)
    return collect_barriers(session, actor, chosen_campaign, domain, country, language)


def collect_barriers(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    domain: str | None,
    country: str | None,
    language: str,
    *,
    reads: CampaignReads | None = None,
) -> BarrierSummary:
    """The summary of :func:`barrier_summary` for a use case that has checked the permission
    already (the country profile, which shares its ``reads`` of the campaign)."""
    reads = reads if reads is not None else CampaignReads(session, campaign)
    forms = campaign_forms(session, actor, campaign)
    if domain is not None:
        forms = [f for f in forms if f.domain == domain]
        if not forms:
            raise DomainNotInCampaign(
                f"The campaign sends no questionnaire of the domain {domain!r} that you may see; "
                "choose one of its domains."
            )
    expected = reads.expected()
    if country is not None and country not in set(expected["country"]):
        raise CountryNotInStudy(
            f"The campaign expects no centre in {country!r}; use the ISO alpha-2 code of a "
            "country the campaign covers."
        )
    names = dict(queries.countries(session))
    centre_names = {
        int(c): str(n) for c, n in zip(expected["centre_id"], expected["name"], strict=True)
    }
    staff = Permission.RESPONSES_READ in actor.permissions
    questions: list[BarrierQuestion] = []
    tables: list[pd.DataFrame] = []
    others: list[OtherAnswer] = []
    for form in forms:
        found = barrier_questions(form)
        if not found:
            continue
        responses = reads.responses(form.form_id)
        for question in found:
            questions.append(question)
            tables.append(barrier_table(question, responses, expected, names, language))
            if staff:
                others += other_answers(question, responses, centre_names)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=TABLE_COLUMNS)
    if country is not None:
        table = table[table["area_code"].isin({country, ALL_COUNTRIES})].reset_index(drop=True)
        others = [o for o in others if o.area_code == country]
    others.sort(key=lambda o: (domain_rank(o.domain), o.area_code, o.centre))
    return BarrierSummary(
        campaign, language, tuple(questions), table, tuple(others) if staff else None, country
    )


def domain_rank(domain: str) -> int:
    """Where a domain comes in a page or a figure: the centre profile, then the domains in the
    order of :data:`surveys.domains.DOMAINS`, then any other."""
    order = (PROFILE, *DOMAINS)
    return order.index(domain) if domain in order else len(order)


def domains_of(summary: BarrierSummary) -> Sequence[str]:
    """The domains of a summary's questions, in their usual order (:func:`domain_rank`)."""
    return sorted(dict.fromkeys(q.domain for q in summary.questions), key=domain_rank)
