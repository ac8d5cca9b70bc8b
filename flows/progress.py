"""Where a person is in the questionnaire: question *n* of about *total*, the total estimated
from the answers so far (a question not answered yet counts with its first option)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flows.contract import QUESTION_IDS, QUESTIONS, Answer, Kind
from flows.edges import RESULT, REVIEW
from flows.flow import Conversation
from flows.path import answered_path, is_asked, path_questions


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the person is: question ``number`` of about ``total``."""

    number: int
    total: int


def progress(snapshot: Mapping[str, Any]) -> Progress:
    """Returns the progress line's figures, the total estimated from the answers so far."""
    conversation = Conversation(snapshot)
    frozen = tuple(
        sorted((q, tuple(a) if isinstance(a, list | tuple) else a)
               for q, a in conversation.answers.items())
    )  # fmt: skip
    return _progress(conversation.state, frozen)


@lru_cache(maxsize=8192)
def _progress(state: str, frozen: tuple[tuple[str, Any], ...]) -> Progress:
    """``progress`` for a state and answers (the same few recur for everyone: walking the path
    for each screen was a tenth of a tap's CPU, profiled)."""
    answers = dict(frozen)
    if state in (REVIEW, RESULT):
        total = len(answered_path(answers))
        return Progress(total, total)
    before = [
        q
        for q in path_questions(answers)
        if q in answers and QUESTION_IDS.index(q) < QUESTION_IDS.index(state)
    ]
    assumed = dict(answers)
    total = 0
    for question in QUESTION_IDS:
        if is_asked(question, assumed):
            total += 1
            assumed.setdefault(question, _default_option(question))
    return Progress(len(before) + 1, max(total, len(before) + 1))


def _default_option(question: str) -> Answer:
    spec = QUESTIONS[question]
    if spec.kind is Kind.SINGLE:
        return spec.options[0]
    return (next(o for o in spec.options if o != spec.exclusive),)
