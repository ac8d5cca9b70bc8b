"""What a person sees at each point of the flow, for any front end (Telegram, terminal).

A screen is Telegram HTML plus rows of buttons whose data follows the questionnaire contract
(``ans:<question>:<option>``, ``ok:<question>``) or our own free verbs (``back``, ``restart``,
``edit:<question>``, ``result``, ``lang:<code>``). ``bot.reading.buttons.parse_button`` reads
them back, trusting nothing: forged data gives None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import messages
from bot.render.glossary import QUESTION_TERMS, SAFE_ANSWERS
from bot.render.report import build_report, render_result_html
from flows.advice import Evaluation, evaluate
from flows.contract import QUESTIONS, canonical
from flows.flow import CONFIRMED_ANSWERS, MULTI, RESULT, REVIEW, Outcome
from flows.path import offered_options, path_questions
from flows.progress import progress
from flows.snapshot import Stored, as_snapshot

MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button: what it says and the data it sends back, or the address it opens."""

    label: str
    data: str
    url: str | None = None
    """An address to open instead of data to send back (the consultancy's links)."""


@dataclass(frozen=True, slots=True)
class Screen:
    """One message's worth of what the person sees."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    parts: tuple[str, ...] = field(default=())
    """For the result: the text split into Telegram-sized messages (``text`` is the whole)."""
    kind: str = ""
    """What the screen is, when a later step needs to know (``result``: the result's summary)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", messages.safe(self.text))
        object.__setattr__(self, "parts", tuple(messages.safe(p) for p in self.parts))


HINTS: Mapping[str, str] = {
    Outcome.STALE: "stale",
    Outcome.INVALID: "stale",
    Outcome.EMPTY_SELECTION: "empty_selection",
    Outcome.NOTHING_BEFORE: "nothing_before",
}
"""Outcome of a step that changed nothing → the ui macro explaining why."""


def hint_text(lang: str, code: str | None) -> str | None:
    """Returns the hint for an outcome or hint code, or None."""
    if code is None:
        return None
    return messages.text(lang, "ui", HINTS.get(code, code))


@lru_cache(maxsize=1024)
def label(lang: str, question: str, option: str) -> str:
    """Returns the label of one option (each rendered once: a question's screen shows up to
    twelve)."""
    return messages.text(lang, "questions", "option", question=question, option=option)


HALF_ROW = 20
"""Characters a button shows in full on a 360-px phone when two share a row (36 alone)."""


@lru_cache(maxsize=1024)
def button_label(lang: str, question: str, option: str) -> str:
    """Returns an option's label as its button shows it: shorter where the label would be cut."""
    short = messages.text(lang, "questions", "option_button", question=question, option=option)
    return short or label(lang, question, option)


def option_rows(
    buttons: list[Button], widths: list[int], paired: bool
) -> list[tuple[Button, ...]]:
    """Lays the options out: two per row when asked and both fit half a row, else one. The
    widths are the labels' without a tick, so ticking an option never moves the buttons."""
    rows: list[tuple[Button, ...]] = []
    alone = True
    for button, width in zip(buttons, widths, strict=True):
        if paired and not alone and len(rows[-1]) == 1 and width <= HALF_ROW:
            rows[-1] = (*rows[-1], button)
            alone = True
        else:
            rows.append((button,))
            alone = width > HALF_ROW
    return rows


QUESTIONS_FIRST = next(iter(QUESTIONS))


def awaiting_confirmation(stored: Stored) -> str | None:
    """Returns the single-choice answer held until the person confirms it, or None."""
    snapshot = as_snapshot(stored)
    if snapshot.state in QUESTIONS and snapshot.state not in MULTI and snapshot.pending:
        return snapshot.pending[0]
    return None


def question_screen(stored: Stored, hint: str | None = None) -> Screen:
    """Returns the screen of the current question (or of the answer it holds to confirm)."""
    snapshot = as_snapshot(stored)
    answers = snapshot.answers
    held = awaiting_confirmation(snapshot)
    if held is not None:
        return _confirmation_screen(snapshot.lang, snapshot.state, held, hint)
    where = progress(snapshot.to_json())
    return _question_screen(
        snapshot.lang,
        snapshot.state,
        "cpf" in answers.get("funders", ()) and "training" in answers.get("activities", ()),
        (where.number, where.total),
        tuple(snapshot.pending),
        hint,
        snapshot.state != QUESTIONS_FIRST or bool(snapshot.editing),
        offered_options(snapshot.state, answers),
        _given(answers.get(snapshot.state)) if snapshot.state not in MULTI else None,
    )


def _given(answer: object) -> str | None:
    """A single-choice answer already given (back on its question, or editing it)."""
    return answer if isinstance(answer, str) else None


@lru_cache(maxsize=64)
def _confirmation_screen(lang: str, question: str, option: str, hint: str | None) -> Screen:
    """Asks the person to confirm an answer that ends the questionnaire on "not concerned"."""
    text = messages.call(lang, "questions", "confirm_text", question=question, option=option)
    if (warning := hint_text(lang, hint)) is not None:
        text = messages.join("\n\n⚠️ ", (text, warning))
    yes = messages.text(lang, "questions", "confirm_yes", question=question, option=option)
    rows: list[tuple[Button, ...]] = [(Button(yes, f"cfm:{question}:{option}"),)]
    alternative = CONFIRMED_ANSWERS.get((question, option))
    if alternative is not None:
        no = messages.text(lang, "questions", "confirm_no", question=question, option=option)
        rows.append((Button(no, f"ans:{question}:{alternative}"),))
    rows.append((Button(messages.text(lang, "ui", "back"), "back"),))
    return Screen(text, tuple(rows))


@lru_cache(maxsize=4096)
def _question_screen(  # noqa: PLR0917 (what a question's screen depends on)
    lang: str,
    question: str,
    cpf: bool,
    where: tuple[int, int],
    chosen: tuple[str, ...],
    hint: str | None,
    can_go_back: bool,
    options: tuple[str, ...],
    given: str | None = None,
) -> Screen:
    """A question's screen, made once per distinct look (the same screens recur for everyone:
    rendering one took half a millisecond, profiled)."""
    multi = question in MULTI
    text = messages.render(
        lang,
        "question",
        question=question,
        cpf=cpf,
        number=where[0],
        total=where[1],
        multi=multi,
        chosen=[label(lang, question, o) for o in chosen],
        hint=hint_text(lang, hint),
    )
    buttons = []
    widths = []
    for option in options:
        text_label = button_label(lang, question, option)
        widths.append(len(text_label))
        if (multi and option in chosen) or option == given:
            text_label = f"✅ {text_label}"
        buttons.append(Button(text_label, f"ans:{question}:{option}"))
    # long lists (funders) stay short on a phone: two per row where both fit
    rows = option_rows(buttons, widths, paired=len(options) > 5)
    if multi:
        rows.append(
            (Button(messages.text(lang, "ui", "confirm", count=len(chosen)), f"ok:{question}"),)
        )
    helps = []
    if question in SAFE_ANSWERS:
        helps.append(Button(messages.text(lang, "glossary", "idk_button"), f"idk:{question}"))
    if question in QUESTION_TERMS:
        helps.append(Button(messages.text(lang, "glossary", "info_button"), f"info:{question}"))
    if helps:
        rows.append(tuple(helps))
    if can_go_back:
        rows.append((Button(messages.text(lang, "ui", "back"), "back"),))
    return Screen(text, tuple(rows))


def answer_items(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answers in the order the path asks them: ``{"question", "options"}`` each."""
    return [
        {"question": q, "options": [answers[q]] if isinstance(answers[q], str) else answers[q]}
        for q in path_questions(answers)
        if q in answers
    ]


def review_screen(stored: Stored, hint: str | None = None) -> Screen:
    """Returns the summary of every answer, each with a button to change it."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    answers = snapshot.answers
    items = answer_items(answers)
    text = messages.render(lang, "review", answers=items, hint=hint_text(lang, hint))
    edits = [
        Button(
            messages.text(
                lang, "ui", "change", short=messages.text(lang, "questions", "short", question=q)
            ),
            f"edit:{q}",
        )
        for q in (item["question"] for item in items)
    ]
    rows = [tuple(edits[i : i + 2]) for i in range(0, len(edits), 2)]
    rows.append((Button(messages.text(lang, "ui", "show_result"), "result"),))
    rows.append(
        (
            Button(messages.text(lang, "ui", "back"), "back"),
            Button(messages.text(lang, "ui", "restart"), "restart"),
        )
    )
    return Screen(text, tuple(rows))


def evaluation_of(stored: Stored) -> Evaluation:
    """Evaluates a snapshot at the result, on the day it recorded."""
    snapshot = as_snapshot(stored)
    day = dt.date.fromisoformat(snapshot.date) if snapshot.date else dt.date.today()
    return evaluated(tuple(sorted(canonical(snapshot.answers).items())), day)


@lru_cache(maxsize=512)
def evaluated(answers: tuple[tuple[str, str | tuple[str, ...]], ...], day: dt.date) -> Evaluation:
    """The evaluation of canonical answers (sorted pairs) on a day, computed once: a step
    reads it for its tallies, its screen and its offer (``Evaluation`` is frozen, and
    ``flows`` decides on the answers and the day alone)."""
    return evaluate(dict(answers), day)


def result_screen(stored: Stored) -> tuple[Screen, Evaluation, dict[str, Any]]:
    """Returns the result (split for Telegram), its evaluation and its report."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    report = build_report(ev, lang)
    html = render_result_html(ev, lang, report)
    return Screen(html, result_buttons(lang), tuple(messages.split_html(html))), ev, report


def result_buttons(lang: str) -> tuple[tuple[Button, ...], ...]:
    """Returns the buttons under the result: change answers, start again, other language."""
    other = messages.next_language(lang)
    return (
        (Button(messages.text(lang, "ui", "change_answers"), "back"),),
        (Button(messages.text(lang, "ui", "restart"), "restart"),),
        (Button(messages.text(lang, "ui", "switch_language"), f"lang:{other}"),),
    )


def screen_for(stored: Stored, hint: str | None = None) -> Screen:
    """Returns the screen of wherever the conversation is."""
    snapshot = as_snapshot(stored)
    state = snapshot.state
    if state == REVIEW:
        return review_screen(snapshot, hint)
    if state == RESULT:
        return result_screen(snapshot)[0]
    return question_screen(snapshot, hint)


# --- Reading input back -------------------------------------------------------------------------

CRITERIA = tuple(str(n) for n in range(1, 8))
RESULT_VIEWS = ("summary", "why", "steps", "changed", *CRITERIA)
"""The screens of the result (``bot.render.result_views``)."""
MAX_PAGES = 9


def answers_view(answers: Mapping[str, Any], lang: str) -> list[dict[str, str]]:
    """Returns each answer on the path as (short question name, labels), for print."""
    answered = canonical(answers)
    view = []
    for q in path_questions(answered):
        if q not in answered:
            continue
        value = answered[q]
        options = (value,) if isinstance(value, str) else value
        view.append(
            {
                "question": messages.text(lang, "questions", "short", question=q),
                "answer": ", ".join(label(lang, q, o) for o in options),
            }
        )
    return view
