"""What a verdict means for the person: the indicators, the audits, the next steps.

``evaluate`` puts the verdict of ``flows.rules`` together with the checklist of the
référentiel in force on the day, the next audit and every next step, each citing its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flows.answers import categories_of, delivers_vocational_actions, has_option
from flows.checklist import checklist_notes, indicators_for
from flows.contract import QUESTIONS, Answer, Answers, Verdict
from flows.path import ContractError, path_questions
from flows.referential import (
    Referential,
    micro_ceiling_on,
    referential_on,
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
    CERTIFIER_PRACTICE,
    CPF_SUBCONTRACTING,
    DECREE_2026,
    GUIDE_V9,
    L6313_1,
    L6316_1,
    L6316_2,
    L6316_4,
    L6323_6,
    L6351_1,
    L6351_6,
    L6352_11,
    PRIVATE_HE_BILL,
    PUBLIC_LIST,
    SEED_FAQ,
    SEED_WHO,
)

# --- Audits -------------------------------------------------------------------------------------

NEXT_AUDIT_OF_CYCLE: Mapping[str, str] = MappingProxyType(
    {
        "before_surveillance": "surveillance",
        "surveillance_window": "surveillance",
        "before_renewal": "renewal",
        "renewal_window": "renewal",
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


def _certified_steps(answers: Answers, changed: tuple[int, ...], on: Day) -> Iterator[Finding]:
    cycle = answers.get("audit_cycle")
    if answers.get("scope") == "missing_category":
        yield Finding("extension_audit", AUDIT_ARRETE & CERTIFIER_PRACTICE)
    if cycle in ("before_surveillance", "surveillance_window"):
        yield Finding(
            "next_surveillance_audit", AUDIT_ARRETE, {"due": cycle == "surveillance_window"}
        )
        yield Finding("renewal_audit", AUDIT_ARRETE & CERTIFIER_PRACTICE)
    else:
        yield Finding(
            "next_renewal_audit",
            AUDIT_ARRETE & CERTIFIER_PRACTICE,
            {"due": cycle == "renewal_window"},
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
            yield Finding("voluntary_certificate_kept", SEED_FAQ & L6316_1)
    elif verdict is Verdict.RECOMMENDED:
        yield Finding("certify_ahead_of_funding", SEED_FAQ & ARRETE_2023 & CERTIFIER_PRACTICE)
    elif verdict is Verdict.OPTIONAL:
        yield Finding("weigh_voluntary_certification", SEED_FAQ & CERTIFIER_PRACTICE)
    if certified:  # its next audit first: that is what a certified provider acts on
        yield from _certified_steps(answers, changed, on)
        yield from _cpf_steps(answers, on)
    else:
        yield from _cpf_steps(answers, on)
        yield from _first_certification_steps(verdict, answers, deferred)
    yield Finding("how_audits_judge", NC_SOURCE)
    if answers.get("sites") == "several":
        yield Finding("several_sites", ARRETE_2023 & CERTIFIER_PRACTICE)
    if not certified:
        yield Finding("public_list", ARRETE_2023 & PUBLIC_LIST)


def _other_steps(verdict: Verdict, answers: Answers) -> Iterator[Finding]:
    role = answers.get("role")
    if verdict is Verdict.NOT_APPLICABLE:
        yield Finding("no_declaration_needed", L6313_1 & L6351_1)
    elif verdict is Verdict.DEEMED_COMPLIANT:
        yield Finding("deemed_compliant_public_list", L6316_4 & PUBLIC_LIST)
    elif role == "employed_trainer":
        yield Finding("employer_holds_certification", SEED_WHO & V9_27)
    elif role == "employer_internal":
        yield Finding("internal_no_declaration", L6351_1 & SEED_WHO)
    else:  # a subcontractor that nothing obliges
        yield Finding("follow_contractor_quality_system", SEED_FAQ & V9_27)
        yield Finding("subcontractor_nda_bpf", L6351_1 & L6352_11 & L6351_6)
        yield Finding("certify_if_invoicing_public_funds", L6316_1)


def _extra_reasons(answers: Answers) -> Iterator[Finding]:
    """Yields reasons that qualify the verdict without deciding it."""
    if (
        has_option(answers, "funders", "cpf")
        and has_option(answers, "activities", "training")
        and answers.get("certifying") == "no"
    ):
        yield Finding("cpf_not_certifying", L6323_6, uncertain=True)


def _uncertain_steps(
    verdict: Verdict, answers: Answers, ref: Referential, has_checklist: bool, on: Day
) -> Iterator[Finding]:
    """Yields the open questions of the domain reference (§6) that concern this person."""
    if has_checklist and ref.reported_only:
        yield Finding("uncertain_rnq_2026", DECREE_2026, uncertain=True)
    if answers.get("micro_enterprise") == "yes" and (on is None or on >= CPF_SUBCONTRACTING_SINCE):
        ceiling = micro_ceiling_on(on or dt.date.today())
        yield Finding(
            "uncertain_micro_ceiling",
            CPF_SUBCONTRACTING & ceiling.source if ceiling else CPF_SUBCONTRACTING,
            ceiling_data(on),
            uncertain=True,
        )
    if answers.get("higher_education") == "private_evaluated":
        yield Finding("uncertain_private_he_boundary", L6316_4, uncertain=True)
    if verdict is not Verdict.REQUIRED and (
        answers.get("certifying") == "yes" or has_option(answers, "funders", "other_funds")
    ):
        yield Finding("uncertain_private_education_bill", PRIVATE_HE_BILL, uncertain=True)
    if "AF" in categories_of(answers) and answers.get("work_based") == "alternance":
        yield Finding(
            "uncertain_alternance_scope",
            GUIDE_V9.at("glossaire (alternance)", "glossary (alternance)"),
            uncertain=True,
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
    next_audit: str | None = None
    """initial, surveillance, renewal, or None when no audit concerns the person."""
    changed_at_next_audit: tuple[int, ...] = ()
    """For a certified provider under the newer text, the indicators it changed or added."""

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
    indicators = indicators_for(ref, answers) if delivers else ()
    deferred: tuple[int, ...] = ()
    if answers.get("stage") in NEW_ENTRANT_STAGES and verdict in CERTIFICATION_PATH:
        deferred = tuple(n for n in indicators if ref.indicator(n).new_entrant_deferred)
    changed = (
        changed_at_next_audit(ref, answers, indicators) if verdict in CERTIFICATION_PATH else ()
    )
    notes = tuple(checklist_notes(ref, answers)) if indicators else ()
    if verdict in CERTIFICATION_PATH:
        steps = list(_certification_steps(verdict, answers, deferred, changed, on))
    else:
        steps = list(_other_steps(verdict, answers))
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
    )
