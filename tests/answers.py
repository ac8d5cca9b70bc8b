"""Answers the tests share: an independent trainer paid by an OPCO, not certifying; the same
trainer delivering only as a subcontractor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows.advice import evaluate
from flows.contract import canonical
from flows.flow import CONFIRMED_ANSWERS
from flows.rules import UNCONCERNED

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


def owes_pdf(answers: dict[str, Any], on: dt.date = dt.date(2026, 11, 26)) -> bool:
    """Whether these answers' result comes with the checklist PDF: not when Qualiopi does not
    concern the person (nothing to print)."""
    return evaluate(canonical(answers), on).verdict not in UNCONCERNED


def result_shown(shown: list[Any], answers: dict[str, Any]) -> bool:
    """Whether a chat shows its whole result: the PDF when one is owed, else the summary."""
    if owes_pdf(answers):
        return any(m.document is not None for m in shown)
    return any("res:why" in m.data() for m in shown)
