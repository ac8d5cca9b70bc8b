"""The expert review of December 2026, finding by finding: one test per situation it protects.

Each test names the finding it covers (shared reference ``advice-review-2026-12.md``, B1–B13
and the questions Q1–Q7); the expected values come from the sources the review cites (décret
2021-1851, R6333-6-2, L6323-6, arrêté of 31 May 2023, the FIF-PL criteria), not from the code.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader

import messages
from bot.cli import main
from bot.render.pdf import build_pdf
from bot.render.report import build_report, render_result_text
from bot.render.screens import answers_view, label
from flows.advice import Evaluation, evaluate
from flows.contract import QUESTIONS
from flows.path import ContractError, offered_options, validate
from tests.answers import COMPANY_CFA, INDEPENDENT_OPCO, SUBCONTRACTOR

TODAY = dt.date(2026, 12, 3)
EVE_OF_2026 = dt.date(2026, 10, 31)


def answers(**changes: Any) -> dict[str, Any]:
    """An independent trainer paid by an OPCO, with some answers changed (None removes one)."""
    out = {**INDEPENDENT_OPCO, **changes}
    return {k: v for k, v in out.items() if v is not None}


def certified(**changes: Any) -> dict[str, Any]:
    """The same trainer, certified, before its surveillance audit."""
    base = {"stage": None, "certified": "yes", "audit_cycle": "before_surveillance"}
    return answers(**{**base, "scope": "covers_all", **changes})


CPF_SUBCONTRACTOR_SASU: dict[str, Any] = {
    **SUBCONTRACTOR,
    "cpf_subcontracting": "yes",
    "micro_enterprise": "no",
}
"""Profile t3-08: a CPF subcontractor that is not a micro-entrepreneur."""
CFA_TEACHER: dict[str, Any] = {
    "role": "independent",
    "activities": ["apprenticeship"],
    "selling": "subcontractor_only",
    "cpf_subcontracting": "no",
    "future_public": "no",
    "uses_subcontractors": "no",
}
"""Profile t3-09: a maths teacher delivering a CFA's apprenticeship actions."""


def run(raw: dict[str, Any], on: dt.date = TODAY) -> Evaluation:
    return evaluate(validate(raw, on), on)


def steps(raw: dict[str, Any], on: dt.date = TODAY) -> list[str]:
    return [f.code for f in run(raw, on).next_steps]


def said(raw: dict[str, Any], lang: str = "fr", on: dt.date = TODAY) -> str:
    """The whole result as the person reads it, with French spaces made plain for matching."""
    text = render_result_text(run(raw, on), lang)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def cli(argv: list[str], stdin: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


# --- B1: a dated path through the machine interface -------------------------------------------


def test_b1_a_cpf_subcontractor_asked_about_2023_gets_a_result() -> None:
    raw = {**CPF_SUBCONTRACTOR_SASU, "future_public": "no"}
    status, out, err = cli(["evaluate", "--date", "2023-06-15"], json.dumps(raw))
    assert (status, err) == (0, "")
    result = json.loads(out)
    assert result["verdict"] == "not_required"
    assert "cpf_subcontracting_not_yet" in [r["code"] for r in result["reasons"]]


def test_b1_the_same_answers_are_judged_on_todays_path_without_a_date() -> None:
    raw = {**CPF_SUBCONTRACTOR_SASU, "future_public": "no"}
    status, _, err = cli(["evaluate"], json.dumps(raw))
    assert status == 2
    assert "future_public" in err  # since April 2024 the question is no longer asked


# --- B2: looking ahead to the 2026 référentiel ------------------------------------------------


def test_b2_an_audit_after_1_november_is_announced_on_31_october() -> None:
    raw = {**answers(), "certifying": "yes"}
    report = build_report(run(raw, EVE_OF_2026), "fr")
    assert report["referential"] == "rnq-2019"
    assert report["changing_soon"] == {
        "referential": "rnq-2026",
        "from": "2026-11-01",
        "indicators": [1, 2, 3, 7, 12, 19, 30, 32],  # the review's list for this profile
    }
    text = said(raw, on=EVE_OF_2026)
    assert "Ce qui change pour vous au 1er novembre 2026" in text
    assert "12. " in text.split("Ce qui change pour vous")[1]
    assert "change for you" not in text


def test_b2_nothing_is_announced_once_the_new_text_is_in_force_or_far_away() -> None:
    raw = {**answers(), "certifying": "yes"}
    assert build_report(run(raw, dt.date(2026, 11, 1)), "fr")["changing_soon"] is None
    assert run(raw, dt.date(2026, 3, 1)).changing_soon is None  # more than 183 days ahead
    assert run(raw, dt.date(2026, 6, 1)).changing_soon is not None


def test_b2_a_certified_provider_on_31_october_is_told_its_next_audit_follows_the_new_text() -> (
    None
):
    raw = certified(audit_cycle="surveillance_window")
    assert "referential_changing_soon" in steps(raw, EVE_OF_2026)
    assert "tout audit tenu à partir de ce jour, le vôtre compris" in said(raw, on=EVE_OF_2026)


def test_b2_the_not_concerned_are_not_told_about_audits() -> None:
    assert build_report(run(SUBCONTRACTOR, EVE_OF_2026), "fr")["changing_soon"] is None


# --- B3, B4: décret 2021-1851 -----------------------------------------------------------------


def test_b3_a_company_cfa_learns_its_six_month_window() -> None:
    assert steps(COMPANY_CFA)[0] == "first_apprenticeship_window"
    text = said(COMPANY_CFA)
    assert "6 mois" in text
    assert "premier contrat d’apprentissage" in text
    assert "2021-1851" in text
    assert "6 months" in said(COMPANY_CFA, "en")


def test_b3_an_established_cfa_or_a_training_provider_is_not_given_the_window() -> None:
    assert "first_apprenticeship_window" not in steps({**COMPANY_CFA, "stage": "established"})
    assert "first_apprenticeship_window" not in steps(answers(stage="new_entrant"))


def test_b3_a_certified_provider_adding_apprenticeship_gets_the_window() -> None:
    raw = certified(
        activities=["training", "apprenticeship"],
        scope="missing_category",
        missing_categories=["apprenticeship"],
    )
    assert "first_apprenticeship_window" in steps(raw)


def test_b4_funders_judge_certification_at_the_date_of_their_agreement() -> None:
    for lang, right in (("fr", "date de"), ("en", "date of")):
        everything = (
            messages.text(lang, "steps", "public_list")
            + str(messages.call(lang, "questions", "help", question="future_public"))
            + said(answers(stage="new_entrant"), lang)
        )
        assert "moment de l’action" not in everything
        assert "time of the action" not in everything
        assert right in messages.text(lang, "steps", "public_list")
    assert "ne sera pas acceptée" in messages.text("fr", "steps", "public_list")


# --- B5: a FAF that imposes Qualiopi ------------------------------------------------------------


def test_b5_a_fif_pl_funded_trainer_is_told_practice_not_only_law() -> None:
    raw = answers(funders=["faf"], future_public="no")
    ev = run(raw)
    assert ev.verdict.value == "optional"  # the law: FAFs are not L6316-1 funders
    assert ev.reasons[0].code == "faf_in_practice"
    report = build_report(ev, "fr")
    assert "facultative" not in report["headline"]
    assert "FIF-PL" in report["reasons"][0]["text"]
    assert "FIF-PL" in build_report(ev, "en")["reasons"][0]["text"]
    assert "certify_for_faf" in steps(raw)


def test_b5_communes_and_foundations_keep_the_plain_optional_answer() -> None:
    ev = run(answers(funders=["other_funds"], future_public="no"))
    assert ev.verdict.value == "optional"
    assert "faf_in_practice" not in {r.code for r in ev.reasons}
    assert "facultative" in build_report(ev, "fr")["headline"]


# --- B6: a certified provider adding a category ------------------------------------------------


def test_b6_a_new_vae_category_is_named_and_its_indicators_deferred() -> None:
    raw = certified(
        activities=["training", "vae"], scope="missing_category", missing_categories=["vae"]
    )
    ev = run(raw)
    assert ev.deferred_for_new_entrant == (2, 3, 11, 19, 22, 24, 25, 26, 32)
    assert ev.next_audit == "surveillance"
    assert steps(raw).index("extension_audit") < steps(raw).index("next_surveillance_audit")
    text = said(raw)
    assert "la VAE" in text
    assert "au moins une" in text  # one action of the category before the extension audit


def test_b6_only_the_chosen_categories_can_be_missing() -> None:
    base = certified(activities=["training", "vae"], scope="missing_category")
    assert offered_options("missing_categories", validate({**base, "missing_categories": ["vae"]}))
    assert offered_options("missing_categories", {"activities": ("training", "vae")}) == (
        "training",
        "vae",
    )
    with pytest.raises(ContractError, match="not_offered: missing_categories"):
        validate({**base, "missing_categories": ["apprenticeship"]})
    with pytest.raises(ContractError, match="missing_question: missing_categories"):
        validate(base)


def test_b6_not_offered_exits_2_with_one_line() -> None:
    raw = certified(
        activities=["training"], scope="missing_category", missing_categories=["apprenticeship"]
    )
    status, out, err = cli(["evaluate"], json.dumps(raw))
    assert (status, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "missing_categories" in err


# --- B7: expiring and lapsed certificates ------------------------------------------------------


def test_b7_a_certificate_weeks_from_expiry_says_what_a_lapse_means() -> None:
    raw = certified(audit_cycle="expiring")
    ev = run(raw)
    assert ev.next_audit == "renewal"
    assert steps(raw)[0] == "certificate_expiring"
    text = said(raw)
    assert "liste publique" in text
    assert "aujourd’hui" in text


def test_b7_a_lapsed_certificate_starts_again_with_an_initial_audit() -> None:
    raw = answers(certified="lapsed")
    ev = run(raw)
    assert ev.next_audit == "initial"
    assert steps(raw)[0] == "certificate_lapsed"
    assert "audit initial" in said(raw)
    with pytest.raises(ContractError, match="missing_question: stage"):
        validate(answers(certified="lapsed", stage=None))


# --- B8: a CFA's subcontractor -----------------------------------------------------------------


def test_b8_a_cfa_teacher_is_not_told_about_the_cfas_own_duties() -> None:
    ev = run(CFA_TEACHER)
    assert ev.verdict.value == "not_required"
    assert ev.mission_checklist
    assert not {14, 15, 20, 29} & set(ev.indicators)
    assert {8, 13, 28} <= set(ev.indicators)  # teaching itself stays


def test_b8_a_cfa_selling_directly_keeps_its_institutional_indicators() -> None:
    assert {14, 15, 20, 29} <= set(run(COMPANY_CFA).indicators)


# --- B9–B13: wording -----------------------------------------------------------------------------


def test_b9_a_subcontractor_is_not_told_3_is_removed_then_added() -> None:
    text = said({**SUBCONTRACTOR, "certifying": "yes"})
    assert "ajoutent les indicateurs 7 et 16" in text
    assert "3, 7 et 16" not in text


def test_b10_the_cpf_help_lists_what_the_cpf_funds() -> None:
    help_text = str(messages.call("fr", "questions", "help", question="certifying", cpf=True))
    for funded in ("la VAE", "bilans de compétences", "permis de conduire", "bénévoles"):
        assert funded in help_text
    assert "hors permis" not in help_text


def test_b10_the_cpf_warning_does_not_fire_when_the_cpf_money_may_be_vae() -> None:
    codes = {r.code for r in run(answers(funders=["cpf"], certifying="no")).reasons}
    assert "cpf_not_certifying" in codes
    with_vae = answers(funders=["cpf"], certifying="no", activities=["training", "vae"])
    assert "cpf_not_certifying" not in {r.code for r in run(with_vae).reasons}


def test_b11_the_cpf_subcontracting_cap_is_on_turnover() -> None:
    raw = answers(funders=["cpf"], certifying="yes", uses_subcontractors="yes")
    text = said(raw)
    assert "80 % du chiffre d’affaires" in text
    assert "80 % de vos actions" not in text
    assert "turnover" in said(raw, "en")


def test_b12_a_cpf_seller_without_a_certificate_is_questioned() -> None:
    ev = run(answers(funders=["cpf", "france_travail"], certifying="yes"))
    assert "funded_without_certificate" in {r.code for r in ev.reasons}
    text = said(answers(funders=["cpf", "france_travail"], certifying="yes"))
    assert "Comment vendez-vous" in text
    new = answers(funders=["cpf"], certifying="yes", stage="new_entrant")
    assert "funded_without_certificate" not in {r.code for r in run(new).reasons}


def test_b13_a_date_before_2022_says_the_obligation_not_the_referential() -> None:
    status, _, err = cli(["evaluate", "--date", "2021-06-01"], json.dumps(answers()))
    assert status == 2
    assert "obligation" in err.lower()
    assert "volontaire" in err


def test_b13_english_review_lines_take_no_space_before_the_colon() -> None:
    item = answers_view(validate(answers()), "en")[0]
    line = messages.text("en", "console", "review_line", number=1, **item)
    assert " :" not in line
    assert ": " in line


def test_b13_the_pdf_does_not_repeat_the_judging_heading() -> None:
    ev = run(answers())
    view = answers_view(ev.answers, "fr")
    pdf = PdfReader(io.BytesIO(build_pdf(build_report(ev, "fr"), view, TODAY)))
    first_page = " ".join(pdf.pages[0].extract_text().split())
    heading = messages.text("fr", "pdf", "judging_heading")
    assert heading in first_page
    assert f"{heading} :" not in first_page.replace("\u00a0", " ")


def test_b13_future_public_names_the_seven_funders() -> None:
    question = messages.text("fr", "questions", "future_public")
    help_text = str(messages.call("fr", "questions", "help", question="future_public"))
    assert "mutualisés" not in question
    assert "Transitions Pro" in question + help_text


# --- Q1–Q7: questions people misread ------------------------------------------------------------


def test_q1_the_audit_cycle_counts_from_the_current_certificate() -> None:
    asked = messages.text("fr", "questions", "audit_cycle")
    assert "certificat actuel" in asked
    assert "expiring" in QUESTIONS["audit_cycle"].options


def test_q2_a_company_with_a_cfa_does_not_read_itself_as_internal_training() -> None:
    fr = label("fr", "role", "employer_internal")
    en = label("en", "role", "employer_internal")
    assert "seuls" in fr
    assert "CFA" in fr
    assert "only" in en
    assert "CFA" in en


def test_q3_occasional_means_on_a_payslip() -> None:
    assert "fiche de paie" in label("fr", "role", "employed_trainer")
    assert "payslip" in label("en", "role", "employed_trainer")


def test_q6_a_faf_is_a_funder_of_its_own() -> None:
    assert "faf" in QUESTIONS["funders"].options
    assert "FIF-PL" in label("fr", "funders", "faf")
    assert "FIF-PL" not in label("fr", "funders", "other_funds")


# --- (c): situations the questionnaire cannot express -------------------------------------------


def test_c1_a_cpf_subcontractor_is_told_the_rule_follows_the_contracts_signature() -> None:
    raw = {**CPF_SUBCONTRACTOR_SASU, "certified": "no", "stage": "established"}
    text = said({k: v for k, v in raw.items() if k != "future_public"})
    assert "contrats signés depuis cette date" in text


def test_c7_a_trainer_in_portage_salarial_is_told_the_portage_company_carries_it() -> None:
    raw = {"role": "employed_trainer"}
    assert "portage salarial" in said(raw)
    assert "portage salarial" in str(messages.call("fr", "questions", "help", question="role"))


def test_c8_a_company_training_outsiders_or_with_a_cfa_is_told_it_is_a_provider() -> None:
    ev = run({"role": "employer_internal"})
    assert ev.verdict.value == "not_required"
    assert "internal_and_outsiders" in {f.code for f in ev.next_steps}
    assert "CFA d’entreprise" in said({"role": "employer_internal"})


def test_c9_a_separate_entity_inside_a_university_needs_its_own_certificate() -> None:
    raw = {"role": "higher_education", "higher_education": "public_accredited"}
    assert run(raw).verdict.value == "deemed_compliant"
    assert "separate_entity_not_covered" in steps(raw)


def test_c11_a_state_or_region_buyer_is_said_to_be_uncertain_for_its_own_agents() -> None:
    ev = run(answers(funders=["state"]))
    finding = next(f for f in ev.next_steps if f.code == "uncertain_public_employer")
    assert finding.uncertain
    assert "propres agents" in said(answers(funders=["state"]))


def test_an_old_review_lacking_missing_categories_asks_it_and_keeps_the_rest() -> None:
    from flows.flow import step

    old = certified(scope="missing_category")  # stored before the question existed
    stored = {"v": 1, "state": "review", "answers": old, "lang": "fr"}
    assert step(stored, "show_result", TODAY).snapshot["state"] == "missing_categories"
    again = step(stored, "toggle", "missing_categories", "training").snapshot
    assert again["state"] == "missing_categories"
    assert again["pending"] == ["training"]
    done = step(again, "confirm", "missing_categories").snapshot
    assert done["state"] == "review"
    assert done["answers"]["missing_categories"] == ["training"]
    assert done["answers"]["funders"] == ["opco"]
