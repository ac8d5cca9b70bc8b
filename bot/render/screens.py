"""What a person sees at each point of the flow, for any front end (Telegram, terminal).

A screen is Telegram HTML plus rows of buttons whose data follows the questionnaire contract
(``ans:<question>:<option>``, ``ok:<question>``) or our own free verbs (``back``, ``restart``,
``edit:<question>``, ``result``, ``lang:<code>``). ``parse_button`` reads them back, trusting
nothing: forged data gives None.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import messages
from bot.render.glossary import QUESTION_TERMS, SAFE_ANSWERS
from bot.render.report import build_report, render_result_html
from bot.render.text import fold
from flows.advice import Evaluation, evaluate
from flows.contract import QUESTIONS, Kind, canonical
from flows.flow import CONFIRMED, CONFIRMED_ANSWERS, MULTI, RESULT, REVIEW, Outcome, progress
from flows.path import offered_options, path_questions
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


def label(lang: str, question: str, option: str) -> str:
    """Returns the label of one option."""
    return messages.text(lang, "questions", "option", question=question, option=option)


HALF_ROW = 20
"""Characters a button shows in full on a 360-px phone when two share a row (36 alone)."""


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


def confirmation_action(question: str, option: str, typed: str) -> Action | None:
    """Reads a typed reply to a confirmation: 1 or yes confirms, 2 or no gives the answer
    meant instead (either language)."""
    folded = fold(typed)
    yes = no = False
    for language in messages.LANGUAGES:
        words = messages.text(language, "questions", "words", question="", option="yes")
        yes = yes or folded in {fold(w) for w in words.split(",")}
        words = messages.text(language, "questions", "words", question="", option="no")
        no = no or folded in {fold(w) for w in words.split(",")}
    if folded == "1" or yes:
        return ("answer", (question, option, CONFIRMED))
    alternative = CONFIRMED_ANSWERS.get((question, option))
    if (folded == "2" or no) and alternative is not None:
        return ("answer", (question, alternative))
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
    other = next(code for code in messages.LANGUAGES if code != lang)
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


def parse_view(rest: str) -> tuple[str, int] | None:
    """Reads ``<view>`` or ``<view>:<page>`` from button data; None when we never send it."""
    view, _, page = rest.partition(":")
    if view not in RESULT_VIEWS:
        return None
    if not page:
        return view, 0
    if not page.isdigit() or not 0 <= int(page) < MAX_PAGES:
        return None
    return view, int(page)


Action = tuple[str, tuple[Any, ...]]
"""A flow trigger and its arguments, or one of the adapter's own verbs (``lang``)."""


def parse_button(data: str) -> Action | None:
    """Reads button data back into an action; None for anything we never send."""
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    kind, _, rest = data.partition(":")
    if kind == "ans":
        question, _, option = rest.partition(":")
        spec = QUESTIONS.get(question)
        if spec is None or option not in spec.options:
            return None
        return ("toggle" if spec.kind is Kind.MULTI else "answer", (question, option))
    if kind == "cfm":
        question, _, option = rest.partition(":")
        if (question, option) not in CONFIRMED_ANSWERS:
            return None
        return ("answer", (question, option, CONFIRMED))
    if kind == "ok" and rest in MULTI:
        return ("confirm", (rest,))
    if kind == "edit" and rest in QUESTIONS:
        return ("edit", (rest,))
    if kind == "info" and rest in QUESTION_TERMS:
        return ("info", (rest,))
    if kind == "idk" and rest in SAFE_ANSWERS:
        return ("answer", (rest, SAFE_ANSWERS[rest], "assumed"))
    if kind == "res":
        view = parse_view(rest)
        return ("view", view) if view is not None else None
    if kind == "lang" and rest in messages.LANGUAGES:
        return ("lang", (rest,))
    if data in ("back", "restart", "result") and not rest:
        return (data, ())
    return None


@lru_cache(maxsize=64)
def _names(question: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Per option, every way of naming it: id, labels and everyday words, in both languages."""
    named = []
    for option in QUESTIONS[question].options:
        names = {fold(option), fold(option.replace("_", " "))}
        for language in messages.LANGUAGES:
            names.add(fold(label(language, question, option)))
            names.add(fold(button_label(language, question, option)))
            words = messages.text(language, "questions", "words", question=question, option=option)
            names |= {fold(w) for w in words.split(",") if fold(w)}
        named.append((option, frozenset(names)))
    return tuple(named)


FILLER = frozenset(
    [
        "je",
        "j",
        "suis",
        "ai",
        "nous",
        "sommes",
        "c",
        "est",
        "i",
        "m",
        "am",
        "we",
        "are",
        "our",
        "my",
        "mon",
        "ma",
        "mes",
        "fais",
        "faisons",
        "propose",
        "proposons",
        "des",
        "de",
        "du",
        "la",
        "le",
        "les",
        "un",
        "une",
        "do",
        "offer",
        "some",
        "a",
    ]
)
"""Words around an answer ("je suis salariée") that say nothing about which option it is."""


def _partly_names(typed: str, name: str) -> bool:
    """Every typed word begins a word of the name ("indep" in "consultant independant")."""
    words = name.split()
    return all(any(w.startswith(t) for w in words) for t in typed.split())


def match_option(question: str, typed: str, lang: str) -> str | None:
    """Returns the option a typed answer means: its number, id, label or an everyday word for
    it (accents and case aside), or a part of one when only one option fits."""
    options = QUESTIONS[question].options
    folded = fold(typed)
    if not folded or len(typed) > 200:
        return None
    if folded.isdigit():
        index = int(folded) - 1
        return options[index] if 0 <= index < len(options) else None
    named = _names(question)
    exact = [option for option, names in named if folded in names]
    if exact:
        return exact[0] if len(exact) == 1 else None
    meaningful = " ".join(w for w in folded.split() if w not in FILLER)
    if len(meaningful) < 3:
        return None
    if meaningful != folded:  # "je fais des formations": the words that name an option
        exact = [option for option, names in named if meaningful in names]
        if len(exact) == 1:
            return exact[0]
    # A part of a word never picks the option that excludes the others: "non" is not "None
    # of these" (a trainer would be told in one minute that nothing applies to them).
    exclusive = QUESTIONS[question].exclusive
    partial = [
        o
        for o, names in named
        if o != exclusive and any(_partly_names(meaningful, n) for n in names)
    ]
    return partial[0] if len(partial) == 1 else None


def means_confirm(typed: str) -> bool:
    """Tells whether a typed text validates the options ticked ("valider", "c'est bon")."""
    folded = fold(typed)
    return any(
        folded in {fold(w) for w in messages.text(lang, "ui", "confirm_words").split(",")}
        for lang in messages.LANGUAGES
    )


def match_options(question: str, typed: str, lang: str) -> list[str] | None:
    """Returns the options of a typed multi-choice answer ("1 3", "opco, cpf", "formation et
    bilans"), or None: pieces between commas or "et"/"and" first, then single words."""
    limit = len(QUESTIONS[question].options)
    for separators in (r"[,;/+]+|\bet\b|\band\b", r"[,;/+\s]+"):
        pieces = [p for p in re.split(separators, typed.strip()) if p.strip()]
        if not pieces or len(pieces) > limit:
            continue
        chosen = [match_option(question, piece, lang) for piece in pieces]
        if all(chosen):
            return list(dict.fromkeys(o for o in chosen if o))
    whole = match_option(question, typed, lang)
    return [whole] if whole else None


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
