"""Which indicators: the published counts of §2.4 reproduced, and the contract's list as oracle."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings

from flows.advice import evaluate
from flows.checklist import indicators_for
from flows.path import validate
from flows.referential import referential, referential_on
from flows.rules import Verdict
from tests.strategies import valid_answers

RNQ_2019 = referential("rnq-2019")
RNQ_2026 = referential("rnq-2026")


def provider(activities: list[str], **training: str) -> dict[str, Any]:
    """A provider selling directly with OPCO money, using subcontractors (27 counted)."""
    answers: dict[str, Any] = {
        "role": "organisation",
        "activities": activities,
        "selling": "direct",
        "funders": ["opco"],
        "uses_subcontractors": "yes",
        "certified": "no",
        "stage": "established",
        "sites": "one",
    }
    if "training" in activities:
        answers |= {"certifying": "no", "long_courses": "yes", "work_based": "no"} | training
    return answers


# Published figures (consultancies BMG, Monof, Certifopac, Atalia), domain reference §2.4; the
# published counts include 27 (auditors mark it N/A when nothing is subcontracted).
PUBLISHED_COUNTS = [
    ("AF: 23", provider(["training"]), 23),
    ("AF certifying: 26", provider(["training"], certifying="yes"), 26),
    ("AF work-based: 25", provider(["training"], work_based="alternance"), 25),
    ("BC: 22", provider(["skills_assessment"]), 22),
    ("VAE: 24", provider(["vae"]), 24),
    ("CFA: 32", provider(["apprenticeship"]), 32),
]


@pytest.mark.parametrize(
    ("answers", "count"),
    [(a, c) for _, a, c in PUBLISHED_COUNTS],
    ids=[n for n, _, _ in PUBLISHED_COUNTS],
)
def test_published_counts_are_reproduced(answers: dict[str, Any], count: int) -> None:
    assert len(indicators_for(RNQ_2019, validate(answers))) == count


def test_independent_not_subcontracting_has_the_published_22() -> None:
    answers = validate({**provider(["training"]), "uses_subcontractors": "no"})
    assert indicators_for(RNQ_2019, answers) == (
        1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 17, 18, 19, 21, 22, 23, 24, 25, 26, 30, 31, 32,
    )  # fmt: skip


def test_short_courses_drop_indicator_12_for_training_only() -> None:
    short = validate({**provider(["training"]), "long_courses": "no"})
    assert 12 not in indicators_for(RNQ_2019, short)
    mixed = validate({**provider(["training", "skills_assessment"]), "long_courses": "no"})
    assert 12 in indicators_for(RNQ_2019, mixed)


def test_bilan_centres_are_not_audited_on_indicator_8() -> None:
    assert 8 not in indicators_for(RNQ_2019, validate(provider(["skills_assessment"])))


def test_vae_adds_3_and_16_but_not_7_or_8() -> None:
    vae = set(indicators_for(RNQ_2019, validate(provider(["vae"]))))
    assert {3, 16} <= vae
    assert not {7, 8} & vae


def test_work_periods_add_28_but_not_13() -> None:
    ids = indicators_for(RNQ_2019, validate(provider(["training"], work_based="work_periods")))
    assert 28 in ids
    assert 13 not in ids


def test_indicator_33_exists_only_from_1_november_2026() -> None:
    cfa = validate(provider(["apprenticeship"]))
    assert 33 not in indicators_for(referential_on(dt.date(2026, 10, 31)), cfa)
    assert 33 in indicators_for(referential_on(dt.date(2026, 11, 1)), cfa)


COMMON = {1, 2, 4, 5, 6, 9, 10, 11, 12, 17, 18, 19, 21, 22, 23, 24, 25, 26, 30, 31, 32}
NEW_ENTRANT_V9 = {2, 3, 11, 13, 14, 19, 22, 24, 25, 26, 32}


def contract_indicators(answers: dict[str, Any], version: str) -> set[int]:
    """The questionnaire contract's "Which indicators" section, read literally (the oracle)."""
    categories = {
        {"training": "AF", "skills_assessment": "BC", "vae": "VAE", "apprenticeship": "CFA"}[a]
        for a in answers["activities"]
        if a != "other"
    }
    ids = set(COMMON)
    if answers.get("uses_subcontractors") == "yes":
        ids.add(27)
    if "AF" in categories:
        ids.add(8)
        if answers.get("certifying") == "yes":
            ids |= {3, 7, 16}
        if answers.get("work_based") == "alternance":
            ids |= {13, 28}
        if answers.get("work_based") == "work_periods":
            ids.add(28)
        if categories == {"AF"} and answers.get("long_courses") == "no":
            ids.discard(12)
    if "VAE" in categories:
        ids |= {3, 16}
    if "CFA" in categories:
        ids |= {3, 7, 8, 13, 14, 15, 16, 20, 28, 29}
        if version == "rnq-2026":
            ids.add(33)
    selling_soon = answers.get("future_public") == "certain"
    if answers.get("selling") == "subcontractor_only" and not selling_soon:
        ids -= {1, 2, 3}
    return ids


DATES = [dt.date(2026, 10, 31), dt.date(2026, 11, 1)]


@settings(max_examples=400, deadline=None)
@given(raw=valid_answers())
def test_indicators_follow_the_contract_for_every_allowed_answers_object(
    raw: dict[str, Any],
) -> None:
    for day in DATES:
        result = evaluate(validate(raw), day)
        if result.verdict in (Verdict.DEEMED_COMPLIANT, Verdict.NOT_APPLICABLE) or (
            "activities" not in raw
        ):
            assert result.indicators == ()
            continue
        expected = contract_indicators(raw, result.referential.id)
        cfa_subcontractor = "apprenticeship" in raw["activities"] and (
            raw.get("selling") == "subcontractor_only"
        )
        if cfa_subcontractor and result.verdict == Verdict.NOT_REQUIRED:
            expected -= {14, 15, 20, 29}  # the CFA's own duties (contract, amended 2026-12-03)
        assert set(result.indicators) == expected
        if raw.get("stage") in ("new_entrant", "nda_pending"):
            assert set(result.deferred_for_new_entrant) == NEW_ENTRANT_V9 & set(result.indicators)
        elif raw.get("missing_categories"):
            # new entrant for the missing categories only (contract, amended 2026-12-03)
            alone = contract_indicators(
                {**raw, "activities": raw["missing_categories"]}, result.referential.id
            )
            assert set(result.deferred_for_new_entrant) == (
                NEW_ENTRANT_V9 & alone & set(result.indicators)
            )
        else:
            assert result.deferred_for_new_entrant == ()
