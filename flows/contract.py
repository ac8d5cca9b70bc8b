"""The public questionnaire contract: question ids, options, and answer validation shapes.

The ids are those of the questionnaire contract (shared reference
``questionnaire-contract.md``); integrations rely on them, so they never change meaning.
Which questions a path asks is decided in ``flows.rules`` because it depends on the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml


class Kind(StrEnum):
    """How many options a question takes."""

    SINGLE = "single"
    MULTI = "multi"


@dataclass(frozen=True, slots=True)
class Question:
    """One question of the contract."""

    id: str
    kind: Kind
    options: tuple[str, ...]
    exclusive: str | None = None
    """For a multi question, the option that cannot be combined with any other."""


def _single(qid: str, *options: str) -> Question:
    return Question(qid, Kind.SINGLE, options)


def _multi(qid: str, *options: str, exclusive: str | None = None) -> Question:
    return Question(qid, Kind.MULTI, options, exclusive)


def _languages() -> tuple[str, ...]:
    raw = yaml.safe_load((resources.files("flows") / "languages.yaml").read_text("utf-8"))
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise ValueError("flows/languages.yaml: a list of language codes")
    return tuple(raw)


LANGUAGES: tuple[str, ...] = _languages()
"""The languages of every text and of the conversation (``flows/languages.yaml``)."""

_YES_NO = ("yes", "no")

# In the order a person is asked them: who you are, what you do, how you sell and who pays
# (everything the verdict needs), then the details that shape the checklist, then where the
# provider stands with certification (not yet, or certified: audit cycle and scope), then sites.
QUESTION_LIST: tuple[Question, ...] = (
    _single(
        "role",
        "independent",
        "organisation",
        "employed_trainer",
        "employer_internal",
        "higher_education",
    ),
    _single("higher_education", "public_accredited", "private_evaluated", "other_private"),
    _multi(
        "activities",
        "training",
        "skills_assessment",
        "vae",
        "apprenticeship",
        "other",
        exclusive="other",
    ),
    _single("selling", "direct", "subcontractor_only", "both"),
    _multi(
        "funders",
        "opco",
        "cpf",
        "france_travail",
        "region",
        "state",
        "agefiph",
        "transitions_pro",
        "companies_own_budget",
        "individuals",
        "faf",
        "other_funds",
        "none_yet",
        exclusive="none_yet",
    ),
    _single("cpf_subcontracting", *_YES_NO),
    _single("micro_enterprise", *_YES_NO),
    _single("future_public", "certain", "maybe", "no"),
    _single("certifying", *_YES_NO),
    _single("long_courses", *_YES_NO),
    _single("work_based", "alternance", "work_periods", "no"),
    _single("uses_subcontractors", *_YES_NO),
    _single("certified", "no", "in_progress", "yes", "lapsed"),
    _single("stage", "established", "new_entrant", "nda_pending", "not_started"),
    _single(
        "audit_cycle",
        "before_surveillance",
        "surveillance_window",
        "before_renewal",
        "renewal_window",
        "expiring",
    ),
    _single("scope", "covers_all", "missing_category"),
    _multi("missing_categories", "training", "skills_assessment", "vae", "apprenticeship"),
    _single("sites", "one", "several"),
)

QUESTIONS: Mapping[str, Question] = MappingProxyType({q.id: q for q in QUESTION_LIST})
QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTION_LIST)

L6316_1_FUNDERS: frozenset[str] = frozenset(
    {"opco", "cpf", "france_travail", "region", "state", "agefiph", "transitions_pro"}
)
"""The funders whose money makes certification compulsory (Code du travail L6316-1)."""

CATEGORY_OF_ACTIVITY: Mapping[str, str] = MappingProxyType(
    {"training": "AF", "skills_assessment": "BC", "vae": "VAE", "apprenticeship": "CFA"}
)
"""Activity option → action category of L6313-1 (1° AF, 2° BC, 3° VAE, 4° CFA)."""

CATEGORIES: tuple[str, ...] = ("AF", "BC", "VAE", "CFA")


class Verdict(StrEnum):
    """The verdict codes of the contract."""

    REQUIRED = "required"
    RECOMMENDED = "recommended"
    OPTIONAL = "optional"
    NOT_REQUIRED = "not_required"
    DEEMED_COMPLIANT = "deemed_compliant"
    NOT_APPLICABLE = "not_applicable"


VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)

Answer = str | tuple[str, ...]
Answers = Mapping[str, Answer]
"""Validated answers: a str for a single question, a tuple in contract order for a multi one."""


def canonical(answers: Mapping[str, Any]) -> dict[str, Answer]:
    """Answers as the rules read them: a multi-choice answer as a tuple (JSON gives lists)."""
    return {q: v if isinstance(v, str) else tuple(v) for q, v in answers.items()}


def as_json(answers: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Answers as JSON stores them: a multi-choice answer as a list."""
    return {q: v if isinstance(v, str) else list(v) for q, v in answers.items()}
