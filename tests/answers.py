"""Answers the tests share: an independent trainer paid by an OPCO, not certifying; the same
trainer delivering only as a subcontractor."""

from __future__ import annotations

from typing import Any

from flows.flow import CONFIRMED_ANSWERS

INDEPENDENT_OPCO: dict[str, Any] = {
    "role": "independent",
    "activities": ["training"],
    "selling": "direct",
    "funders": ["opco"],
    "certifying": "no",
    "long_courses": "yes",
    "work_based": "no",
    "uses_subcontractors": "no",
    "certified": "no",
    "stage": "established",
}

SUBCONTRACTOR: dict[str, Any] = {
    "role": "independent",
    "activities": ["training"],
    "selling": "subcontractor_only",
    "cpf_subcontracting": "no",
    "future_public": "no",
    "certifying": "no",
    "long_courses": "yes",
    "work_based": "no",
    "uses_subcontractors": "no",
}
"""An independent trainer delivering only as a subcontractor, outside CPF."""


COMPANY_CFA: dict[str, Any] = {
    "role": "organisation",
    "activities": ["apprenticeship"],
    "selling": "direct",
    "funders": ["opco"],
    "uses_subcontractors": "no",
    "certified": "no",
    "stage": "new_entrant",
    "sites": "one",
}
"""A company CFA with its first apprentices, paid by an OPCO."""


def presses(answers: dict[str, Any]) -> list[str]:
    """Returns the button data a person taps to give these answers, then "see the result"."""
    data: list[str] = []
    for question, value in answers.items():
        if isinstance(value, str):
            data.append(f"ans:{question}:{value}")
            if (question, value) in CONFIRMED_ANSWERS:  # "yes, that is me"
                data.append(f"cfm:{question}:{value}")
        else:
            data += [f"ans:{question}:{option}" for option in value]
            data.append(f"ok:{question}")
    return [*data, "result"]


INDEPENDENT_OPCO_PRESSES = presses(INDEPENDENT_OPCO)
