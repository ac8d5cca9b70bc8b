"""The questionnaire as one shared state machine (``transitions``) and per-person snapshots.

One state per question, then ``review`` (every answer, each changeable) and ``result``. The
machine is built once; a person is only a small JSON-serialisable snapshot. A step loads the
snapshot into a light model, fires one trigger on the shared machine and returns the new
snapshot: no ``Machine`` per person, no I/O.

Triggers:

- ``answer(question, option)``: a single-choice question; goes to the next question needed.
  ``answer(question, option, "assumed")`` records a safe answer given for "I don't know".
- ``toggle(question, option)`` / ``confirm(question)``: a multi-choice question.
- ``back()``: the previous question on the path (derived from the answers, so it cannot drift),
  or the review when a change from the review is under way.
- ``restart()``: everything forgotten but the language.
- ``edit(question)``: from the review or the result, change one answer; answers that the change
  makes irrelevant are dropped, newly needed questions are asked, then back to the review.
- ``show_result(day)``: from the review; the référentiel is the one in force on ``day``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from transitions import EventData, Machine

from flows.contract import (
    QUESTION_IDS,
    QUESTIONS,
    Answer,
    canonical,
)
from flows.edges import (
    GLOBAL_TRIGGERS,
    MULTI,
    NEXT,
    RESULT,
    REVIEW,
    START,
    STATES,
    Outcome,
    transition_table,
)
from flows.path import (
    ASKED_WHEN,
    answered_path,
    fits_path,
    offered_options,
    path_questions,
)
from flows.snapshot import SNAPSHOT_VERSION, Snapshot, is_stored_snapshot

__all__ = [
    "CONFIRMED",
    "CONFIRMED_ANSWERS",
    "GLOBAL_TRIGGERS",
    "MACHINE",
    "MULTI",
    "NEXT",
    "RESULT",
    "REVIEW",
    "SNAPSHOT_VERSION",
    "START",
    "STATES",
    "TRIGGERS",
    "Conversation",
    "Outcome",
    "Snapshot",
    "Step",
    "asks_confirmation",
    "choose",
    "is_snapshot",
    "new_snapshot",
    "next_needed",
    "previous_state",
    "prune",
    "resume",
    "step",
    "transition_table",
]


def prune(answers: Mapping[str, Answer]) -> dict[str, Answer]:
    """Drops the answers that the path of the other answers no longer asks.

    Past the first question the path needs and lacks, whether a later question is asked is
    not known yet: those answers are kept until it is (an edit that adds a question does not
    lose the answers after it).
    """
    kept: dict[str, Answer] = {}
    for index, question in enumerate(QUESTION_IDS):
        if ASKED_WHEN[question](kept, None):  # kept: the answers before it, so far
            if question not in answers or not fits_path(question, answers[question], kept):
                kept |= {q: answers[q] for q in QUESTION_IDS[index + 1 :] if q in answers}
                return kept
            kept[question] = answers[question]
    return kept


CONFIRMED: Final = "confirmed"
"""The third argument of ``answer`` that confirms an answer held by ``asks_confirmation``."""

CONFIRMED_ANSWERS: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {("role", "employer_internal"): "organisation", ("role", "employed_trainer"): "independent"}
)
"""Answers that end the questionnaire on "not concerned" and that people give by mistake,
held until confirmed, each with the answer those people mean: a company with its own CFA is
a provider, a freelance who trains "occasionally" is independent."""


def asks_confirmation(question: str, option: str, answers: Mapping[str, Answer]) -> bool:
    """Tells whether this answer is held for a confirmation first (giving the same answer
    again, e.g. from the review, needs none)."""
    return (question, option) in CONFIRMED_ANSWERS and answers.get(question) != option


def next_needed(answers: Mapping[str, Answer]) -> str:
    """Returns the first question the path asks and that has no answer, else the review."""
    for question in path_questions(answers):
        if question not in answers:
            return question
    return REVIEW


class Conversation:
    """The model a step works on: one person's snapshot, loaded for the length of one trigger."""

    __slots__ = (
        "answers",
        "assumed",
        "day",
        "editing",
        "lang",
        "needed",
        "outcome",
        "pending",
        "state",
    )

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self.state: str = snapshot["state"]
        self.answers: dict[str, Answer] = canonical(snapshot["answers"])
        self.pending: list[str] = list(snapshot.get("pending", ()))
        self.assumed: list[str] = list(snapshot.get("assumed", ()))
        """Questions answered "I don't know", given their safe answer (the result says so)."""
        self.editing: bool = bool(snapshot.get("editing", False))
        self.lang: str = snapshot["lang"]
        self.day: str | None = snapshot.get("date")
        self.outcome: str = Outcome.STALE
        self.needed: str | None = None

    def to_snapshot(self) -> dict[str, Any]:
        """Returns the stored form of this conversation (``Snapshot.to_json``)."""
        return Snapshot(
            state=self.state,
            lang=self.lang,
            answers=self.answers,
            pending=tuple(self.pending),
            assumed=tuple(self.assumed),
            editing=self.editing,
            date=self.day,
        ).to_json()

    # --- reading the input of a trigger (the machine's prepare_event) ---

    def read_input(self, event: EventData) -> None:
        """Checks the trigger's input against the current question and records it."""
        name = event.event.name
        args = tuple(event.args)
        if name == "show_result":
            day = args[0] if args else None
            if isinstance(day, dt.date):
                self.day = day.isoformat()
                self.outcome = Outcome.MOVED
            else:
                self.outcome = Outcome.INVALID
        elif name in ("answer", "toggle", "confirm", "edit"):
            question = args[0] if args else None
            if not isinstance(question, str) or question not in QUESTIONS:
                self.outcome = Outcome.INVALID
                return
            if name == "edit":
                self._start_edit(question)
            elif question != self.state:
                self.outcome = Outcome.STALE
            elif name == "confirm":
                self._confirm(question)
            else:
                option = args[1] if len(args) > 1 else None
                if option not in QUESTIONS[question].options:
                    self.outcome = Outcome.INVALID
                elif name == "answer" and question not in MULTI:
                    flag = args[2] if len(args) > 2 else None
                    if flag != CONFIRMED and asks_confirmation(question, option, self.answers):
                        self.pending = [option]
                        self.outcome = Outcome.CONFIRM
                    else:
                        self._record(question, option, assumed=flag == "assumed")
                elif name == "toggle" and question in MULTI:
                    self._toggle(question, option)
                else:
                    self.outcome = Outcome.INVALID

    def _record(self, question: str, value: Answer, assumed: bool = False) -> None:
        self.answers = prune({**self.answers, question: value})
        kept = [q for q in self.assumed if q in self.answers and q != question]
        self.assumed = [*kept, question] if assumed else kept
        self.needed = next_needed(self.answers)  # once per step, not once per candidate edge
        self.pending = []
        self.outcome = Outcome.MOVED

    def _toggle(self, question: str, option: str) -> None:
        if option not in offered_options(question, self.answers):
            self.outcome = Outcome.INVALID
            return
        exclusive = QUESTIONS[question].exclusive
        if option in self.pending:
            self.pending.remove(option)
        elif option == exclusive:
            self.pending = [option]
        else:
            self.pending = [o for o in self.pending if o != exclusive] + [option]
        self.outcome = Outcome.TOGGLED

    def _confirm(self, question: str) -> None:
        if not self.pending:
            self.outcome = Outcome.EMPTY_SELECTION
            return
        chosen = set(self.pending)
        self._record(question, tuple(o for o in QUESTIONS[question].options if o in chosen))

    def _start_edit(self, question: str) -> None:
        if self.state not in (REVIEW, RESULT) or question not in self.answers:
            self.outcome = Outcome.STALE
            return
        current = self.answers[question]
        self.pending = [] if isinstance(current, str) else list(current)
        self.editing = True
        self.outcome = Outcome.MOVED

    # --- conditions ---

    def input_accepted(self, event: EventData) -> bool:
        """Tells whether the trigger's input was valid for the current question."""
        return self.outcome in (Outcome.MOVED, Outcome.TOGGLED)

    def is_next(self, event: EventData) -> bool:
        """Tells whether this transition's destination is the next question the path needs."""
        dest = event.transition.dest if event.transition else None
        return dest == self.needed

    def is_complete(self, event: EventData) -> bool:
        """Tells whether every question the path asks has an answer."""
        return next_needed(self.answers) == REVIEW

    def is_target(self, event: EventData) -> bool:
        """Tells whether this edit transition leads to the question asked for."""
        args = tuple(event.args)
        return event.transition is not None and bool(args) and args[0] == event.transition.dest

    # --- callbacks ---

    def finish_edit(self, event: EventData) -> None:
        """Ends a change made from the review: every needed answer is there again."""
        self.editing = False

    def go_back(self, event: EventData) -> None:
        """Returns to the previous question on the path (or to the review while editing); from
        a confirmation, back to its question."""
        if self.state not in MULTI and self.pending:
            self.pending = []
            self.outcome = Outcome.MOVED
            return
        target = previous_state(self)
        if target is None:
            self.outcome = Outcome.NOTHING_BEFORE
            return
        self.pending = list(self.answers.get(target, ())) if target in MULTI else []
        if target in (REVIEW, RESULT) or self.state in (REVIEW, RESULT):
            self.editing = False
        event.machine.set_state(target, self)
        self.outcome = Outcome.MOVED

    def forget(self, event: EventData) -> None:
        """Forgets every answer; the language stays."""
        self.answers = {}
        self.pending = []
        self.assumed = []
        self.editing = False
        self.day = None
        self.outcome = Outcome.MOVED


def previous_state(conversation: Conversation) -> str | None:
    """Returns where Back leads from the conversation's state, or None at the first question."""
    state = conversation.state
    if state == RESULT:
        return REVIEW
    if conversation.editing and state != REVIEW and next_needed(conversation.answers) == REVIEW:
        return REVIEW
    path = answered_path(conversation.answers)
    if state == REVIEW:
        return path[-1] if path else None
    earlier = [q for q in path if QUESTION_IDS.index(q) < QUESTION_IDS.index(state)]
    return earlier[-1] if earlier else None


MACHINE: Final = Machine(
    model=None,
    states=[{"name": s, "on_enter": "finish_edit"} if s == REVIEW else s for s in STATES],
    transitions=transition_table(),
    initial=START,
    auto_transitions=False,
    send_event=True,
    prepare_event="read_input",
    ignore_invalid_triggers=True,
)
"""The one machine every conversation shares (models are attached only for a trigger)."""


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one step: the new snapshot and what happened."""

    snapshot: dict[str, Any]
    outcome: str

    @property
    def changed(self) -> bool:
        """Tells whether the step changed the conversation."""
        return self.outcome in CHANGING


CHANGING: Final = frozenset({Outcome.MOVED, Outcome.TOGGLED, Outcome.CONFIRM})
"""Outcomes of a step that changed the snapshot (and are committed)."""


TRIGGERS: frozenset[str] = frozenset(MACHINE.events)


def new_snapshot(lang: str) -> dict[str, Any]:
    """Returns the snapshot of a conversation at its first question."""
    return Snapshot(START, lang).to_json()


def resume(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """Returns the snapshot to carry on from, for one stored before the questions changed.

    A review whose answers now lack a question the path asks (a question added since) goes to
    that question first, as a change from the review would; anything else is returned as is.
    A finished questionnaire stays at its result.
    """
    if snapshot["state"] != REVIEW:
        return dict(snapshot)
    stored = Snapshot.from_json(snapshot)
    needed = next_needed(stored.answers)
    if needed == REVIEW:
        return dict(snapshot)
    return stored.but(state=needed, editing=True, pending=()).to_json()


def step(snapshot: Mapping[str, Any], trigger: str, *args: Any) -> Step:
    """Applies one trigger to a snapshot; an input that does not apply changes nothing."""
    snapshot = resume(snapshot)
    if trigger not in TRIGGERS:
        return Step(dict(snapshot), Outcome.STALE)
    model = Conversation(snapshot)
    MACHINE.events[trigger].trigger(model, *args)
    if model.outcome not in CHANGING:
        return Step(dict(snapshot), model.outcome)
    return Step(model.to_snapshot(), model.outcome)


def choose(
    snapshot: Mapping[str, Any], question: str, chosen: list[str], *, confirm: bool = True
) -> Step:
    """Answers a multi-choice question with exactly these options (typed rather than tapped):
    the options ticked before and not chosen are unticked, the others ticked, then confirmed
    (unless ``confirm`` is False: they stay ticked, for the person to validate)."""
    for option in list(snapshot.get("pending", ())):
        if option not in chosen:
            snapshot = step(snapshot, "toggle", question, option).snapshot
    for option in chosen:
        if option not in snapshot.get("pending", ()):
            snapshot = step(snapshot, "toggle", question, option).snapshot
    if not confirm:
        return Step(dict(snapshot), Outcome.TOGGLED)
    return step(snapshot, "confirm", question)


def is_snapshot(value: object) -> bool:
    """Tells whether a stored value can be resumed as a snapshot (defensive on load)."""
    return is_stored_snapshot(value)
