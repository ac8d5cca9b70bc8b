"""Answers that break the questionnaire contract are rejected, each kind with its own code."""

from __future__ import annotations

from typing import Any

import pytest

from flows.path import ContractError, validate
from tests.answers import INDEPENDENT_OPCO

BASE: dict[str, Any] = INDEPENDENT_OPCO

VIOLATIONS = [
    ("not_an_object", ["role", "independent"], None),
    ("unknown_question", {**BASE, "colour": "blue"}, "colour"),
    ("unknown_option", {**BASE, "role": "freelance"}, "role"),
    ("unknown_option", {**BASE, "funders": ["opco", "bank"]}, "funders"),
    ("unknown_option", {**BASE, "funders": ["opco", 3]}, "funders"),
    ("not_single", {**BASE, "role": ["independent"]}, "role"),
    ("not_single", {**BASE, "stage": None}, "stage"),
    ("not_multi", {**BASE, "activities": "training"}, "activities"),
    ("empty_multi", {**BASE, "funders": []}, "funders"),
    ("duplicate_option", {**BASE, "funders": ["opco", "opco"]}, "funders"),
    ("exclusive_option", {**BASE, "funders": ["opco", "none_yet"]}, "funders"),
    ("exclusive_option", {**BASE, "activities": ["training", "other"]}, "activities"),
    ("missing_question", {k: v for k, v in BASE.items() if k != "selling"}, "selling"),
    ("missing_question", {"role": "independent"}, "activities"),
    ("skipped_question", {**BASE, "higher_education": "other_private"}, "higher_education"),
    ("skipped_question", {**BASE, "sites": "one"}, "sites"),
    ("skipped_question", {**BASE, "micro_enterprise": "yes"}, "micro_enterprise"),
]


@pytest.mark.parametrize(
    ("code", "raw", "question"), VIOLATIONS, ids=[f"{c}-{q}" for c, _, q in VIOLATIONS]
)
def test_contract_violations_are_rejected_naming_the_question(
    code: str, raw: Any, question: str | None
) -> None:
    with pytest.raises(ContractError) as caught:
        validate(raw)
    assert caught.value.code == code
    assert caught.value.question == question


def test_multi_answers_are_put_in_contract_order() -> None:
    answers = validate({**BASE, "funders": ["region", "opco"]})
    assert answers["funders"] == ("opco", "region")


def test_a_valid_object_passes_unchanged() -> None:
    assert validate(BASE) == {k: tuple(v) if isinstance(v, list) else v for k, v in BASE.items()}
