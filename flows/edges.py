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

# Where an answer can lead: the next question the path needs, or the review. The machine's
# ``is_next`` condition picks the one edge the answers need, so the edges are every other
# question, derived from the contract's order, and none can be missing. The rule of a
# question sees only the answers before it (flows.path.ASKED_WHEN), so the next question
# comes later in that order (first the later ones, then the review); an earlier one only for a
# conversation stored before that question was added. The diagram draws the edges paths take.
NEXT: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        question: (*QUESTION_IDS[index + 1 :], REVIEW, *QUESTION_IDS[:index])
        for index, question in enumerate(QUESTION_IDS)
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
