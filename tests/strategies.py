"""Hypothesis strategies shared by the tests: every answers object the contract allows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from flows.contract import QUESTION_LIST, Kind, Question
from flows.path import is_asked, offered_options


def _options(question: Question, answers: dict[str, Any]) -> st.SearchStrategy[Any]:
    offered = offered_options(question.id, answers)
    if question.kind is Kind.SINGLE:
        return st.sampled_from(offered)
    ordinary = [o for o in offered if o != question.exclusive]
    combos = st.lists(st.sampled_from(ordinary), min_size=1, unique=True)
    if question.exclusive is None:
        return combos
    return st.one_of(combos, st.just([question.exclusive]))


@st.composite
def valid_answers(draw: st.DrawFn, on: dt.date | None = None) -> dict[str, Any]:
    """Draws an answers object as an integration would send it (lists for multi questions),
    following the path of the rules in force on ``on`` (today's rules when None)."""
    answers: dict[str, Any] = {}
    canonical: dict[str, Any] = {}
    for question in QUESTION_LIST:
        if not is_asked(question.id, canonical, on):
            continue
        value = draw(_options(question, canonical))
        answers[question.id] = value
        canonical[question.id] = (
            value if isinstance(value, str) else tuple(o for o in question.options if o in value)
        )
    return answers
