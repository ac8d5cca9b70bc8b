"""The next steps a verdict gives a person, each citing its source: for the certification
path (a first certification, or the next audit of a certified provider), for the others (no
declaration, deemed compliant, employed, internal, a subcontractor), and the open questions of
the domain that concern the person, said as uncertain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from flows.answers import (
    categories_of,
    chosen_options,
    has_option,
    sells_directly,
)
from flows.contract import (
    Answers,
    Verdict,
)
from flows.referential import (
    Referential,
    micro_ceiling_on,
)
from flows.rules import (
    CPF_SUBCONTRACTING_SINCE,
    V9_27,
    Day,
    Finding,
    ceiling_data,
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
    L6351_1,
    L6351_6,
    L6352_11,
    PRIVATE_HE_BILL,
    PUBLIC_LIST,
)

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


def _firstcertification_steps(
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


def certification_steps(
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
        yield from _firstcertification_steps(verdict, answers, deferred)
    yield Finding("how_audits_judge", NC_SOURCE)
    if answers.get("sites") == "several":
        yield Finding("several_sites", ARRETE_2023 & CERTIFIER_PRACTICE)
    if not certified:
        yield Finding("public_list", PUBLIC_LIST & DECREE_2021_1851)


def other_steps(verdict: Verdict, answers: Answers) -> Iterator[Finding]:
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


def uncertain_steps(
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
