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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flows.answers import (
    chosen_options,
    delivers_vocational_actions,
    has_option,
    sells_directly,
)
from flows.contract import (
    L6316_1_FUNDERS,
    Answers,
    Verdict,
)
from flows.referential import (
    micro_ceiling_on,
)
from flows.sources import (
    ANNEX_2019,
    CENTRE_INFFO,
    CPF_SUBCONTRACTING,
    DECREE_2021_1851,
    DGEFP_ADVICE,
    FIF_PL_CRITERIA,
    FRANCE_COMPETENCES,
    GUIDE_V9,
    L6313_1,
    L6316_1,
    L6316_4,
    OBLIGATION_START,
    Source,
)

CERTIFICATION_PATH = frozenset({Verdict.REQUIRED, Verdict.RECOMMENDED, Verdict.OPTIONAL})
"""Verdicts after which the person may go through the audits (and the stage is asked)."""

NEW_ENTRANT_STAGES = frozenset({"new_entrant", "nda_pending"})

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Finding:
    """A reason, a checklist note or a next step: a code, its source and its data."""

    code: str
    source: Source
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    uncertain: bool = False
    """The point is not settled (domain reference §6): the person is told so."""


# --- Dates on which rules start ------------------------------------------------------------

OBLIGATION_SINCE = dt.date(2022, 1, 1)
"""L6316-1 applies since 1 January 2022 (ordonnance 2020-387)."""
CPF_SUBCONTRACTING_SINCE = dt.date(2024, 4, 1)
"""CPF subcontractors: contracts signed from 1 April 2024 (décret 2023-1350)."""

Day = dt.date | None
"""The evaluation date; None stands for the rules in force today and from now on."""

# Sources combined once, so that every rule names them the same way.
V9_27 = GUIDE_V9.indicator(27)
PLAN_2018 = L6316_1 & Source(
    "réforme de 2018 (plan de développement des compétences)",
    "2018 reform (skills development plan)",
)
LISTED_FUNDERS = L6316_1.at("liste limitative des financeurs", "closed list of funders")
OUTLOOK_SOURCE = LISTED_FUNDERS & DECREE_2021_1851.at(
    "la certification s’apprécie à la date de l’accord du financeur",
    "certification is judged on the date of the funder’s agreement",
)


# --- Rules ------------------------------------------------------------------------------------

Test = Callable[[Answers], bool | Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named rule: when ``test`` holds it yields a finding with its code and source.

    A dated rule holds only on days from ``since`` (included) to ``until`` (included); with no
    evaluation date (``None``), the rules in force today and from now on apply.
    """

    code: str
    source: Source
    test: Test
    uncertain: bool = False
    since: dt.date | None = None
    until: dt.date | None = None

    def in_force(self, on: Day) -> bool:
        """Tells whether the rule applies on that day."""
        if on is None:
            return self.until is None
        return (self.since is None or self.since <= on) and (
            self.until is None or on <= self.until
        )

    def __call__(self, answers: Answers, on: Day = None) -> Finding | None:
        """Returns the finding when the rule is in force and holds for these answers."""
        if not self.in_force(on):
            return None
        result = self.test(answers)
        if not result:
            return None
        data = MappingProxyType(dict(result)) if isinstance(result, Mapping) else _EMPTY
        return Finding(self.code, self.source, data, self.uncertain)


def rule(
    code: str,
    source: Source,
    *,
    uncertain: bool = False,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Callable[[Test], Rule]:
    """Declares a rule: the decorated predicate returns True (or data) when it holds."""

    def declare(test: Test) -> Rule:
        return Rule(code, source, test, uncertain, since, until)

    return declare


# R0-R3: who is outside the obligation, whatever the money. The first that holds decides.


@rule(
    "out_of_scope_activity",
    L6313_1 & CENTRE_INFFO.at("le CEP est hors obligation", "career counselling is outside it"),
)
def activity_outside_vocational_training(answers: Answers) -> bool:
    """Leisure or hobby courses, school teaching or career counselling are out of scope."""
    return "activities" in answers and not delivers_vocational_actions(answers)


@rule("employed_trainer", L6316_1 & CENTRE_INFFO)
def employed_trainers_are_covered_by_their_employer(answers: Answers) -> bool:
    """A salaried or occasional trainer is not bound personally: the provider paying them is."""
    return answers.get("role") == "employed_trainer"


@rule("internal_training", L6316_1 & DGEFP_ADVICE & CENTRE_INFFO)
def internal_training_is_not_bound(answers: Answers) -> bool:
    """An employer training only its own staff with its own means needs no certification."""
    return answers.get("role") == "employer_internal"


@rule(
    "deemed_compliant_public_he",
    L6316_4.at(
        "établissements accrédités après évaluation du Hcéres",
        "institutions accredited after Hcéres evaluation",
    ),
)
def accredited_public_higher_education_is_deemed_compliant(answers: Answers) -> bool:
    """Accredited public higher education is deemed to meet the obligation (no audit)."""
    return answers.get("higher_education") == "public_accredited"


@rule(
    "deemed_compliant_private_he",
    L6316_4
    & FRANCE_COMPETENCES.at(
        "établissements évalués par le CCESP ou la CTI", "institutions evaluated by CCESP or CTI"
    ),
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
    @rule(f"funded_by_{funder}", OBLIGATION_START, since=OBLIGATION_SINCE)
    def funded(answers: Answers) -> bool:
        return has_option(answers, "funders", funder)

    funded.test.__doc__ = f"Actions paid by {funder}, an L6316-1 funder, require certification."
    return funded


FUNDER_RULES: tuple[Rule, ...] = tuple(
    _funded_by(f)
    for f in ("opco", "cpf", "france_travail", "region", "state", "transitions_pro", "agefiph")
)
assert {r.code.removeprefix("funded_by_") for r in FUNDER_RULES} == L6316_1_FUNDERS


@rule(
    "apprenticeship",
    OBLIGATION_START & L6316_4 & ANNEX_2019.at("colonne CFA", "CFA column"),
    since=OBLIGATION_SINCE,
)
def apprenticeship_requires_certification(answers: Answers) -> bool:
    """A CFA selling apprenticeship needs certification to be paid by the OPCO for it."""
    return has_option(answers, "activities", "apprenticeship") and sells_directly(answers)


@rule("cpf_subcontractor", CPF_SUBCONTRACTING, since=CPF_SUBCONTRACTING_SINCE)
def cpf_subcontractors_must_be_certified(answers: Answers) -> bool:
    """From 1 April 2024, delivering CPF-sold actions for another provider requires it."""
    return answers.get("cpf_subcontracting") == "yes" and answers.get("micro_enterprise") == "no"


OBLIGATION_RULES: tuple[Rule, ...] = (
    *FUNDER_RULES,
    apprenticeship_requires_certification,
    cpf_subcontractors_must_be_certified,
)


# R4b, R4c, R5a: why certification is not compulsory (when nothing above holds).


def ceiling_data(on: dt.date) -> dict[str, Any]:
    """The micro-entrepreneur ceiling in force on the day, as plain data."""
    ceiling = micro_ceiling_on(on)
    if ceiling is None:
        return {"amount": None, "confirmed": False, "start": None, "end": None}
    return {
        "amount": ceiling.amount_eur,
        "confirmed": ceiling.confirmed,
        "start": ceiling.start.year,
        "end": ceiling.end.year,
    }


@rule(
    "cpf_subcontractor_micro_exempt",
    CPF_SUBCONTRACTING.at("R6333-6-3 : régime micro-social", "R6333-6-3: micro-social regime"),
    since=CPF_SUBCONTRACTING_SINCE,
)
def micro_entrepreneurs_subcontracting_on_cpf_are_exempt(answers: Answers) -> bool:
    """A micro-entrepreneur (micro-social regime) is exempt as a CPF subcontractor."""
    return answers.get("cpf_subcontracting") == "yes" and answers.get("micro_enterprise") == "yes"


@rule(
    "cpf_subcontracting_not_yet",
    CPF_SUBCONTRACTING,
    until=CPF_SUBCONTRACTING_SINCE - dt.timedelta(days=1),
)
def cpf_subcontractors_were_not_bound_before_april_2024(answers: Answers) -> bool:
    """Before 1 April 2024 a CPF subcontractor was bound like any other subcontractor: not."""
    return answers.get("cpf_subcontracting") == "yes"


@rule(
    "apprenticeship_subcontractor",
    V9_27 & L6316_1,
    uncertain=True,
    since=OBLIGATION_SINCE,
)
def cfa_subcontractors_are_checked_by_the_cfa(answers: Answers) -> bool:
    """The OPCO funds the CFA, not its subcontractor; the CFA checks it (guide V9, ind. 27)."""
    return (
        has_option(answers, "activities", "apprenticeship")
        and answers.get("selling") == "subcontractor_only"
    )


@rule("subcontractor_not_bound", V9_27 & CENTRE_INFFO)
def subcontractors_are_controlled_by_their_contractor(
    answers: Answers,
) -> Mapping[str, Any] | None:
    """Outside CPF, a subcontractor is not bound: the contracting provider answers for quality."""
    if answers.get("cpf_subcontracting") != "no":
        return None
    return {"only": answers.get("selling") == "subcontractor_only"}


@rule("private_funding_only", PLAN_2018 & CENTRE_INFFO)
def private_money_alone_does_not_require_certification(answers: Answers) -> bool:
    """Companies' own budgets (including 50+ employees) and individuals are not L6316-1 funders."""
    funders = chosen_options(answers, "funders")
    return bool(funders) and set(funders) <= {"companies_own_budget", "individuals"}


@rule("faf_in_practice", LISTED_FUNDERS & FIF_PL_CRITERIA, uncertain=True)
def training_funds_of_the_self_employed_ask_for_it(answers: Answers) -> bool:
    """FAFs (FIF-PL, AGEFICE, VIVEA, FAFCEA) are not L6316-1 funders, but the FIF-PL, as
    reported, funds only certified providers: the law does not oblige, practice does."""
    return has_option(answers, "funders", "faf")


@rule("other_funds_not_listed", LISTED_FUNDERS)
def funds_outside_the_list_do_not_require_certification(answers: Answers) -> bool:
    """Communes, départements, foundations and public employers' funds are not L6316-1
    funders (contracts may ask)."""
    return has_option(answers, "funders", "other_funds")


@rule("no_funding_yet", L6316_1)
def no_funder_yet(answers: Answers) -> bool:
    """Nobody pays yet: no obligation today."""
    return has_option(answers, "funders", "none_yet")


EXEMPTION_RULES: tuple[Rule, ...] = (
    micro_entrepreneurs_subcontracting_on_cpf_are_exempt,
    cpf_subcontractors_were_not_bound_before_april_2024,
    cfa_subcontractors_are_checked_by_the_cfa,
    subcontractors_are_controlled_by_their_contractor,
    private_money_alone_does_not_require_certification,
    training_funds_of_the_self_employed_ask_for_it,
    funds_outside_the_list_do_not_require_certification,
    no_funder_yet,
)


# R8: the outlook, when nothing requires certification today.

OUTLOOK: Mapping[str, Verdict] = MappingProxyType(
    {"certain": Verdict.RECOMMENDED, "maybe": Verdict.OPTIONAL, "no": Verdict.OPTIONAL}
)


def obligations(answers: Answers, on: Day = None) -> tuple[Finding, ...]:
    """Returns every reason that makes certification compulsory for these answers that day."""
    return tuple(f for r in OBLIGATION_RULES if (f := r(answers, on)) is not None)


UNCONCERNED = frozenset({Verdict.NOT_REQUIRED, Verdict.NOT_APPLICABLE})
"""Verdicts that tell the person Qualiopi is not theirs to obtain."""


def scope_decision(answers: Answers, on: Day = None) -> tuple[Verdict, Finding] | None:
    """Returns the verdict of the first scope rule that holds (R0-R3), or None."""
    for scope_rule, verdict in SCOPE_RULES:
        finding = scope_rule(answers, on)
        if finding is not None:
            return verdict, finding
    return None


def decide(answers: Answers, on: Day = None) -> tuple[Verdict, tuple[Finding, ...]] | None:
    """Returns the verdict and its reasons, or None while an answer it needs is missing."""
    scoped = scope_decision(answers, on)
    if scoped is not None:
        return scoped[0], (scoped[1],)
    if not delivers_vocational_actions(answers):
        return None
    required = obligations(answers, on)
    if required:
        return Verdict.REQUIRED, required
    reasons = tuple(f for r in EXEMPTION_RULES if (f := r(answers, on)) is not None)
    future = answers.get("future_public")
    if not isinstance(future, str):
        return None
    if future == "no" and not sells_directly(answers):
        verdict = Verdict.NOT_REQUIRED
    else:
        verdict = OUTLOOK[future]
    return verdict, (*reasons, Finding(f"future_public_{future}", OUTLOOK_SOURCE))
