"""Who must be certified: one named case per FAQ case of the seed article and per rule of §1.

Each case says its source; the expected values are read from the law and the domain reference,
not from the code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from flows.advice import evaluate
from flows.path import validate
from tests.answers import COMPANY_CFA, INDEPENDENT_OPCO, SUBCONTRACTOR

BEFORE_2026 = dt.date(2026, 10, 31)
AFTER_2026 = dt.date(2026, 11, 26)

# A plain independent trainer selling AF directly; cases override what they are about.
AF_DIRECT: dict[str, Any] = INDEPENDENT_OPCO


def af(**changes: Any) -> dict[str, Any]:
    """AF_DIRECT with some answers changed (None removes one)."""
    out = {**AF_DIRECT, **changes}
    return {k: v for k, v in out.items() if v is not None}


def sub(**changes: Any) -> dict[str, Any]:
    """SUBCONTRACTOR with some answers changed (None removes one)."""
    out = {**SUBCONTRACTOR, **changes}
    return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    answers: dict[str, Any]
    verdict: str
    reasons: tuple[str, ...] = ()
    """Reason codes that must be present."""
    steps: tuple[str, ...] = ()
    """Next-step codes that must be present."""
    absent_steps: tuple[str, ...] = ()
    count: int | None = None
    deferred: tuple[int, ...] | None = None
    on: dt.date = BEFORE_2026
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    # --- Seed article, FAQ and "Who is concerned?" ---
    Case(
        "An independent subcontractor who invoices no public funder need not be certified",
        "Seed article FAQ 1; guide V9 ind. 27",
        sub(),
        "not_required",
        reasons=("subcontractor_not_bound",),
        steps=("follow_contractor_quality_system", "certify_if_invoicing_public_funds"),
        count=20,  # 22 common without 27 (no subcontractors), minus 1 and 2, plus 8
    ),
    Case(
        "A provider certain to use public funds later should certify now",
        "Seed article FAQ 2; rules R8",
        af(funders=["individuals"], future_public="certain"),
        "recommended",
        reasons=("private_funding_only", "future_public_certain"),
        steps=("certify_ahead_of_funding", "initial_audit"),
    ),
    Case(
        "A provider that may use public funds later is not obliged: it weighs the cost",
        "Seed article FAQ 2",
        af(funders=["companies_own_budget"], future_public="maybe"),
        "optional",
        reasons=("future_public_maybe",),
        steps=("weigh_voluntary_certification",),
    ),
    Case(
        "A provider wanting only the quality mark may certify voluntarily",
        "Seed article FAQ 2 (quality mark); rules R8",
        af(funders=["individuals"], future_public="no"),
        "optional",
        reasons=("future_public_no",),
    ),
    Case(
        "An independent trainer paid through the CPF must be certified",
        "Seed article, independent contractors; L6316-1",
        af(funders=["cpf"]),
        "required",
        reasons=("funded_by_cpf",),
        count=22,
    ),
    Case(
        "Training for companies under 50 employees paid by the OPCO must be certified",
        "Seed article, independent contractors; L6316-1",
        af(funders=["opco", "companies_own_budget"]),
        "required",
        reasons=("funded_by_opco",),
        absent_steps=("uncertain_opco_voluntary_contributions",),
    ),
    Case(
        "A trainer employed by a training provider need not be certified",
        "Seed article, who is concerned; rules R1",
        {"role": "employed_trainer"},
        "not_required",
        reasons=("employed_trainer",),
        steps=("employer_holds_certification",),
        count=0,
    ),
    Case(
        "An employer training only its own staff is not subject to certification",
        "Seed article, who is concerned; rules R2",
        {"role": "employer_internal"},
        "not_required",
        reasons=("internal_training",),
        steps=("internal_no_declaration",),
        count=0,
    ),
    Case(
        "An accredited public higher-education institution is deemed compliant",
        "Seed article; L6316-4",
        {"role": "higher_education", "higher_education": "public_accredited"},
        "deemed_compliant",
        reasons=("deemed_compliant_public_he",),
        steps=("deemed_compliant_public_list",),
        count=0,
    ),
    Case(
        "A CCESP-evaluated private institution is deemed compliant, with the boundary uncertain",
        "Seed article; L6316-4; rules §6.7",
        {"role": "higher_education", "higher_education": "private_evaluated"},
        "deemed_compliant",
        reasons=("deemed_compliant_private_he",),
        steps=("uncertain_private_he_boundary",),
    ),
    Case(
        "An organisation on several sites certifies all its sites at once",
        "Seed article (several sites); rules R9",
        af(role="organisation", sites="several"),
        "required",
        steps=("several_sites",),
    ),
    Case(
        "A new entrant whose declaration is pending can start, numbers come later",
        "Seed article (new entrant); arrêté 6 June 2019 art. 1",
        af(stage="nda_pending"),
        "required",
        steps=("declare_activity", "new_entrant_two_steps"),
        deferred=(2, 11, 19, 22, 24, 25, 26, 32),
    ),
    # --- Rules §1 ---
    Case(
        "Leisure or personal-development activities are outside vocational training",
        "L6313-1; rules R0",
        {"role": "independent", "activities": ["other"]},
        "not_applicable",
        reasons=("out_of_scope_activity",),
        steps=("no_declaration_needed",),
        count=0,
    ),
    Case(
        "A private school outside L6316-4 is treated as any provider",
        "L6316-4 a contrario; rules R3",
        af(role="higher_education", higher_education="other_private", sites="one"),
        "required",
    ),
    *[
        Case(
            f"Money from {funder} makes certification compulsory",
            "L6316-1; rules R4a",
            af(funders=[funder]),
            "required",
            reasons=(f"funded_by_{funder}",),
        )
        for funder in ("france_travail", "region", "state", "agefiph", "transitions_pro")
    ],
    Case(
        "Companies' own budgets and individuals alone do not require certification",
        "L6316-1; rules R4b",
        af(funders=["companies_own_budget", "individuals"], future_public="no"),
        "optional",
        reasons=("private_funding_only",),
    ),
    Case(
        "Training insurance funds and communes are not L6316-1 funders",
        "L6316-1; rules R4c",
        af(funders=["other_funds"], future_public="no"),
        "optional",
        reasons=("other_funds_not_listed",),
        absent_steps=("uncertain_private_education_bill", "certify_for_faf"),
    ),
    Case(
        "A FAF is not an L6316-1 funder, but the FIF-PL funds only certified providers",
        "L6316-1; FIF-PL criteria 2026; advice review 2026-12 B5",
        af(funders=["faf"], future_public="no"),
        "optional",
        reasons=("faf_in_practice",),
        steps=("certify_for_faf", "uncertain_private_education_bill"),
    ),
    Case(
        "A provider with no funder yet is not obliged today",
        "L6316-1",
        af(funders=["none_yet"], future_public="no", stage="not_started"),
        "optional",
        reasons=("no_funding_yet",),
        steps=("deliver_first_action", "declare_activity"),
        deferred=(),
    ),
    Case(
        "A subcontractor on CPF actions since April 2024 must be certified",
        "L6323-9-2; R6333-6-2; rules R5b",
        sub(
            cpf_subcontracting="yes",
            micro_enterprise="no",
            future_public=None,
            certified="no",
            stage="new_entrant",
        ),
        "required",
        reasons=("cpf_subcontractor",),
        steps=("cpf_subcontracting_contract",),
        deferred=(11, 19, 22, 24, 25, 26, 32),
    ),
    Case(
        "A micro-entrepreneur under the ceiling subcontracting CPF actions is exempt",
        "L6323-9-2; R6333-6-3; rules R5b",
        sub(cpf_subcontracting="yes", micro_enterprise="yes"),
        "not_required",
        reasons=("cpf_subcontractor_micro_exempt",),
        steps=("uncertain_micro_ceiling",),
    ),
    Case(
        "A subcontractor that also invoices an OPCO directly must be certified",
        "L6316-1; rules R5c",
        af(selling="both", cpf_subcontracting="no"),
        "required",
        reasons=("funded_by_opco",),
    ),
    Case(
        "A CFA must be certified on all 32 indicators even without other public money",
        "L6316-1; L6316-4; rules R6",
        {
            "role": "organisation",
            "activities": ["apprenticeship"],
            "selling": "direct",
            "funders": ["companies_own_budget"],
            "uses_subcontractors": "yes",
            "certified": "no",
            "stage": "established",
            "sites": "one",
        },
        "required",
        reasons=("apprenticeship",),
        count=32,
    ),
    Case(
        "From 1 November 2026 a CFA is audited on 33 indicators, the 33rd to be confirmed",
        "Décret 2026-728 (reported); rules §2.6",
        {
            "role": "organisation",
            "activities": ["apprenticeship"],
            "selling": "direct",
            "funders": ["opco"],
            "uses_subcontractors": "yes",
            "certified": "no",
            "stage": "established",
            "sites": "one",
        },
        "required",
        count=33,
        steps=("uncertain_rnq_2026",),
        on=AFTER_2026,
    ),
    Case(
        "A new entrant has eleven indicators checked in two steps (those that apply)",
        "Guide V9, new entrant; rules R7",
        COMPANY_CFA,
        "required",
        deferred=(2, 3, 11, 13, 14, 19, 22, 24, 25, 26, 32),
    ),
    Case(
        "A provider with no action delivered yet must deliver one before the initial audit",
        "Arrêté of 31 May 2023; rules R7",
        af(stage="not_started"),
        "required",
        steps=("deliver_first_action", "declare_activity"),
        deferred=(),
    ),
    Case(
        "An established provider has nothing deferred",
        "Guide V9, new entrant",
        af(),
        "required",
        deferred=(),
        absent_steps=("new_entrant_two_steps", "uncertain_rnq_2026"),
    ),
    Case(
        "A subcontractor planning to invoice public funders itself should certify now",
        "Seed article FAQ 2; rules R5c and R8",
        sub(future_public="certain", certified="no", stage="established"),
        "recommended",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case) -> None:
    result = evaluate(validate(case.answers), case.on)
    assert result.verdict == case.verdict, case.source
    reasons = {f.code for f in result.reasons}
    steps = {f.code for f in result.next_steps}
    assert set(case.reasons) <= reasons, case.source
    assert set(case.steps) <= steps, case.source
    assert not set(case.absent_steps) & steps, case.source
    if case.count is not None:
        assert len(result.indicators) == case.count, case.source
    if case.deferred is not None:
        assert result.deferred_for_new_entrant == case.deferred, case.source


def test_every_reason_and_step_cites_a_source() -> None:
    for case in CASES:
        result = evaluate(validate(case.answers), case.on)
        for finding in (*result.reasons, *result.checklist_notes, *result.next_steps):
            assert finding.source.fr.strip(), finding.code
            assert finding.source.en.strip(), finding.code


def test_stage_is_asked_only_on_the_certification_path() -> None:
    with pytest.raises(ValueError, match="skipped_question"):
        validate({**SUBCONTRACTOR, "stage": "established"})
    with pytest.raises(ValueError, match="missing_question"):
        validate({k: v for k, v in AF_DIRECT.items() if k != "stage"})


def test_future_public_is_not_asked_once_certification_is_required() -> None:
    with pytest.raises(ValueError, match="skipped_question: future_public"):
        validate(af(future_public="certain"))
