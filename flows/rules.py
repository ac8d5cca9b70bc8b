"""Who must be certified, and on which indicators: the rules as small named units.

Every rule cites its source. Rules return findings (a code, its source and plain data); the
wording of each finding lives in the ``messages`` templates, in French and English.

The order of the rules follows the decision tree of the domain reference (§1.3): scope first
(outside vocational training, employed trainers, internal training, higher education deemed
compliant), then what makes certification compulsory (L6316-1 funders, apprenticeship, CPF
subcontracting), then why it is not, then the outlook (future public funding).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from flows.contract import (
    CATEGORY_OF_ACTIVITY,
    L6316_1_FUNDERS,
    QUESTION_LIST,
    QUESTIONS,
    Answer,
    Answers,
    Kind,
)
from flows.referential import Condition, Referential, SubcontractedAction, referential_on


class Verdict(StrEnum):
    """The verdict codes of the contract."""

    REQUIRED = "required"
    RECOMMENDED = "recommended"
    OPTIONAL = "optional"
    NOT_REQUIRED = "not_required"
    DEEMED_COMPLIANT = "deemed_compliant"
    NOT_APPLICABLE = "not_applicable"


CERTIFICATION_PATH = frozenset({Verdict.REQUIRED, Verdict.RECOMMENDED, Verdict.OPTIONAL})
"""Verdicts after which the person may go through the audits (and the stage is asked)."""

NEW_ENTRANT_STAGES = frozenset({"new_entrant", "nda_pending"})

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Finding:
    """A reason, a checklist note or a next step: a code, its source and its data."""

    code: str
    source: str
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    uncertain: bool = False
    """The point is not settled (domain reference §6): the person is told so."""


# --- Sources ----------------------------------------------------------------------------------
# Citations are kept in one place so that every rule names its source the same way.

SEED_ARTICLE = "Article « Qualiopi Certification: What is it and who is concerned? »"
"""The article the product grew from (its FAQ settles the subcontractor and future-funds cases)."""
SEED_FAQ = f"{SEED_ARTICLE}, FAQ"
SEED_WHO = f"{SEED_ARTICLE}, « Who is concerned? »"
L6313_1 = "Code du travail, art. L6313-1"
L6316_1 = "Code du travail, art. L6316-1"
L6316_2 = "Code du travail, art. L6316-2"
L6316_4 = "Code du travail, art. L6316-4"
L6351_1 = "Code du travail, art. L6351-1"
CPF_SUBCONTRACTING = (
    "Code du travail, art. L6323-9-2 (loi n° 2022-1587) ; art. R6333-6-2 et R6333-6-3 "
    "(décret n° 2023-1350), contrats signés depuis le 1er avril 2024"
)
GUIDE_V9 = "Guide de lecture du RNQ, V9 du 8 janvier 2024"
ANNEX_2019 = "Décret n° 2019-565, annexe"
DECREE_2026 = "Décret n° 2026-728 du 1er août 2026 (rapporté, à confirmer sur Légifrance)"
AUDIT_ARRETE = "Arrêté du 6 juin 2019 (audits), modifié par l'arrêté du 31 mai 2023"
ARRETE_2023 = "Arrêté du 31 mai 2023 (en vigueur le 1er septembre 2023)"
ARRETE_CPF_2024 = "Arrêté du 3 janvier 2024 ; sources secondaires (Centre Inffo, OPCO EP)"
CERTIFIER_PRACTICE = "Pratique des certificateurs (AFNOR, Proneo, SGS)"
OPCO_GREY_ZONE = (
    f"{L6316_1} ; aucune source primaire sur les contributions volontaires des entreprises "
    "de 50 salariés et plus"
)
PRIVATE_HE_BILL = (
    "Projet de loi relatif à l'enseignement supérieur privé (30 juillet 2025), art. 5"
)


# --- Reading the answers ----------------------------------------------------------------------


def _has(answers: Answers, question: str, option: str) -> bool:
    value = answers.get(question)
    return value == option if isinstance(value, str) else value is not None and option in value


def _options(answers: Answers, question: str) -> tuple[str, ...]:
    value = answers.get(question)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def is_in_scope_provider(answers: Answers) -> bool:
    """Tells whether the person speaks for a provider that may sell actions (asks activities)."""
    return answers.get("role") in ("independent", "organisation") or (
        answers.get("higher_education") == "other_private"
    )


def delivers_vocational_actions(answers: Answers) -> bool:
    """Tells whether the chosen activities include an action category of L6313-1."""
    return any(a in CATEGORY_OF_ACTIVITY for a in _options(answers, "activities"))


def categories_of(answers: Answers) -> tuple[str, ...]:
    """Returns the action categories (AF, BC, VAE, CFA) of the chosen activities."""
    return tuple(
        CATEGORY_OF_ACTIVITY[a]
        for a in _options(answers, "activities")
        if a in CATEGORY_OF_ACTIVITY
    )


def sells_directly(answers: Answers) -> bool:
    """Tells whether the provider contracts with clients or funders itself."""
    return answers.get("selling") in ("direct", "both")


def subcontracts_for_others(answers: Answers) -> bool:
    """Tells whether the provider delivers actions for other providers."""
    return answers.get("selling") in ("subcontractor_only", "both")


# --- Rules ------------------------------------------------------------------------------------

Test = Callable[[Answers], bool | Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named rule: when ``test`` holds it yields a finding with its code and source."""

    code: str
    source: str
    test: Test
    uncertain: bool = False

    def __call__(self, answers: Answers) -> Finding | None:
        """Returns the finding when the rule holds for these answers."""
        result = self.test(answers)
        if not result:
            return None
        data = MappingProxyType(dict(result)) if isinstance(result, Mapping) else _EMPTY
        return Finding(self.code, self.source, data, self.uncertain)


def rule(code: str, source: str, *, uncertain: bool = False) -> Callable[[Test], Rule]:
    """Declares a rule: the decorated predicate returns True (or data) when it holds."""

    def declare(test: Test) -> Rule:
        return Rule(code, source, test, uncertain)

    return declare


# R0-R3: who is outside the obligation, whatever the money. The first that holds decides.


@rule("out_of_scope_activity", f"{L6313_1} ; Centre Inffo (le CEP est hors obligation)")
def activity_outside_vocational_training(answers: Answers) -> bool:
    """Leisure, personal development, school teaching or career counselling are out of scope."""
    return "activities" in answers and not delivers_vocational_actions(answers)


@rule("employed_trainer", f"{L6316_1} ; {SEED_WHO}")
def employed_trainers_are_covered_by_their_employer(answers: Answers) -> bool:
    """A salaried or occasional trainer is not bound personally: the provider paying them is."""
    return answers.get("role") == "employed_trainer"


@rule("internal_training", f"{L6316_1} ; {SEED_WHO} (conseil de la DGEFP)")
def internal_training_is_not_bound(answers: Answers) -> bool:
    """An employer training only its own staff with its own means needs no certification."""
    return answers.get("role") == "employer_internal"


@rule(
    "deemed_compliant_public_he", f"{L6316_4} (établissements accrédités après évaluation Hcéres)"
)
def accredited_public_higher_education_is_deemed_compliant(answers: Answers) -> bool:
    """Accredited public higher education is deemed to meet the obligation (no audit)."""
    return answers.get("higher_education") == "public_accredited"


@rule(
    "deemed_compliant_private_he",
    f"{L6316_4} ; France compétences (établissements évalués par le CCESP ou la CTI)",
    uncertain=True,
)
def evaluated_private_higher_education_is_deemed_compliant(answers: Answers) -> bool:
    """CCESP-evaluated private institutions and CTI-assessed programmes are deemed compliant."""
    return answers.get("higher_education") == "private_evaluated"


SCOPE_RULES: tuple[tuple[Rule, Verdict], ...] = (
    (activity_outside_vocational_training, Verdict.NOT_APPLICABLE),
    (employed_trainers_are_covered_by_their_employer, Verdict.NOT_REQUIRED),
    (internal_training_is_not_bound, Verdict.NOT_REQUIRED),
    (accredited_public_higher_education_is_deemed_compliant, Verdict.DEEMED_COMPLIANT),
    (evaluated_private_higher_education_is_deemed_compliant, Verdict.DEEMED_COMPLIANT),
)


# R4a, R5b, R6: what makes certification compulsory. A single one is enough.


def _funded_by(funder: str) -> Rule:
    @rule(f"funded_by_{funder}", L6316_1)
    def funded(answers: Answers) -> bool:
        return _has(answers, "funders", funder)

    funded.test.__doc__ = f"Actions paid by {funder}, an L6316-1 funder, require certification."
    return funded


FUNDER_RULES: tuple[Rule, ...] = tuple(
    _funded_by(f)
    for f in ("opco", "cpf", "france_travail", "region", "state", "transitions_pro", "agefiph")
)
assert {r.code.removeprefix("funded_by_") for r in FUNDER_RULES} == L6316_1_FUNDERS


@rule("apprenticeship", f"{L6316_1} ; {L6316_4} ; {ANNEX_2019} (toutes les colonnes CFA)")
def apprenticeship_requires_certification(answers: Answers) -> bool:
    """A CFA needs certification to be paid for apprenticeship contracts by the OPCO."""
    return _has(answers, "activities", "apprenticeship")


@rule("cpf_subcontractor", CPF_SUBCONTRACTING)
def cpf_subcontractors_must_be_certified(answers: Answers) -> bool:
    """Since 1 April 2024, delivering CPF-sold actions for another provider requires it."""
    return answers.get("cpf_subcontracting") == "yes" and answers.get("micro_enterprise") == "no"


OBLIGATION_RULES: tuple[Rule, ...] = (
    *FUNDER_RULES,
    apprenticeship_requires_certification,
    cpf_subcontractors_must_be_certified,
)


# R4b, R4c, R5a: why certification is not compulsory (when nothing above holds).


@rule(
    "cpf_subcontractor_micro_exempt",
    f"{CPF_SUBCONTRACTING} ; plafond du régime micro-social (77 700 € HT cité en 2024)",
)
def micro_entrepreneurs_subcontracting_on_cpf_are_exempt(answers: Answers) -> bool:
    """A micro-entrepreneur under the turnover ceiling is exempt as a CPF subcontractor."""
    return answers.get("cpf_subcontracting") == "yes" and answers.get("micro_enterprise") == "yes"


@rule("subcontractor_not_bound", f"{SEED_FAQ} ; {GUIDE_V9}, indicateur 27 ; Centre Inffo")
def subcontractors_are_controlled_by_their_contractor(
    answers: Answers,
) -> Mapping[str, Any] | None:
    """Outside CPF, a subcontractor is not bound: the contracting provider answers for quality."""
    if answers.get("cpf_subcontracting") != "no":
        return None
    return {"only": answers.get("selling") == "subcontractor_only"}


@rule(
    "private_funding_only", f"{L6316_1} ; réforme de 2018 (plan de développement des compétences)"
)
def private_money_alone_does_not_require_certification(answers: Answers) -> bool:
    """Companies' own budgets (including 50+ employees) and individuals are not L6316-1 funders."""
    funders = _options(answers, "funders")
    return bool(funders) and set(funders) <= {"companies_own_budget", "individuals"}


@rule("other_funds_not_listed", f"{L6316_1} (liste limitative des financeurs)")
def funds_outside_the_list_do_not_require_certification(answers: Answers) -> bool:
    """FAF, communes, départements and foundations are not L6316-1 funders (contracts may ask)."""
    return _has(answers, "funders", "other_funds")


@rule("no_funding_yet", L6316_1)
def no_funder_yet(answers: Answers) -> bool:
    """Nobody pays yet: no obligation today."""
    return _has(answers, "funders", "none_yet")


EXEMPTION_RULES: tuple[Rule, ...] = (
    micro_entrepreneurs_subcontracting_on_cpf_are_exempt,
    subcontractors_are_controlled_by_their_contractor,
    private_money_alone_does_not_require_certification,
    funds_outside_the_list_do_not_require_certification,
    no_funder_yet,
)


# R8: the outlook, when nothing requires certification today.

OUTLOOK_SOURCE = f"{SEED_FAQ} (financements publics ou mutualisés à venir)"
OUTLOOK: Mapping[str, Verdict] = MappingProxyType(
    {"certain": Verdict.RECOMMENDED, "maybe": Verdict.OPTIONAL, "no": Verdict.OPTIONAL}
)


def obligations(answers: Answers) -> tuple[Finding, ...]:
    """Returns every reason that makes certification compulsory for these answers."""
    return tuple(f for r in OBLIGATION_RULES if (f := r(answers)) is not None)


def decide(answers: Answers) -> tuple[Verdict, tuple[Finding, ...]] | None:
    """Returns the verdict and its reasons, or None while an answer it needs is missing."""
    for scope_rule, verdict in SCOPE_RULES:
        finding = scope_rule(answers)
        if finding is not None:
            return verdict, (finding,)
    if not delivers_vocational_actions(answers):
        return None
    required = obligations(answers)
    if required:
        return Verdict.REQUIRED, required
    reasons = tuple(f for r in EXEMPTION_RULES if (f := r(answers)) is not None)
    future = answers.get("future_public")
    if not isinstance(future, str):
        return None
    if future == "no" and not sells_directly(answers):
        verdict = Verdict.NOT_REQUIRED
    else:
        verdict = OUTLOOK[future]
    return verdict, (*reasons, Finding(f"future_public_{future}", OUTLOOK_SOURCE))


# --- Which questions a path asks (the contract's "asked when" column) ---------------------------


def _asks_stage(answers: Answers) -> bool:
    decided = decide(answers)
    return decided is not None and decided[0] in CERTIFICATION_PATH


ASKED_WHEN: Mapping[str, Callable[[Answers], bool]] = MappingProxyType(
    {
        "role": lambda a: True,
        "higher_education": lambda a: a.get("role") == "higher_education",
        "activities": is_in_scope_provider,
        "selling": delivers_vocational_actions,
        "funders": sells_directly,
        "cpf_subcontracting": subcontracts_for_others,
        "micro_enterprise": lambda a: a.get("cpf_subcontracting") == "yes",
        "future_public": lambda a: delivers_vocational_actions(a) and not obligations(a),
        "certifying": lambda a: _has(a, "activities", "training"),
        "long_courses": lambda a: _has(a, "activities", "training"),
        "work_based": lambda a: _has(a, "activities", "training"),
        "uses_subcontractors": delivers_vocational_actions,
        "stage": _asks_stage,
        "sites": lambda a: (
            a.get("role") in ("organisation", "higher_education") and _asks_stage(a)
        ),
    }
)
"""Whether a question is asked, given the answers to the questions before it."""


def is_asked(question: str, answers: Answers) -> bool:
    """Tells whether the path of these answers asks that question."""
    return ASKED_WHEN[question](answers)


def path_questions(answers: Answers) -> Iterator[str]:
    """Yields the questions asked on this path, in order, stopping at the first unanswered."""
    for question in QUESTION_LIST:
        if is_asked(question.id, answers):
            yield question.id
            if question.id not in answers:
                return


# --- Validation ---------------------------------------------------------------------------------


class ContractError(ValueError):
    """The answers break the questionnaire contract; ``code`` names the kind of fault."""

    def __init__(self, code: str, question: str | None = None, **data: Any) -> None:
        super().__init__(f"{code}: {question or ''} {data or ''}".strip())
        self.code = code
        self.question = question
        self.data: Mapping[str, Any] = MappingProxyType(data)


def _check_shape(question: str, value: object) -> Answer:
    spec = QUESTIONS[question]
    allowed = spec.options
    if spec.kind is Kind.SINGLE:
        if not isinstance(value, str):
            raise ContractError("not_single", question, allowed=allowed, given=value)
        if value not in allowed:
            raise ContractError("unknown_option", question, allowed=allowed, given=value)
        return value
    if not isinstance(value, list | tuple):
        raise ContractError("not_multi", question, allowed=allowed, given=value)
    if not value:
        raise ContractError("empty_multi", question, allowed=allowed)
    seen: set[str] = set()
    for option in value:
        if not isinstance(option, str) or option not in allowed:
            raise ContractError("unknown_option", question, allowed=allowed, given=option)
        if option in seen:
            raise ContractError("duplicate_option", question, allowed=allowed, given=option)
        seen.add(option)
    if spec.exclusive in seen and len(seen) > 1:
        raise ContractError("exclusive_option", question, allowed=allowed, given=spec.exclusive)
    return tuple(o for o in allowed if o in seen)


def validate(raw: object) -> dict[str, Answer]:
    """Returns the answers in canonical form, or raises ContractError on the first fault."""
    if not isinstance(raw, Mapping):
        raise ContractError("not_an_object")
    for key in raw:
        if key not in QUESTIONS:
            raise ContractError("unknown_question", str(key), allowed=tuple(QUESTIONS))
    shaped = {q.id: _check_shape(q.id, raw[q.id]) for q in QUESTION_LIST if q.id in raw}
    answers: dict[str, Answer] = {}
    for question in QUESTION_LIST:
        asked = is_asked(question.id, answers)
        if asked and question.id not in shaped:
            raise ContractError("missing_question", question.id, allowed=question.options)
        if not asked and question.id in shaped:
            raise ContractError("skipped_question", question.id, given=shaped[question.id])
        if asked:
            answers[question.id] = shaped[question.id]
    return answers


# --- Which indicators -----------------------------------------------------------------------


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


@lru_cache(maxsize=4096)
def _indicators(ref: Referential, profile: tuple[tuple[str, Answer], ...]) -> tuple[int, ...]:
    answers = dict(profile)
    categories = categories_of(answers)
    only_subcontracted = answers.get("selling") == "subcontractor_only"
    return tuple(
        ind.number
        for ind in ref.indicators
        if any(
            c in ind.applies_to and _condition_holds(ind.condition, c, answers) for c in categories
        )
        and not (
            only_subcontracted and ind.subcontracted_action is SubcontractedAction.NOT_APPLICABLE
        )
    )


_CHECKLIST_QUESTIONS = (
    "activities",
    "selling",
    "certifying",
    "long_courses",
    "work_based",
    "uses_subcontractors",
)


def indicators_for(ref: Referential, answers: Answers) -> tuple[int, ...]:
    """Returns, ascending, the indicators of ``ref`` that concern a provider with these answers."""
    profile = tuple((q, answers[q]) for q in _CHECKLIST_QUESTIONS if q in answers)
    return _indicators(ref, profile)


def _checklist_notes(ref: Referential, answers: Answers) -> Iterator[Finding]:
    """Yields why the checklist holds what it holds (and not more)."""
    categories = categories_of(answers)
    yield Finding("scope_categories", f"{L6313_1} ; {ANNEX_2019}", {"categories": categories})
    if answers.get("selling") == "subcontractor_only":
        yield Finding("scope_subcontracted_actions", f"{GUIDE_V9} (sous-traitance)")
    if answers.get("certifying") == "yes":
        yield Finding("scope_certifying", f"{ANNEX_2019}, indicateurs 3, 7 et 16")
    if answers.get("work_based") in ("alternance", "work_periods"):
        yield Finding(
            "scope_work_based",
            f"{ANNEX_2019}, indicateurs 13 et 28 ; {GUIDE_V9}",
            {"alternance": answers.get("work_based") == "alternance"},
        )
    if categories == ("AF",) and answers.get("long_courses") == "no":
        yield Finding("scope_short_courses", f"{GUIDE_V9}, indicateur 12")
    if answers.get("uses_subcontractors") == "no":
        yield Finding("scope_no_subcontractors", f"{ANNEX_2019}, indicateur 27")
    if "CFA" in categories and ref.id == "rnq-2026":
        yield Finding("scope_indicator_33", f"{DECREE_2026}, indicateur 33", uncertain=True)


# --- Next steps -------------------------------------------------------------------------------


def _certification_steps(
    verdict: Verdict, answers: Answers, deferred: tuple[int, ...]
) -> Iterator[Finding]:
    stage = answers.get("stage")
    if verdict is Verdict.RECOMMENDED:
        yield Finding(
            "certify_ahead_of_funding", f"{SEED_FAQ} ; {ARRETE_2023} ; {CERTIFIER_PRACTICE}"
        )
    elif verdict is Verdict.OPTIONAL:
        yield Finding("weigh_voluntary_certification", f"{SEED_FAQ} ; {CERTIFIER_PRACTICE}")
    if answers.get("cpf_subcontracting") == "yes" and answers.get("micro_enterprise") == "no":
        yield Finding("cpf_subcontracting_contract", ARRETE_CPF_2024)
    if stage == "not_started":
        yield Finding("deliver_first_action", ARRETE_2023)
    if stage in ("not_started", "nda_pending"):
        yield Finding("declare_activity", f"{L6351_1} ; {AUDIT_ARRETE}, art. 1", {"stage": stage})
    yield Finding("choose_certifier", L6316_2)
    yield Finding("initial_audit", f"{AUDIT_ARRETE}, art. 1")
    if deferred:
        yield Finding("new_entrant_two_steps", GUIDE_V9, {"deferred": deferred})
    yield Finding("surveillance_audit", AUDIT_ARRETE, {"new_entrant": bool(deferred)})
    yield Finding("renewal_audit", f"{AUDIT_ARRETE} ; {CERTIFIER_PRACTICE}")
    if answers.get("sites") == "several":
        yield Finding("several_sites", f"{ARRETE_2023} ; {CERTIFIER_PRACTICE}")
    yield Finding(
        "public_list", f"{ARRETE_2023} ; liste publique des organismes certifiés (DGEFP)"
    )


def _other_steps(verdict: Verdict, answers: Answers) -> Iterator[Finding]:
    role = answers.get("role")
    if verdict is Verdict.NOT_APPLICABLE:
        yield Finding("no_declaration_needed", f"{L6313_1} ; {L6351_1}")
    elif verdict is Verdict.DEEMED_COMPLIANT:
        yield Finding("deemed_compliant_public_list", L6316_4)
    elif role == "employed_trainer":
        yield Finding("employer_holds_certification", f"{SEED_WHO} ; {GUIDE_V9}, indicateur 27")
    elif role == "employer_internal":
        yield Finding("internal_no_declaration", f"{L6351_1} ; {SEED_WHO}")
    else:  # a subcontractor that nothing obliges
        yield Finding(
            "follow_contractor_quality_system", f"{SEED_FAQ} ; {GUIDE_V9}, indicateur 27"
        )
        yield Finding("certify_if_invoicing_public_funds", L6316_1)


def _uncertain_steps(
    verdict: Verdict, answers: Answers, ref: Referential, has_checklist: bool
) -> Iterator[Finding]:
    """Yields the open questions of the domain reference (§6) that concern this person."""
    if has_checklist and ref.reported_only:
        yield Finding("uncertain_rnq_2026", DECREE_2026, uncertain=True)
    if _has(answers, "funders", "companies_own_budget") and verdict is not Verdict.REQUIRED:
        yield Finding(
            "uncertain_opco_voluntary_contributions",
            OPCO_GREY_ZONE,
            uncertain=True,
        )
    if answers.get("micro_enterprise") == "yes":
        yield Finding("uncertain_micro_ceiling", CPF_SUBCONTRACTING, uncertain=True)
    if answers.get("higher_education") == "private_evaluated":
        yield Finding("uncertain_private_he_boundary", L6316_4, uncertain=True)
    if verdict is not Verdict.REQUIRED and (
        answers.get("certifying") == "yes" or _has(answers, "funders", "other_funds")
    ):
        yield Finding("uncertain_private_education_bill", PRIVATE_HE_BILL, uncertain=True)
    if "AF" in categories_of(answers) and answers.get("work_based") == "alternance":
        yield Finding(
            "uncertain_alternance_scope", f"{GUIDE_V9}, glossaire (alternance)", uncertain=True
        )


# --- Evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result for one set of answers on one date."""

    verdict: Verdict
    categories: tuple[str, ...]
    indicators: tuple[int, ...]
    deferred_for_new_entrant: tuple[int, ...]
    referential: Referential
    date: dt.date
    reasons: tuple[Finding, ...]
    checklist_notes: tuple[Finding, ...]
    next_steps: tuple[Finding, ...]
    answers: Mapping[str, Answer]


def evaluate(answers: Answers, on: dt.date) -> Evaluation:
    """Computes the verdict, the indicators and the next steps for validated answers."""
    ref = referential_on(on)
    decided = decide(answers)
    if decided is None:
        missing = next(q for q in path_questions(answers) if q not in answers)
        raise ContractError("missing_question", missing, allowed=QUESTIONS[missing].options)
    verdict, reasons = decided
    delivers = verdict is not Verdict.NOT_APPLICABLE and delivers_vocational_actions(answers)
    indicators = indicators_for(ref, answers) if delivers else ()
    deferred: tuple[int, ...] = ()
    if answers.get("stage") in NEW_ENTRANT_STAGES:
        deferred = tuple(n for n in indicators if ref.indicator(n).new_entrant_deferred)
    notes = tuple(_checklist_notes(ref, answers)) if indicators else ()
    if verdict in CERTIFICATION_PATH:
        steps = list(_certification_steps(verdict, answers, deferred))
    else:
        steps = list(_other_steps(verdict, answers))
    steps += _uncertain_steps(verdict, answers, ref, bool(indicators))
    return Evaluation(
        verdict=verdict,
        categories=categories_of(answers) if delivers else (),
        indicators=indicators,
        deferred_for_new_entrant=deferred,
        referential=ref,
        date=on,
        reasons=reasons,
        checklist_notes=notes,
        next_steps=tuple(steps),
        answers=MappingProxyType(dict(answers)),
    )
