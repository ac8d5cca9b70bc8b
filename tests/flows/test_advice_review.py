"""The expert review of November 2026, item by item: one test per situation it protects.

Each test names the review item it covers (shared reference ``advice-review-2026-11.md``);
the expected values come from the sources the review cites, not from the code.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

import messages
from bot.render.report import build_report, render_result_text
from flows.advice import Evaluation, evaluate
from flows.path import ContractError, validate
from flows.referential import micro_ceiling_on, referential
from flows.rules import CPF_SUBCONTRACTING_SINCE, cpf_subcontractors_must_be_certified
from tests.answers import INDEPENDENT_OPCO, SUBCONTRACTOR

TODAY = dt.date(2026, 11, 27)
BEFORE_2026 = dt.date(2026, 10, 31)

CHANGED_IN_2026 = {1, 2, 3, 7, 12, 14, 15, 19, 20, 27, 30, 32, 33}
"""The contract's list for ``changed_at_next_audit``."""
MINOR_POSSIBLE = {1, 2, 3, 8, 9, 12, 13, 17, 18, 19, 23, 24, 25, 28, 30}
"""Review item 13 and rules §2.3: the only indicators that can carry a minor non-conformity."""


def answers(**changes: Any) -> dict[str, Any]:
    """An independent trainer paid by an OPCO, with some answers changed (None removes one)."""
    out = {**INDEPENDENT_OPCO, **changes}
    return {k: v for k, v in out.items() if v is not None}


CFA_SUBCONTRACTOR: dict[str, Any] = {
    "role": "organisation",
    "activities": ["apprenticeship"],
    "selling": "subcontractor_only",
    "cpf_subcontracting": "no",
    "future_public": "no",
    "uses_subcontractors": "no",
}
CPF_SUBCONTRACTOR: dict[str, Any] = {
    **SUBCONTRACTOR,
    "cpf_subcontracting": "yes",
    "micro_enterprise": "no",
}


def run(raw: dict[str, Any], on: dt.date = TODAY) -> Evaluation:
    return evaluate(validate(raw, on), on)


def codes(findings: Any) -> set[str]:
    return {f.code for f in findings}


def text(raw: dict[str, Any], lang: str = "fr", on: dt.date = TODAY) -> str:
    ev = run(raw, on)
    return render_result_text(ev, lang)


def certified(**changes: Any) -> dict[str, Any]:
    base = answers(stage=None, certified="yes", audit_cycle="before_surveillance")
    return {**base, "scope": "covers_all", **changes}


# --- Wrong verdicts -------------------------------------------------------------------------


def test_a_cfas_subcontractor_is_not_bound() -> None:  # item 1
    ev = run({**CFA_SUBCONTRACTOR, "uses_subcontractors": "no"})
    assert ev.verdict == "not_required"
    reason = next(f for f in ev.reasons if f.code == "apprenticeship_subcontractor")
    assert reason.uncertain
    said = text(CFA_SUBCONTRACTOR)
    assert "indicateur 27" in said
    assert "DREETS" in said
    assert ev.indicators, "the indicators its missions usually touch, like any subcontractor"
    assert ev.next_audit is None


def test_apprenticeship_sold_directly_stays_required() -> None:  # item 1
    raw = {
        "role": "organisation",
        "activities": ["apprenticeship"],
        "selling": "direct",
        "funders": ["companies_own_budget"],
        "uses_subcontractors": "no",
        "certified": "no",
        "stage": "established",
        "sites": "one",
    }
    assert run(raw).verdict == "required"


def test_a_cpf_subcontractor_in_2023_is_not_bound() -> None:  # item 2
    raw = {**CPF_SUBCONTRACTOR}  # future_public is asked: nothing obliged it then
    ev = run(raw, dt.date(2023, 6, 1))
    assert ev.verdict == "not_required"
    assert "cpf_subcontracting_not_yet" in codes(ev.reasons)
    assert "cpf_subcontractor" not in codes(ev.reasons)
    assert "1er avril 2024" in render_result_text(ev, "fr")


def test_a_cpf_subcontractor_from_1_april_2024_is_bound_and_the_rule_carries_its_date() -> None:
    # item 2: the day before the rule, the same answers did not oblige it.
    assert cpf_subcontractors_must_be_certified.since == dt.date(2024, 4, 1)
    bound = {k: v for k, v in CPF_SUBCONTRACTOR.items() if k != "future_public"}
    bound |= {"certified": "no", "stage": "established"}
    assert run(bound, CPF_SUBCONTRACTING_SINCE).verdict == "required"
    with pytest.raises(ContractError, match="future_public"):
        validate(bound, CPF_SUBCONTRACTING_SINCE - dt.timedelta(days=1))
    assert run(CPF_SUBCONTRACTOR, dt.date(2024, 3, 31)).verdict == "not_required"


def test_a_subcontractor_about_to_sell_directly_keeps_indicators_1_to_3() -> None:  # item 3
    raw = {**SUBCONTRACTOR, "future_public": "certain", "certifying": "yes"}
    raw |= {"certified": "no", "stage": "established"}
    ev = run(raw)
    assert ev.verdict == "recommended"
    assert {1, 2, 3} <= set(ev.indicators)
    assert "scope_selling_soon" in codes(ev.checklist_notes)
    maybe = run(
        {**SUBCONTRACTOR, "future_public": "maybe", "certified": "no", "stage": "established"}
    )
    assert not {1, 2, 3} & set(maybe.indicators)


# --- Wrong or missing advice ----------------------------------------------------------------


def test_a_cpf_seller_answering_not_certifying_is_warned() -> None:  # item 4
    ev = run(answers(funders=["cpf"], certifying="no"))
    reason = next(f for f in ev.reasons if f.code == "cpf_not_certifying")
    assert reason.uncertain
    said = text(answers(funders=["cpf"], certifying="no"))
    assert "3, 7 et 16" in said
    assert "permis de conduire" in said
    assert "cpf_not_certifying" not in codes(
        run(answers(funders=["cpf"], certifying="yes")).reasons
    )
    helped = messages.text("fr", "questions", "help", question="certifying", cpf=True)
    assert "Mon Compte Formation" in helped
    plain = messages.text("fr", "questions", "help", question="certifying")
    assert "Mon Compte Formation" not in plain


def test_a_cpf_seller_using_subcontractors_is_told_its_duties_as_contractor() -> None:  # item 5
    raw = answers(funders=["cpf"], certifying="yes", uses_subcontractors="yes")
    ev = run(raw)
    assert "cpf_contractor_duties" in codes(ev.next_steps)
    said = text(raw)
    for duty in ("contrat de sous-traitance écrit", "cascade", "80", "déclaré sur la plateforme"):
        assert duty in said
    assert "cpf_contractor_duties" not in codes(run(answers(funders=["cpf"])).next_steps)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_the_funders_help_names_the_seven_funders_and_no_other(lang: str) -> None:  # item 6
    helped = messages.text(lang, "questions", "help", question="funders")
    for funder in ("OPCO", "Transitions Pro", "Caisse des dépôts", "France Travail", "Agefiph"):
        assert funder in helped
    assert "Région" in helped
    assert "CNFPT" in helped  # named as not triggering it
    assert "single public" not in helped
    assert "seul financeur public" not in helped


def test_opco_voluntary_contributions_are_not_called_uncertain() -> None:  # item 7
    raw = answers(funders=["companies_own_budget"], future_public="maybe")
    ev = run(raw)
    assert not any("opco" in f.code for f in ev.next_steps)
    assert "contributions volontaires" in text(raw)
    assert "aucun texte" not in text(raw)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_soft_skills_training_is_not_filed_with_leisure(lang: str) -> None:  # item 8
    helped = messages.text(lang, "questions", "help", question="activities")
    label = messages.text(lang, "questions", "option", question="activities", option="other")
    assert "personal development" not in (helped + label).lower()
    assert "développement personnel" not in (helped + label).lower()
    assert ("vie privée" if lang == "fr" else "private life") in helped


def test_the_micro_entrepreneur_ceiling_is_dated_data() -> None:  # item 9
    old = micro_ceiling_on(dt.date(2025, 6, 1))
    new = micro_ceiling_on(dt.date(2026, 6, 1))
    assert old is not None
    assert new is not None
    assert (old.amount_eur, old.confirmed) == (77_700, True)
    assert (new.amount_eur, new.confirmed) == (83_600, False)
    assert "Urssaf" in new.source.fr
    raw = {**CPF_SUBCONTRACTOR, "micro_enterprise": "yes"}
    said_2026 = text(raw)
    assert "83\u00a0600\u00a0€" in said_2026
    assert "annoncé" in said_2026
    said_2025 = text(raw, on=dt.date(2025, 6, 1))
    assert "77\u00a0700\u00a0€" in said_2025
    question = messages.text("fr", "questions", "micro_enterprise")
    helped = messages.text("fr", "questions", "help", question="micro_enterprise")
    assert not any(ch.isdigit() for ch in question + helped), "worded around the regime"


def test_the_initial_audit_promises_no_30_day_delay() -> None:  # item 10
    for lang in messages.LANGUAGES:
        said = messages.text(lang, "steps", "initial_audit", newcomer=False)
        assert "30" not in said


def test_the_renewal_reminder_comes_8_months_before_the_third_anniversary() -> None:  # item 11
    from bot.consultancy.reminders import reminder_dates

    dates = {kind: day for day, kind in reminder_dates(dt.date(2026, 1, 15))}
    assert dates == {"surveillance": dt.date(2027, 3, 15), "renewal": dt.date(2028, 5, 15)}


def test_a_new_entrant_in_several_categories_is_told_the_deferral_covers_new_ones_only() -> None:
    # item 12
    raw = answers(
        role="organisation",
        activities=["training", "skills_assessment"],
        stage="new_entrant",
        sites="one",
    )
    step = next(f for f in run(raw).next_steps if f.code == "new_entrant_two_steps")
    assert step.data["several_categories"]
    assert "catégories dans lesquelles vous êtes nouveau" in text(raw)
    single = next(
        f
        for f in run(answers(stage="new_entrant")).next_steps
        if f.code == "new_entrant_two_steps"
    )
    assert not single.data["several_categories"]


def test_the_result_says_how_audits_judge_and_marks_major_only_indicators() -> None:  # item 13
    ev = run(answers())
    assert "how_audits_judge" in codes(ev.next_steps)
    report = build_report(ev, "fr")
    for item in report["checklist"]:
        assert item["major_only"] == (item["number"] not in MINOR_POSSIBLE), item["number"]
    said = text(answers())
    assert "non-conformité mineure" in said
    assert "6 mois" in said
    assert "3 mois" in said
    assert "☐ 4. Analyse du besoin ‼" in said
    assert "☐ 1. Information du public sur l’offre\n" in said


def test_proofs_are_examples_tailored_to_the_provider() -> None:  # item 14
    sole = build_report(run(answers()), "fr")
    proofs = [p for item in sole["checklist"] for p in item["proofs"]]
    assert "Entretiens professionnels" not in proofs, "no professional interviews, sole trader"
    assert not any("VAE" in p for p in proofs), "no VAE example without VAE"
    assert "Exemples de preuves" in text(answers())
    vae = answers(role="organisation", activities=["training", "vae"], sites="one")
    vae_proofs = [p for i in build_report(run(vae), "fr")["checklist"] for p in i["proofs"]]
    assert any("VAE" in p for p in vae_proofs)
    assert "Entretiens professionnels" in vae_proofs
    bilans = answers(activities=["skills_assessment"])
    for key in ("certifying", "long_courses", "work_based"):
        bilans.pop(key)
    bc_proofs = [p for i in build_report(run(bilans), "fr")["checklist"] for p in i["proofs"]]
    assert not any("financeur" in p for p in bc_proofs)


def test_a_certified_provider_is_told_its_next_audit_not_an_initial_one() -> None:  # item 15
    ev = run(certified(audit_cycle="surveillance_window"))
    assert ev.next_audit == "surveillance"
    steps = codes(ev.next_steps)
    assert "next_surveillance_audit" in steps
    assert not {"initial_audit", "choose_certifier", "public_list"} & steps
    said = text(certified(audit_cycle="surveillance_window"))
    assert "Audit initial" not in said
    assert "à distance" in said
    renewal = run(certified(audit_cycle="renewal_window"))
    assert renewal.next_audit == "renewal"
    assert "next_renewal_audit" in codes(renewal.next_steps)
    assert "3e anniversaire" in text(certified(audit_cycle="renewal_window"))
    assert run(answers(certified="in_progress")).next_audit == "initial"
    assert "choose_certifier" not in codes(run(answers(certified="in_progress")).next_steps)


def test_a_certified_provider_sees_what_changed_on_1_november_2026_first() -> None:  # item 15
    ev = run(certified())
    assert set(ev.changed_at_next_audit) == CHANGED_IN_2026 & set(ev.indicators)
    said = text(certified())
    changed_at = said.index("Ce qui change pour vous au 1er novembre 2026")
    assert changed_at < said.index("Votre checklist")
    assert "12. Engagement et prévention des abandons — Ajoute la prévention" in said
    before = run(certified(), BEFORE_2026)
    assert before.changed_at_next_audit == ()
    not_yet = run(answers())
    assert not_yet.changed_at_next_audit == ()


def test_a_missing_category_needs_an_extension_audit_first() -> None:  # item 15
    extending = certified(scope="missing_category", missing_categories=["training"])
    steps = [f.code for f in run(extending).next_steps]
    assert steps.index("extension_audit") < steps.index("next_surveillance_audit")
    assert "audit d’extension" in text(extending)


def test_a_certified_provider_is_not_asked_its_stage() -> None:  # contract, amended
    with pytest.raises(ContractError, match="skipped_question: stage"):
        validate({**certified(), "stage": "established"})
    with pytest.raises(ContractError, match="missing_question: audit_cycle"):
        validate({k: v for k, v in certified().items() if k != "audit_cycle"})


def test_a_not_required_subcontractor_is_not_told_indicators_concern_it() -> None:  # item 16
    said = text(SUBCONTRACTOR)
    assert not re.search(r"\d+ indicateurs sur \d+ vous concernent", said)
    assert "Les indicateurs que vos missions touchent : 20 sur 33" in said.replace("\u00a0", " ")
    assert "peut vous demander des preuves" in said
    assert "‼" not in said
    assert build_report(run(SUBCONTRACTOR), "fr")["mission_checklist"]


def test_a_not_required_subcontractor_keeps_its_nda_and_bpf_duties() -> None:  # item 17
    ev = run(SUBCONTRACTOR)
    assert "subcontractor_nda_bpf" in codes(ev.next_steps)
    said = text(SUBCONTRACTOR)
    assert "NDA" in said
    assert "BPF" in said
    assert "caduque" in said


@pytest.mark.parametrize("stage", ["nda_pending", "new_entrant", "not_started"])
def test_a_newcomer_is_not_asked_for_a_last_bpf(stage: str) -> None:  # item 18
    said = text(answers(stage=stage))
    assert "dernier bilan pédagogique" not in said
    assert "chiffre d’affaires prévisionnel par financeur" in said
    assert "dernier bilan pédagogique" in text(answers())


# --- Wording ----------------------------------------------------------------------------------


def test_a_cpf_subcontractor_is_said_to_deliver_not_to_hand_work_out() -> None:
    said = text({**CPF_SUBCONTRACTOR, "micro_enterprise": "yes"})
    assert "Vous réalisez, en sous-traitance, des actions vendues sur Mon Compte Formation" in said
    assert "Vous sous-traitez" not in said


def test_the_cfa_reason_speaks_of_the_indicators_that_apply() -> None:
    said = messages.text("fr", "reasons", "apprenticeship")
    assert "sur les indicateurs qui vous concernent" in said
    assert "tous les indicateurs" not in said


def test_the_opco_reason_speaks_of_companies_under_50_employees() -> None:
    assert "des entreprises de moins de 50 salariés" in messages.text(
        "fr", "reasons", "funded_by_opco"
    )


def test_indicator_7_in_2026_speaks_of_being_authorised_to_prepare() -> None:
    change = referential("rnq-2026").indicator(7).change
    assert change is not None
    assert "habilité à préparer" in change["fr"]
    assert "délivrer la certification (" not in change["fr"]


def test_the_missing_reading_guide_is_dated() -> None:
    assert "au 29 septembre 2026" in messages.text("fr", "steps", "uncertain_rnq_2026")
    assert "as of 29 September 2026" in messages.text("en", "steps", "uncertain_rnq_2026")


def test_deemed_compliant_providers_are_not_promised_the_qualiopi_mark() -> None:
    for lang in messages.LANGUAGES:
        said = messages.text(lang, "steps", "deemed_compliant_public_list")
        assert "marque" not in said
        assert "mark" not in said


PROFILES = [
    answers(),
    SUBCONTRACTOR,
    CFA_SUBCONTRACTOR,
    certified(scope="missing_category", missing_categories=["training"]),
    answers(funders=["faf"], future_public="no"),
    answers(certified="lapsed"),
    certified(audit_cycle="expiring"),
    {**CPF_SUBCONTRACTOR, "micro_enterprise": "yes"},
    answers(funders=["other_funds"], future_public="no", certifying="yes"),
    {"role": "employed_trainer"},
]


@pytest.mark.parametrize("raw", PROFILES)
def test_french_reasons_cite_french_titles_and_english_output_has_no_french(raw: Any) -> None:
    french = json.dumps(build_report(run(raw), "fr"), ensure_ascii=False)
    assert "What is it" not in french
    assert "Who is concerned" not in french
    english = json.dumps(build_report(run(raw), "en"), ensure_ascii=False)
    for fragment in ("rapporté", "à confirmer", "indicateur ", "contrats signés", "liste limit"):
        assert fragment not in english, fragment


# --- French typography ------------------------------------------------------------------------


def test_french_typography_is_applied_where_french_text_is_produced() -> None:
    report = build_report(run(certified()), "fr")
    whole = json.dumps(report, ensure_ascii=False) + text(certified())
    assert "'" not in whole.replace('"', ""), "typographic apostrophes, data files included"
    assert " :" not in whole, "a no-break space before the colon"
    assert " ;" not in whole
    assert "\u202f;" in whole
    assert "Source\u00a0:" in text(certified())
    titles = [item["title"] for item in report["checklist"]]
    assert "Information du public sur l’offre" in titles  # from the YAML, with ’
    english = render_result_text(run(certified()), "en")
    assert "\u202f" not in english
    assert "\u00a0" not in english


def test_french_typography_leaves_links_commands_times_and_markup_alone() -> None:
    typeset = messages.french_typography
    assert typeset("Source : Code ; voir « ici » !") == (
        "Source\u00a0: Code\u202f; voir «\u202fici\u202f»\u202f!"
    )
    assert typeset("1500 € et 1 500 €") == "1500\u00a0€ et 1\u00a0500\u00a0€"
    assert typeset('<a href="https://x.fr/?a=1">l\'offre</a> ?') == (
        '<a href="https://x.fr/?a=1">l’offre</a>\u202f?'
    )
    assert typeset("à 14:30, tapez /start ; écrivez à a.b@x.fr") == (
        "à 14:30, tapez /start\u202f; écrivez à a.b@x.fr"
    )
    once = typeset("Pourquoi ? L'OPCO : 80 %")
    assert typeset(once) == once
    assert messages.typography("en", "Why? It's: 80 %") == "Why? It's: 80 %"


# --- Conversations stored before the new questions ---------------------------------------------

OLD_ANSWERS = {k: v for k, v in answers().items() if k != "certified"}
"""What a finished questionnaire held before ``certified`` existed."""


def old_snapshot(state: str, answered: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "state": state, "answers": answered, "lang": "fr"}


def test_an_old_review_without_the_new_question_asks_it_first() -> None:
    from flows.flow import resume, step

    stored = old_snapshot("review", OLD_ANSWERS)
    assert resume(stored)["state"] == "certified"
    shown = step(stored, "show_result", TODAY)
    assert shown.snapshot["state"] == "certified", "no result before the new question"
    answered = step(stored, "answer", "certified", "no")
    assert answered.snapshot["state"] == "review", "the stage answered before is kept"
    assert answered.snapshot["answers"]["stage"] == "established"
    assert step(answered.snapshot, "show_result", TODAY).snapshot["state"] == "result"


def test_an_old_conversation_at_the_stage_question_is_asked_the_new_one_next() -> None:
    from flows.flow import step

    before = {k: v for k, v in OLD_ANSWERS.items() if k != "stage"}
    moved = step(old_snapshot("stage", before), "answer", "stage", "established")
    assert moved.snapshot["state"] == "certified"
    done = step(moved.snapshot, "answer", "certified", "no")
    assert done.snapshot["state"] == "review"


def test_a_finished_old_questionnaire_keeps_its_result() -> None:
    from bot.render.screens import evaluation_of
    from flows.flow import resume

    stored = {**old_snapshot("result", OLD_ANSWERS), "date": "2026-10-15"}
    assert resume(stored) == stored
    ev = evaluation_of(stored)
    assert ev.verdict == "required"
    assert ev.next_audit == "initial"


def test_progress_counts_the_certified_providers_questions() -> None:
    from flows.flow import step
    from flows.progress import progress

    snapshot = old_snapshot("certified", {k: v for k, v in OLD_ANSWERS.items() if k != "stage"})
    assert progress(snapshot).total == 10  # 8 answered, certified, then stage (assumed "no")
    after = step(snapshot, "answer", "certified", "yes").snapshot
    assert after["state"] == "audit_cycle"
    assert progress(after).total == 11  # certified, audit_cycle, scope


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_answers_from_before_the_amendment_exit_2_naming_the_new_question(lang: str) -> None:
    import io

    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    status = main(["evaluate", "--lang", lang], io.StringIO(json.dumps(OLD_ANSWERS)), out, err)
    assert status == 2
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert "certified" in lines[0]
