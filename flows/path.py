"""Which questions a path asks (the contract's "asked when" column), and answer validation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from flows.answers import (
    chosen_options,
    delivers_vocational_actions,
    has_option,
    is_in_scope_provider,
    sells_directly,
    subcontracts_for_others,
)
from flows.contract import QUESTION_LIST, QUESTIONS, Answer, Answers, Kind
from flows.rules import CERTIFICATION_PATH, Day, decide, obligations

# --- Which questions a path asks (the contract's "asked when" column) ---------------------------


def _on_certification_path(answers: Answers, on: Day) -> bool:
    decided = decide(answers, on)
    return decided is not None and decided[0] in CERTIFICATION_PATH


def _training(answers: Answers, on: Day) -> bool:
    return has_option(answers, "activities", "training")


ASKED_WHEN: Mapping[str, Callable[[Answers, Day], bool]] = MappingProxyType(
    {
        "role": lambda a, on: True,
        "higher_education": lambda a, on: a.get("role") == "higher_education",
        "activities": lambda a, on: is_in_scope_provider(a),
        "selling": lambda a, on: delivers_vocational_actions(a),
        "funders": lambda a, on: sells_directly(a),
        "cpf_subcontracting": lambda a, on: subcontracts_for_others(a),
        "micro_enterprise": lambda a, on: a.get("cpf_subcontracting") == "yes",
        "future_public": lambda a, on: delivers_vocational_actions(a) and not obligations(a, on),
        "certifying": _training,
        "long_courses": _training,
        "work_based": _training,
        "uses_subcontractors": lambda a, on: delivers_vocational_actions(a),
        "certified": _on_certification_path,
        "stage": lambda a, on: a.get("certified") in ("no", "in_progress", "lapsed"),
        "audit_cycle": lambda a, on: a.get("certified") == "yes",
        "scope": lambda a, on: a.get("certified") == "yes",
        "missing_categories": lambda a, on: a.get("scope") == "missing_category",
        "sites": lambda a, on: (
            a.get("role") in ("organisation", "higher_education") and _on_certification_path(a, on)
        ),
    }
)
"""Whether a question is asked, given the answers to the questions before it, on a day.

Each rule is only ever handed the answers to the questions before its own (``is_asked``,
``path_questions``): a later answer cannot decide whether an earlier question is asked, so an
answer only ever leads to a later question or to the review (``flows.edges.NEXT``)."""

_INDEX: Mapping[str, int] = MappingProxyType({q.id: i for i, q in enumerate(QUESTION_LIST)})


def offered_options(question: str, answers: Answers) -> tuple[str, ...]:
    """Returns the options a question offers on this path, in contract order.

    ``missing_categories`` offers only the categories chosen in ``activities`` (the
    certificate can only lack a category the provider offers); any other question offers all.
    """
    options = QUESTIONS[question].options
    if question == "missing_categories":
        chosen = chosen_options(answers, "activities")
        return tuple(o for o in options if o in chosen)
    return options


def fits_path(question: str, value: Answer, answers: Answers) -> bool:
    """Tells whether an answer only holds options that the path offers (see offered_options)."""
    offered = offered_options(question, answers)
    return all(o in offered for o in ((value,) if isinstance(value, str) else value))


def is_asked(question: str, answers: Answers, on: Day = None) -> bool:
    """Tells whether the path of these answers asks that question (on that day's rules).

    Its rule sees only the answers to the questions before it."""
    index = _INDEX[question]
    before = {q.id: answers[q.id] for q in QUESTION_LIST[:index] if q.id in answers}
    return ASKED_WHEN[question](MappingProxyType(before), on)


def answered_path(answers: Answers, on: Day = None) -> list[str]:
    """Returns the questions of the path that have an answer, in order (the review's list)."""
    return [q for q in path_questions(answers, on) if q in answers]


def path_questions(answers: Answers, on: Day = None) -> Iterator[str]:
    """Yields the questions asked on this path, in order, stopping at the first unanswered."""
    before: dict[str, Answer] = {}
    seen = MappingProxyType(before)  # each rule reads the answers before its question only
    for question in QUESTION_LIST:
        if ASKED_WHEN[question.id](seen, on):
            yield question.id
            if question.id not in answers:
                return
        if question.id in answers:
            before[question.id] = answers[question.id]


# --- Validation ---------------------------------------------------------------------------------


class ContractError(ValueError):
    """The answers break the questionnaire contract; ``code`` names the kind of fault."""

    def __init__(self, code: str, question: str | None = None, **data: Any) -> None:
        super().__init__(f"{code}: {question or ''} {data or ''}".strip())
        self.code = code
        self.question = question
        self.data: Mapping[str, Any] = MappingProxyType(data)


def _check_shape(question: str, value: object) -> Answer:
    spec = QUESTIONS[question]
    allowed = spec.options
    if spec.kind is Kind.SINGLE:
        if not isinstance(value, str):
            raise ContractError("not_single", question, allowed=allowed, given=value)
        if value not in allowed:
            raise ContractError("unknown_option", question, allowed=allowed, given=value)
        return value
    if not isinstance(value, list | tuple):
        raise ContractError("not_multi", question, allowed=allowed, given=value)
    if not value:
        raise ContractError("empty_multi", question, allowed=allowed)
    seen: set[str] = set()
    for option in value:
        if not isinstance(option, str) or option not in allowed:
            raise ContractError("unknown_option", question, allowed=allowed, given=option)
        if option in seen:
            raise ContractError("duplicate_option", question, allowed=allowed, given=option)
        seen.add(option)
    if spec.exclusive in seen and len(seen) > 1:
        raise ContractError("exclusive_option", question, allowed=allowed, given=spec.exclusive)
    return tuple(o for o in allowed if o in seen)


def validate(raw: object, on: Day = None) -> dict[str, Answer]:
    """Returns the answers in canonical form, or raises ContractError on the first fault.

    The path depends on the rules of the day (a CPF subcontractor before 1 April 2024 is asked
    about future funding): ``on`` is the evaluation date, None for today's rules.
    """
    if not isinstance(raw, Mapping):
        raise ContractError("not_an_object")
    for key in raw:
        if key not in QUESTIONS:
            raise ContractError("unknown_question", str(key), allowed=tuple(QUESTIONS))
    shaped = {q.id: _check_shape(q.id, raw[q.id]) for q in QUESTION_LIST if q.id in raw}
    answers: dict[str, Answer] = {}
    for question in QUESTION_LIST:
        asked = ASKED_WHEN[question.id](answers, on)  # answers: those before it, so far
        if asked and question.id not in shaped:
            raise ContractError("missing_question", question.id, allowed=question.options)
        if not asked and question.id in shaped:
            raise ContractError("skipped_question", question.id, given=shaped[question.id])
        if asked:
            value = shaped[question.id]
            if not fits_path(question.id, value, answers):
                offered = offered_options(question.id, answers)
                given = next(o for o in value if o not in offered)
                raise ContractError("not_offered", question.id, allowed=offered, given=given)
            answers[question.id] = value
    return answers
