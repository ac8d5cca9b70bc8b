"""The machine's edges: where each answer can lead, the triggers, and what a step did.

``flows.flow`` builds the one ``transitions`` machine from ``transition_table``; the diagram
(``flows.diagram``) draws the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from flows.contract import QUESTION_IDS, QUESTION_LIST, Kind

START: Final = QUESTION_IDS[0]
REVIEW: Final = "review"
RESULT: Final = "result"
STATES: tuple[str, ...] = (*QUESTION_IDS, REVIEW, RESULT)
MULTI: frozenset[str] = frozenset(q.id for q in QUESTION_LIST if q.kind is Kind.MULTI)

# Where an answer can lead: the next question a path needs, or the review. Forward paths use
# a few of these edges; the others occur after a change from the review (e.g. a new activity
# now needs the training questions; a dropped one, the categories missing from the
# certificate). tests/flows/test_flow.py checks this table is complete.
NEXT: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "role": ("higher_education", "activities", "sites", REVIEW),
        "higher_education": ("activities", REVIEW),
        "activities": (
            "selling",
            "future_public",
            "certifying",
            "certified",
            "missing_categories",
            REVIEW,
        ),
        "selling": ("funders", "cpf_subcontracting", "future_public", REVIEW),
        "funders": (
            "cpf_subcontracting",
            "future_public",
            "certifying",
            "uses_subcontractors",
            "certified",
            REVIEW,
        ),
        "cpf_subcontracting": (
            "micro_enterprise",
            "future_public",
            "certifying",
            "uses_subcontractors",
            REVIEW,
        ),
        "micro_enterprise": (
            "future_public",
            "certifying",
            "uses_subcontractors",
            "certified",
            REVIEW,
        ),
        "future_public": ("certifying", "uses_subcontractors", "certified", REVIEW),
        "certifying": ("long_courses", REVIEW),
        "long_courses": ("work_based", REVIEW),
        "work_based": ("uses_subcontractors", "certified", REVIEW),
        "uses_subcontractors": ("certified", REVIEW),
        "certified": ("stage", "audit_cycle", "sites", REVIEW),
        "stage": ("certified", "sites", REVIEW),
        "audit_cycle": ("scope", REVIEW),
        "scope": ("missing_categories", "sites", REVIEW),
        "missing_categories": ("sites", REVIEW),
        "sites": (REVIEW,),
    }
)


class Outcome:
    """What a step did, for the adapter to choose its reply (plain string codes)."""

    MOVED: Final = "moved"
    TOGGLED: Final = "toggled"
    STALE: Final = "stale"
    """A button of another question, or a trigger that does not apply here: nothing changed."""
    INVALID: Final = "invalid"
    """An option the question does not have (forged data): nothing changed."""
    CONFIRM: Final = "confirm"
    """An answer held until the person confirms it (``flows.flow.asks_confirmation``)."""
    EMPTY_SELECTION: Final = "empty_selection"
    NOTHING_BEFORE: Final = "nothing_before"


def transition_table() -> list[dict[str, Any]]:
    """Returns the machine's transitions as data (also drawn in docs/flow.md)."""
    table: list[dict[str, Any]] = []
    for question in QUESTION_IDS:
        trigger = "confirm" if question in MULTI else "answer"
        table += [
            {
                "trigger": trigger,
                "source": question,
                "dest": dest,
                "conditions": ["input_accepted", "is_next"],
            }
            for dest in NEXT[question]
        ]
        if question in MULTI:
            table.append(
                {
                    "trigger": "toggle",
                    "source": question,
                    "dest": None,
                    "conditions": "input_accepted",
                }
            )
    table += [
        {
            "trigger": "edit",
            "source": [REVIEW, RESULT],
            "dest": question,
            "conditions": ["input_accepted", "is_target"],
        }
        for question in QUESTION_IDS
    ]
    table += [
        {
            "trigger": "show_result",
            "source": REVIEW,
            "dest": RESULT,
            "conditions": ["input_accepted", "is_complete"],
        },
        {"trigger": "back", "source": "*", "dest": None, "after": "go_back"},
        {"trigger": "restart", "source": "*", "dest": START, "before": "forget"},
    ]
    return table


GLOBAL_TRIGGERS: frozenset[str] = frozenset({"back", "restart", "edit", "toggle"})
"""Triggers available (almost) everywhere: left out of the drawn diagram, listed beside it."""
