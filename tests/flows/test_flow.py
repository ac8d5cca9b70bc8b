"""The conversation as a state machine: every path, Back, edits, multi-choice, snapshots."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.advice import evaluate
from flows.contract import QUESTION_IDS, QUESTIONS
from flows.diagram import values_of
from flows.flow import (
    CONFIRMED,
    MULTI,
    NEXT,
    RESULT,
    REVIEW,
    Outcome,
    new_snapshot,
    next_needed,
    prune,
    step,
)
from flows.path import is_asked, offered_options, validate
from flows.progress import progress
from tests.answers import INDEPENDENT_OPCO
from tests.strategies import valid_answers

DAY = dt.date(2026, 11, 26)


@contextmanager
def recorded_rules() -> Iterator[dict[str, list[set[str]]]]:
    """Records, by question, the answers each question's rule is handed while inside."""
    import flows.flow
    import flows.path

    seen: dict[str, list[set[str]]] = {}
    rules = flows.path.ASKED_WHEN

    def recording(question: str) -> Any:
        def rule(answers: Any, on: Any) -> bool:
            seen.setdefault(question, []).append(set(answers))
            return rules[question](answers, on)

        return rule

    with pytest.MonkeyPatch.context() as mp:
        recorders = {q: recording(q) for q in rules}
        mp.setattr(flows.path, "ASKED_WHEN", recorders)
        mp.setattr(flows.flow, "ASKED_WHEN", recorders)
        yield seen


# The machine walk answers with the drawing's values (flows.diagram.values_of), fewer for the
# single-choice questions whose options share a route: "in_progress" takes that of "no" and
# "lapsed"; one cycle of each kind of next audit; the certificate's scope changes no route.
FEWER: dict[str, list[str]] = {
    "certified": ["no", "yes", "lapsed"],
    "audit_cycle": ["surveillance_window", "renewal_window"],
    "scope": ["missing_category"],
}


def press(snapshot: dict[str, Any], question: str, value: str | tuple[str, ...]) -> Any:
    """Answers the current question as a person would: one tap, or toggles then confirm."""
    if isinstance(value, str):
        done = step(snapshot, "answer", question, value)
        if done.outcome == Outcome.CONFIRM:  # "yes, that is me"
            return step(done.snapshot, "answer", question, value, CONFIRMED)
        return done
    for option in value:
        snapshot = step(snapshot, "toggle", question, option).snapshot
    return step(snapshot, "confirm", question)


def options_of(question: str, answers: dict[str, Any]) -> list[Any]:
    return FEWER.get(question) or list(values_of(question, answers))


def walk(
    snapshot: dict[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """Yields every completed snapshot reachable from this one, with its sequence of states."""
    question = snapshot["state"]
    for value in options_of(question, snapshot["answers"]):
        done = press(snapshot, question, value)
        assert done.outcome == Outcome.MOVED, (question, value)
        after = done.snapshot
        if after["state"] == REVIEW:
            yield after, (*path, question)
        else:
            yield from walk(after, (*path, question))


@pytest.mark.slow
def test_every_reachable_path_gives_the_result_evaluate_gives() -> None:
    paths = set()
    verdicts = set()
    completed = 0
    for snapshot, path in walk(new_snapshot("fr"), ()):
        completed += 1
        paths.add(path)
        shown = step(snapshot, "show_result", DAY)
        assert shown.snapshot["state"] == RESULT
        flow_answers = {
            q: v if isinstance(v, str) else tuple(v) for q, v in shown.snapshot["answers"].items()
        }
        # What the flow produced is exactly what `evaluate` accepts (through JSON, as the
        # command reads it), so the bot's result is the command's result.
        assert validate(json.loads(json.dumps(snapshot["answers"]))) == flow_answers
        verdicts.add(evaluate(flow_answers, DAY).verdict)
        assert len(path) == progress(snapshot).total
    assert completed > 10_000
    assert len(paths) > 50
    assert len(verdicts) == 6, "every verdict is reachable"


def test_the_first_question_is_the_role() -> None:
    snapshot = new_snapshot("en")
    assert snapshot["state"] == "role"
    assert progress(snapshot).number == 1


def test_an_employed_trainer_is_done_after_one_question_and_its_confirmation() -> None:
    held = step(new_snapshot("fr"), "answer", "role", "employed_trainer")
    assert held.outcome == Outcome.CONFIRM
    assert (held.snapshot["state"], held.snapshot["answers"]) == ("role", {})
    assert held.snapshot["pending"] == ["employed_trainer"]
    done = step(held.snapshot, "answer", "role", "employed_trainer", CONFIRMED).snapshot
    assert done["state"] == REVIEW
    assert done["answers"] == {"role": "employed_trainer"}
    assert "pending" not in done


def test_back_from_a_confirmation_returns_to_its_question_and_another_answer_needs_none() -> None:
    held = step(new_snapshot("fr"), "answer", "role", "employer_internal").snapshot
    back = step(held, "back")
    assert back.changed
    assert (back.snapshot["state"], back.snapshot.get("pending")) == ("role", None)
    instead = step(held, "answer", "role", "organisation").snapshot  # "No: a CFA or outsiders"
    assert instead["state"] == "activities"
    assert "pending" not in instead


def test_the_same_answer_again_from_the_review_needs_no_confirmation() -> None:
    done = step(new_snapshot("fr"), "answer", "role", "employed_trainer", CONFIRMED).snapshot
    again = step(step(done, "edit", "role").snapshot, "answer", "role", "employed_trainer")
    assert again.outcome == Outcome.MOVED
    assert again.snapshot["state"] == REVIEW


def answered(answers: dict[str, Any]) -> dict[str, Any]:
    """Drives a fresh conversation through these answers to the review."""
    snapshot = new_snapshot("fr")
    while snapshot["state"] != REVIEW:
        question = snapshot["state"]
        value = answers[question]
        snapshot = press(
            snapshot, question, value if isinstance(value, str) else tuple(value)
        ).snapshot
    return snapshot


AF = {**INDEPENDENT_OPCO, "role": "organisation", "sites": "one"}


def test_a_button_of_another_question_changes_nothing() -> None:
    snapshot = answered(AF)
    again = step(snapshot, "answer", "role", "independent")
    assert again.outcome == Outcome.STALE
    assert again.snapshot == snapshot
    mid = step(new_snapshot("fr"), "answer", "role", "organisation").snapshot
    assert step(mid, "answer", "stage", "established").outcome == Outcome.STALE


@pytest.mark.parametrize(
    ("trigger", "args"),
    [
        ("answer", ("role", "king")),
        ("answer", ("nonsense", "x")),
        ("answer", ()),
        ("answer", (None, None)),
        ("toggle", ("role", "independent")),
        ("answer", ("activities", "training")),
        ("self_destruct", ()),
        ("show_result", ("2026-11-26",)),
    ],
)
def test_forged_input_changes_nothing(trigger: str, args: tuple[Any, ...]) -> None:
    snapshot = new_snapshot("fr")
    if trigger in ("toggle", "answer") and args[:1] == ("activities",):
        snapshot = step(snapshot, "answer", "role", "independent").snapshot
    result = step(snapshot, trigger, *args)
    assert not result.changed
    assert result.snapshot == snapshot


def test_multi_choice_toggles_and_refuses_an_empty_confirmation() -> None:
    snapshot = step(new_snapshot("fr"), "answer", "role", "independent").snapshot
    empty = step(snapshot, "confirm", "activities")
    assert empty.outcome == Outcome.EMPTY_SELECTION
    assert empty.snapshot == snapshot
    on = step(snapshot, "toggle", "activities", "training").snapshot
    assert on["pending"] == ["training"]
    off = step(on, "toggle", "activities", "training").snapshot
    assert "pending" not in off
    assert step(off, "confirm", "activities").outcome == Outcome.EMPTY_SELECTION


@pytest.mark.parametrize(
    ("question", "exclusive"), [("activities", "other"), ("funders", "none_yet")]
)
def test_exclusive_options_clear_the_others(question: str, exclusive: str) -> None:
    snapshot = new_snapshot("fr")
    for q, v in (("role", "independent"), ("activities", ("training",)), ("selling", "direct")):
        if q == question:
            break
        snapshot = press(snapshot, q, v).snapshot
    ordinary = [o for o in QUESTIONS[question].options if o != exclusive][:2]
    for option in ordinary:
        snapshot = step(snapshot, "toggle", question, option).snapshot
    assert snapshot["pending"] == ordinary
    snapshot = step(snapshot, "toggle", question, exclusive).snapshot
    assert snapshot["pending"] == [exclusive]
    snapshot = step(snapshot, "toggle", question, ordinary[0]).snapshot
    assert snapshot["pending"] == [ordinary[0]]


def test_back_walks_the_path_backwards_and_keeps_answers() -> None:
    snapshot = answered(AF)
    assert snapshot["state"] == REVIEW
    states = []
    while True:
        back = step(snapshot, "back")
        if back.outcome == Outcome.NOTHING_BEFORE:
            break
        snapshot = back.snapshot
        states.append(snapshot["state"])
    assert states == list(reversed([q for q in QUESTION_IDS if q in AF]))
    assert set(snapshot["answers"]) == set(AF)


def test_back_to_a_multi_question_shows_its_choices_ticked() -> None:
    snapshot = answered(AF)
    while snapshot["state"] != "funders":
        snapshot = step(snapshot, "back").snapshot
    assert snapshot["pending"] == ["opco"]


def test_restart_forgets_answers_but_keeps_the_language() -> None:
    snapshot = answered(AF) | {"lang": "en"}
    again = step(snapshot, "restart").snapshot
    assert again == new_snapshot("en")


def test_editing_from_the_review_drops_what_became_irrelevant_and_asks_what_is_new() -> None:
    snapshot = answered(AF)
    snapshot = step(snapshot, "edit", "funders").snapshot
    assert snapshot["state"] == "funders"
    assert snapshot["pending"] == ["opco"]
    snapshot = step(snapshot, "toggle", "funders", "opco").snapshot
    snapshot = step(snapshot, "toggle", "funders", "individuals").snapshot
    snapshot = step(snapshot, "confirm", "funders").snapshot
    assert snapshot["state"] == "future_public", "private money now needs the outlook question"
    snapshot = step(snapshot, "answer", "future_public", "no").snapshot
    assert snapshot["state"] == REVIEW, "the other answers are kept"
    assert "editing" not in snapshot
    snapshot = step(snapshot, "edit", "role").snapshot
    snapshot = press(snapshot, "role", "employed_trainer").snapshot
    assert snapshot["state"] == REVIEW
    assert snapshot["answers"] == {"role": "employed_trainer"}


def test_back_during_an_edit_returns_to_the_review() -> None:
    snapshot = step(answered(AF), "edit", "stage").snapshot
    back = step(snapshot, "back").snapshot
    assert back["state"] == REVIEW
    assert back["answers"] == answered(AF)["answers"]


def test_back_from_a_newly_needed_question_does_not_reach_an_incomplete_review() -> None:
    snapshot = step(answered(AF), "edit", "funders").snapshot
    snapshot = press(snapshot, "funders", ("opco", "individuals")).snapshot  # opco off, one on
    assert snapshot["state"] == "future_public"
    back = step(snapshot, "back").snapshot
    assert back["state"] == "funders"


def test_the_result_needs_a_complete_review_and_a_date() -> None:
    snapshot = answered(AF)
    assert step(snapshot, "show_result").outcome == Outcome.INVALID
    shown = step(snapshot, "show_result", DAY).snapshot
    assert shown["state"] == RESULT
    assert shown["date"] == "2026-11-26"
    assert step(shown, "back").snapshot["state"] == REVIEW


def test_progress_counts_questions_and_estimates_the_total_from_answers() -> None:
    snapshot = new_snapshot("fr")
    first = progress(snapshot)
    snapshot = press(snapshot, "role", "employed_trainer").snapshot
    assert (first.number, progress(snapshot).total) == (1, 1)
    snapshot = answered(AF)
    assert progress(snapshot).total == len(AF)


@settings(max_examples=300, deadline=None)
@given(raw=valid_answers(), data=st.data())
def test_every_change_from_the_review_leads_along_a_declared_edge(
    raw: dict[str, Any], data: st.DataObject
) -> None:
    answers = validate(raw)
    question = data.draw(st.sampled_from(sorted(answers)))
    spec = QUESTIONS[question]
    if question in MULTI:
        ordinary = [o for o in offered_options(question, answers) if o != spec.exclusive]
        value: Any = tuple(
            sorted(
                data.draw(st.lists(st.sampled_from(ordinary), min_size=1, unique=True)),
                key=spec.options.index,
            )
        )
    else:
        value = data.draw(st.sampled_from(offered_options(question, answers)))
    changed = prune({**answers, question: value})
    needed = next_needed(changed)
    assert needed in NEXT[question]
    assert needed == REVIEW or QUESTION_IDS.index(needed) > QUESTION_IDS.index(question)


@settings(max_examples=200, deadline=None)
@given(raw=valid_answers())
def test_the_rule_of_a_question_sees_only_the_answers_before_it(raw: dict[str, Any]) -> None:
    answers = validate(raw)
    with recorded_rules() as handed:
        next_needed(prune(answers))
        for question in QUESTION_IDS:
            is_asked(question, answers)
    assert handed, "the rules were called"
    for question, seen in handed.items():
        earlier = set(QUESTION_IDS[: QUESTION_IDS.index(question)])
        assert all(keys <= earlier for keys in seen), question


@settings(max_examples=200, deadline=None)
@given(raw=valid_answers())
def test_a_snapshot_round_trips_through_json_and_resumes_where_it_was(raw: dict[str, Any]) -> None:
    snapshot = answered(raw)
    assert len(json.dumps(snapshot)) < 2048
    revived = json.loads(json.dumps(snapshot))
    assert revived == snapshot
    assert (
        step(revived, "show_result", DAY).snapshot == step(snapshot, "show_result", DAY).snapshot
    )
    assert step(revived, "back").snapshot == step(snapshot, "back").snapshot
