"""What a verdict means for the person: the indicators, the audits, the next steps.

``evaluate`` puts the verdict of ``flows.rules`` together with the checklist of the
référentiel in force on the day, the next audit and every next step, each citing its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flows.answers import (
    categories_of,
    chosen_options,
    delivers_vocational_actions,
    has_option,
    sells_directly,
)
from flows.checklist import checklist_notes, indicators_for, mission_indicators
from flows.contract import (
    L6316_1_FUNDERS,
    QUESTIONS,
    Answer,
    Answers,
    Verdict,
)
from flows.path import ContractError, path_questions
from flows.referential import (
    Referential,
    micro_ceiling_on,
    referential_on,
    referentials,
)
from flows.rules import (
    CERTIFICATION_PATH,
    CPF_SUBCONTRACTING_SINCE,
    NEW_ENTRANT_STAGES,
    V9_27,
    Day,
    Finding,
    ceiling_data,
    decide,
)
from flows.sources import (
    ARRETE_2023,
    ARRETE_CPF_2024,
    AUDIT_ARRETE,
    CENTRE_INFFO,
    CERTIFIER_PRACTICE,
    CPF_SUBCONTRACTING,
    DECREE_2021_1851,
    DECREE_2026,
    DGEFP_ADVICE,
    FIF_PL_CRITERIA,
    GUIDE_V9,
    L6313_1,
    L6316_1,
    L6316_2,
    L6316_4,
    L6323_6,
    L6351_1,
    L6351_6,
    L6352_11,
    MCF_TERMS,
    OBLIGATION_START,
    PRIVATE_HE_BILL,
    PUBLIC_LIST,
)

# --- Audits -------------------------------------------------------------------------------------

NEXT_AUDIT_OF_CYCLE: Mapping[str, str] = MappingProxyType(
    {
        "before_surveillance": "surveillance",
        "surveillance_window": "surveillance",
        "before_renewal": "renewal",
        "renewal_window": "renewal",
        "expiring": "renewal",
    }
)


def next_audit_of(verdict: Verdict, answers: Answers) -> str | None:
    """Returns the person's next audit: initial, surveillance, renewal, or None (no audit).

    A finished questionnaire stored before ``certified`` was asked counts as not certified.
    """
    if verdict not in CERTIFICATION_PATH:
        return None
    cycle = answers.get("audit_cycle")
    if answers.get("certified") == "yes" and isinstance(cycle, str):
        return NEXT_AUDIT_OF_CYCLE[cycle]
    return "initial"


def changed_at_next_audit(
    ref: Referential, answers: Answers, indicators: tuple[int, ...]
) -> tuple[int, ...]:
    """Returns, for a certified provider, the indicators the newer text changed or added."""
    if answers.get("certified") != "yes" or not ref.reported_only:
        return ()
    return tuple(n for n in indicators if ref.indicator(n).change is not None)


# --- Next steps -------------------------------------------------------------------------------

NEWCOMER_STAGES = frozenset({"new_entrant", "nda_pending", "not_started"})
"""Stages with no past bilan pédagogique et financier to show."""
NC_SOURCE = AUDIT_ARRETE & GUIDE_V9.at("préambule", "preamble")


def _first_apprenticeship(answers: Answers) -> Iterator[Finding]:
    """Décret 2021-1851: a provider's first apprenticeship action may be funded for 6 months
    before it is certified for that category."""
    if not (has_option(answers, "activities", "apprenticeship") and sells_directly(answers)):
        return
    certified = answers.get("certified") == "yes"
    new_category = has_option(answers, "missing_categories", "apprenticeship")
    if (certified and new_category) or (not certified and answers.get("stage") in NEWCOMER_STAGES):
        yield Finding("first_apprenticeship_window", DECREE_2021_1851)


def _cpf_steps(answers: Answers, on: Day) -> Iterator[Finding]:
    after_april_2024 = on is None or on >= CPF_SUBCONTRACTING_SINCE
    if not after_april_2024:
        return
    if answers.get("cpf_subcontracting") == "yes" and answers.get("micro_enterprise") == "no":
        yield Finding("cpf_subcontracting_contract", ARRETE_CPF_2024)
    if has_option(answers, "funders", "cpf") and answers.get("uses_subcontractors") == "yes":
        yield Finding("cpf_contractor_duties", ARRETE_CPF_2024 & CPF_SUBCONTRACTING)


def _first_certification_steps(
    verdict: Verdict, answers: Answers, deferred: tuple[int, ...]
) -> Iterator[Finding]:
    stage = answers.get("stage")
    in_progress = answers.get("certified") == "in_progress"
    if stage == "not_started":
        yield Finding("deliver_first_action", ARRETE_2023)
    if stage in ("not_started", "nda_pending"):
        yield Finding(
            "declare_activity", L6351_1 & AUDIT_ARRETE.at("art. 1", "art. 1"), {"stage": stage}
        )
    if answers.get("certified") == "lapsed":
        yield Finding("certificate_lapsed", AUDIT_ARRETE & DECREE_2021_1851 & PUBLIC_LIST)
    yield from _first_apprenticeship(answers)
    if not in_progress:
        yield Finding("choose_certifier", L6316_2)
    yield Finding(
        "initial_audit",
        AUDIT_ARRETE.at("art. 1", "art. 1"),
        {"newcomer": stage in NEWCOMER_STAGES},
    )
    if deferred:
        several = len(categories_of(answers)) > 1 and stage == "new_entrant"
        yield Finding(
            "new_entrant_two_steps",
            GUIDE_V9,
            {"deferred": deferred, "several_categories": several},
        )
    yield Finding("surveillance_audit", AUDIT_ARRETE, {"new_entrant": bool(deferred)})
    yield Finding("renewal_audit", AUDIT_ARRETE & CERTIFIER_PRACTICE)


def _certified_steps(
    answers: Answers, changed: tuple[int, ...], deferred: tuple[int, ...], on: Day
) -> Iterator[Finding]:
    cycle = answers.get("audit_cycle")
    missing = chosen_options(answers, "missing_categories")
    if answers.get("scope") == "missing_category":
        yield Finding(
            "extension_audit",
            AUDIT_ARRETE & ARRETE_2023 & GUIDE_V9.at("préambule", "preamble"),
            {"categories": categories_of({"activities": missing}), "deferred": deferred},
        )
        yield from _first_apprenticeship(answers)
    if cycle == "expiring":
        yield Finding("certificate_expiring", AUDIT_ARRETE & DECREE_2021_1851 & PUBLIC_LIST)
    if cycle in ("before_surveillance", "surveillance_window"):
        yield Finding(
            "next_surveillance_audit", AUDIT_ARRETE, {"due": cycle == "surveillance_window"}
        )
        yield Finding("renewal_audit", AUDIT_ARRETE & CERTIFIER_PRACTICE)
    else:
        yield Finding(
            "next_renewal_audit",
            AUDIT_ARRETE & CERTIFIER_PRACTICE,
            {"due": cycle in ("renewal_window", "expiring")},
        )
    if changed:
        yield Finding("changed_since_2026", DECREE_2026, {"indicators": changed}, uncertain=True)


def _certification_steps(
    verdict: Verdict,
    answers: Answers,
    deferred: tuple[int, ...],
    changed: tuple[int, ...],
    on: Day,
) -> Iterator[Finding]:
    certified = answers.get("certified") == "yes"
    if certified:
        if verdict is not Verdict.REQUIRED:
            yield Finding("voluntary_certificate_kept", L6316_1 & AUDIT_ARRETE)
    elif verdict is Verdict.RECOMMENDED:
        yield Finding(
            "certify_ahead_of_funding", DECREE_2021_1851 & ARRETE_2023 & CERTIFIER_PRACTICE
        )
    elif verdict is Verdict.OPTIONAL and has_option(answers, "funders", "faf"):
        yield Finding("certify_for_faf", FIF_PL_CRITERIA & ARRETE_2023, uncertain=True)
    elif verdict is Verdict.OPTIONAL:
        yield Finding("weigh_voluntary_certification", L6316_1 & CERTIFIER_PRACTICE)
    if certified:  # its next audit first: that is what a certified provider acts on
        yield from _certified_steps(answers, changed, deferred, on)
        yield from _cpf_steps(answers, on)
    else:
        yield from _cpf_steps(answers, on)
        yield from _first_certification_steps(verdict, answers, deferred)
    yield Finding("how_audits_judge", NC_SOURCE)
    if answers.get("sites") == "several":
        yield Finding("several_sites", ARRETE_2023 & CERTIFIER_PRACTICE)
    if not certified:
        yield Finding("public_list", PUBLIC_LIST & DECREE_2021_1851)


def _other_steps(verdict: Verdict, answers: Answers) -> Iterator[Finding]:
    role = answers.get("role")
    if verdict is Verdict.NOT_APPLICABLE:
        yield Finding("no_declaration_needed", L6313_1 & L6351_1)
    elif verdict is Verdict.DEEMED_COMPLIANT:
        yield Finding("deemed_compliant_public_list", L6316_4 & PUBLIC_LIST)
        yield Finding("separate_entity_not_covered", L6316_4 & L6351_1)
    elif role == "employed_trainer":
        yield Finding("employer_holds_certification", L6316_1 & V9_27)
    elif role == "employer_internal":
        yield Finding("internal_no_declaration", L6351_1 & DGEFP_ADVICE)
        yield Finding("internal_and_outsiders", L6313_1 & L6351_1 & CENTRE_INFFO)
    else:  # a subcontractor that nothing obliges
        yield Finding("follow_contractor_quality_system", V9_27)
        yield Finding("subcontractor_nda_bpf", L6351_1 & L6352_11 & L6351_6)
        yield Finding("certify_if_invoicing_public_funds", L6316_1)


def _extra_reasons(answers: Answers) -> Iterator[Finding]:
    """Yields reasons that qualify the verdict without deciding it."""
    activities = chosen_options(answers, "activities")
    if (
        has_option(answers, "funders", "cpf")
        and "training" in activities
        and not {"vae", "skills_assessment"} & set(activities)
        and answers.get("certifying") == "no"
    ):  # with VAE or bilans, the CPF money may well be theirs (L6323-6)
        yield Finding("cpf_not_certifying", L6323_6, uncertain=True)
    listed = [f for f in chosen_options(answers, "funders") if f in L6316_1_FUNDERS]
    if listed and answers.get("certified") == "no" and answers.get("stage") == "established":
        yield Finding(
            "funded_without_certificate",
            OBLIGATION_START & MCF_TERMS,
            {"cpf": "cpf" in listed},
            uncertain=True,
        )


def _uncertain_steps(
    verdict: Verdict, answers: Answers, ref: Referential, has_checklist: bool, on: dt.date
) -> Iterator[Finding]:
    """Yields the open questions of the domain reference (§6) that concern this person."""
    if has_checklist and ref.reported_only:
        yield Finding("uncertain_rnq_2026", DECREE_2026, uncertain=True)
    if answers.get("micro_enterprise") == "yes" and on >= CPF_SUBCONTRACTING_SINCE:
        ceiling = micro_ceiling_on(on)
        yield Finding(
            "uncertain_micro_ceiling",
            CPF_SUBCONTRACTING & ceiling.source if ceiling else CPF_SUBCONTRACTING,
            ceiling_data(on),
            uncertain=True,
        )
    if answers.get("higher_education") == "private_evaluated":
        yield Finding("uncertain_private_he_boundary", L6316_4, uncertain=True)
    if verdict is not Verdict.REQUIRED and (
        answers.get("certifying") == "yes" or has_option(answers, "funders", "faf")
    ):
        yield Finding("uncertain_private_education_bill", PRIVATE_HE_BILL, uncertain=True)
    if {"state", "region"} & set(chosen_options(answers, "funders")):
        yield Finding("uncertain_public_employer", L6316_1, uncertain=True)
    if "AF" in categories_of(answers) and answers.get("work_based") == "alternance":
        yield Finding(
            "uncertain_alternance_scope",
            GUIDE_V9.at("glossaire (alternance)", "glossary (alternance)"),
            uncertain=True,
        )


# --- Looking ahead ---------------------------------------------------------------------------

LOOK_AHEAD = dt.timedelta(days=183)
"""How far ahead a change of référentiel is announced (the contract's ``changing_soon``)."""


@dataclass(frozen=True, slots=True)
class ChangingSoon:
    """A référentiel coming into force within ``LOOK_AHEAD``: an audit from ``start`` follows
    it, and these of the person's indicators (under it) are changed or new."""

    referential: Referential
    start: dt.date
    indicators: tuple[int, ...]


def changing_soon(answers: Answers, on: dt.date, delivers: bool) -> ChangingSoon | None:
    """Returns the next référentiel when it starts within LOOK_AHEAD of ``on``, with the
    person's indicators (evaluated on its first day) that it changed or added."""
    upcoming = next((r for r in referentials() if on < r.in_force_from <= on + LOOK_AHEAD), None)
    if upcoming is None or not delivers:
        return None
    start = upcoming.in_force_from
    indicators = indicators_for(upcoming, answers)
    changed = tuple(n for n in indicators if upcoming.indicator(n).change is not None)
    return ChangingSoon(upcoming, start, changed)


def _new_category_deferral(
    ref: Referential, answers: Answers, indicators: tuple[int, ...]
) -> tuple[int, ...]:
    """A certified provider adding categories is a new entrant for them (arrêté of 31 May
    2023): the deferrable indicators that those categories alone bring, within its own."""
    missing = chosen_options(answers, "missing_categories")
    if not missing:
        return ()
    alone = set(indicators_for(ref, {**answers, "activities": missing}))
    return tuple(n for n in indicators if n in alone and ref.indicator(n).new_entrant_deferred)


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
    next_audit: str | None = None
    """initial, surveillance, renewal, or None when no audit concerns the person."""
    changed_at_next_audit: tuple[int, ...] = ()
    """For a certified provider under the newer text, the indicators it changed or added."""
    changing_soon: ChangingSoon | None = None
    """Another référentiel comes into force soon: its first day and what it changes here."""

    @property
    def mission_checklist(self) -> bool:
        """True when the list shows what a subcontractor's missions touch, not an audit's."""
        return self.verdict not in CERTIFICATION_PATH


def evaluate(answers: Answers, on: dt.date) -> Evaluation:
    """Computes the verdict, the indicators and the next steps for validated answers."""
    ref = referential_on(on)
    decided = decide(answers, on)
    if decided is None:
        missing = next(q for q in path_questions(answers, on) if q not in answers)
        raise ContractError("missing_question", missing, allowed=QUESTIONS[missing].options)
    verdict, reasons = decided
    delivers = verdict is not Verdict.NOT_APPLICABLE and delivers_vocational_actions(answers)
    on_path = verdict in CERTIFICATION_PATH
    indicators = indicators_for(ref, answers) if delivers else ()
    if delivers and not on_path:
        indicators = mission_indicators(indicators, answers)
    deferred: tuple[int, ...] = ()
    if answers.get("stage") in NEW_ENTRANT_STAGES and on_path:
        deferred = tuple(n for n in indicators if ref.indicator(n).new_entrant_deferred)
    elif answers.get("certified") == "yes" and on_path:
        deferred = _new_category_deferral(ref, answers, indicators)
    changed = changed_at_next_audit(ref, answers, indicators) if on_path else ()
    notes = tuple(checklist_notes(ref, answers, missions=not on_path)) if indicators else ()
    if verdict in CERTIFICATION_PATH:
        steps = list(_certification_steps(verdict, answers, deferred, changed, on))
    else:
        steps = list(_other_steps(verdict, answers))
    soon = changing_soon(answers, on, delivers) if on_path else None
    if soon is not None:
        steps.insert(
            0,
            Finding(
                "referential_changing_soon",
                DECREE_2026,
                {"start": soon.start, "indicators": soon.indicators},
                uncertain=soon.referential.reported_only,
            ),
        )
    steps += _uncertain_steps(verdict, answers, ref, bool(indicators), on)
    return Evaluation(
        verdict=verdict,
        categories=categories_of(answers) if delivers else (),
        indicators=indicators,
        deferred_for_new_entrant=deferred,
        referential=ref,
        date=on,
        reasons=(*reasons, *_extra_reasons(answers)),
        checklist_notes=notes,
        next_steps=tuple(steps),
        answers=MappingProxyType(dict(answers)),
        next_audit=next_audit_of(verdict, answers),
        changed_at_next_audit=changed,
        changing_soon=soon,
    )
