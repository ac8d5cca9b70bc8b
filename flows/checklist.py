"""Which indicators concern a provider, the evidence examples that fit it, and why the
checklist holds what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from flows.answers import categories_of, has_option
from flows.contract import Answer, Answers
from flows.referential import (
    Condition,
    Indicator,
    Referential,
    SubcontractedAction,
)
from flows.rules import Finding
from flows.sources import (
    ANNEX_2019,
    DECREE_2026,
    GUIDE_V9,
    L6313_1,
)


def _condition_holds(condition: Condition, category: str, answers: Answers) -> bool:
    """Tells whether an indicator's condition holds for one category (decree, guide V9)."""
    match condition:
        case Condition.NONE:
            return True
        case Condition.CERTIFYING:  # VAE and apprenticeship always lead to a certification
            return category in ("VAE", "CFA") or answers.get("certifying") == "yes"
        case Condition.ALTERNANCE:
            return category == "CFA" or answers.get("work_based") == "alternance"
        case Condition.WORK_BASED:
            return category == "CFA" or answers.get("work_based") in ("alternance", "work_periods")
        case Condition.SUBCONTRACTING:
            return answers.get("uses_subcontractors") == "yes"
        case Condition.CFA_ONLY:
            return category == "CFA"
        case Condition.LONG_COURSES:  # guide V9: 12 concerns trainings longer than 2 days
            return category != "AF" or answers.get("long_courses") == "yes"


def informs_no_public(answers: Answers) -> bool:
    """Tells whether informing the public (1, 2, 3) is left to the contracting provider.

    True for a provider that only delivers as a subcontractor and is not about to sell
    directly: one certain to sell directly soon must publish its own offer and results.
    """
    return (
        answers.get("selling") == "subcontractor_only"
        and answers.get("future_public") != "certain"
    )


@lru_cache(maxsize=4096)
def _indicators(ref: Referential, profile: tuple[tuple[str, Answer], ...]) -> tuple[int, ...]:
    answers = dict(profile)
    categories = categories_of(answers)
    no_public = informs_no_public(answers)
    return tuple(
        ind.number
        for ind in ref.indicators
        if any(
            c in ind.applies_to and _condition_holds(ind.condition, c, answers) for c in categories
        )
        and not (no_public and ind.subcontracted_action is SubcontractedAction.NOT_APPLICABLE)
    )


_CHECKLIST_QUESTIONS = (
    "activities",
    "selling",
    "future_public",
    "certifying",
    "long_courses",
    "work_based",
    "uses_subcontractors",
)


def indicators_for(ref: Referential, answers: Answers) -> tuple[int, ...]:
    """Returns, ascending, the indicators of ``ref`` that concern a provider with these answers."""
    profile = tuple((q, answers[q]) for q in _CHECKLIST_QUESTIONS if q in answers)
    return _indicators(ref, profile)


CFA_INSTITUTIONAL: tuple[int, ...] = (14, 15, 20, 29)
"""The CFA's own institutional duties (annex of décret 2019-565: apprentices' support and
rights, disability referent and conseil de perfectionnement, insertion): a teacher it
subcontracts does not carry them (guide V9, subcontracting: per the missions of the contract)."""


def teaches_for_a_cfa(answers: Answers) -> bool:
    """Tells whether the provider delivers apprenticeship actions for a CFA only."""
    return (
        has_option(answers, "activities", "apprenticeship")
        and answers.get("selling") == "subcontractor_only"
    )


def mission_indicators(indicators: tuple[int, ...], answers: Answers) -> tuple[int, ...]:
    """The indicators a subcontractor's missions usually touch, among its category's."""
    if not teaches_for_a_cfa(answers):
        return indicators
    return tuple(n for n in indicators if n not in CFA_INSTITUTIONAL)


def _proof_fits(tag: str | None, answers: Answers) -> bool:
    match tag:
        case "vae":
            return has_option(answers, "activities", "vae")
        case "staff":
            return answers.get("role") != "independent"
        case "funder":
            return categories_of(answers) != ("BC",)
    return True


def proofs_for(ind: Indicator, answers: Answers, lang: str) -> tuple[str, ...]:
    """Returns the examples of evidence that fit this provider (no VAE file without VAE…)."""
    return tuple(
        text
        for text, tag in zip(ind.proofs[lang], ind.proof_tags, strict=True)
        if _proof_fits(tag, answers)
    )


def checklist_notes(
    ref: Referential, answers: Answers, *, missions: bool = False
) -> Iterator[Finding]:
    """Yields why the checklist holds what it holds (and not more); ``missions`` for the
    list of what a subcontractor's missions touch (it is not certified itself)."""
    categories = categories_of(answers)
    yield Finding(
        "scope_categories",
        L6313_1 & ANNEX_2019,
        {"categories": categories, "missions": missions},
    )
    no_public = informs_no_public(answers)
    if no_public:
        yield Finding(
            "scope_subcontracted_actions", GUIDE_V9.at("sous-traitance", "subcontracting")
        )
    if missions and teaches_for_a_cfa(answers):
        yield Finding(
            "scope_cfa_subcontractor",
            ANNEX_2019.at("indicateurs 14, 15, 20 et 29", "indicators 14, 15, 20 and 29")
            & GUIDE_V9.at("sous-traitance", "subcontracting"),
        )
    elif answers.get("selling") == "subcontractor_only":
        yield Finding("scope_selling_soon", ANNEX_2019.at("indicateurs 1 à 3", "indicators 1-3"))
    if answers.get("certifying") == "yes":
        yield Finding(
            "scope_certifying",
            ANNEX_2019.at("indicateurs 3, 7 et 16", "indicators 3, 7, 16"),
            {"no_public": no_public},
        )
    if answers.get("work_based") in ("alternance", "work_periods"):
        yield Finding(
            "scope_work_based",
            ANNEX_2019.at("indicateurs 13 et 28", "indicators 13 and 28") & GUIDE_V9,
            {"alternance": answers.get("work_based") == "alternance"},
        )
    if categories == ("AF",) and answers.get("long_courses") == "no":
        yield Finding("scope_short_courses", GUIDE_V9.indicator(12))
    if answers.get("uses_subcontractors") == "no":
        yield Finding("scope_no_subcontractors", ANNEX_2019.indicator(27))
    if "CFA" in categories and ref.id == "rnq-2026":
        yield Finding("scope_indicator_33", DECREE_2026.indicator(33), uncertain=True)
