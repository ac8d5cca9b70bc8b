"""Button data read back into actions; None for anything the bot never sends (a stale, forged
or oversized ``callback_data``)."""

from __future__ import annotations

from typing import Any

import messages
from bot.reading.days import day_in
from bot.render.assessment import COMMANDS, MOVES
from bot.render.glossary import QUESTION_TERMS, SAFE_ANSWERS
from bot.render.screens import MAX_CALLBACK_BYTES, MAX_PAGES, RESULT_VIEWS
from flows.assessment import STATUSES
from flows.contract import QUESTIONS, Kind
from flows.flow import CONFIRMED, CONFIRMED_ANSWERS, MULTI

Action = tuple[str, tuple[Any, ...]]
"""A flow trigger and its arguments, or one of the adapter's own verbs (``lang``)."""


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


def parse_chk(data: str) -> tuple[str, int | None] | None:
    """Reads ``chk:`` button data: (action, indicator or None); None for data never sent.
    ``chk:day:YYYY-MM-DD`` confirms an audit date read back: ("day:YYYY-MM-DD", None)."""
    kind, _, rest = data.partition(":")
    if kind != "chk" or len(data) > 64:
        return None
    if rest in COMMANDS:
        return (rest, None)
    if day_in(rest, "day:") is not None:
        return (rest, None)
    number, _, action = rest.partition(":")
    if not number.isdigit() or len(number) > 2 or action not in (*STATUSES, *MOVES):
        return None
    return (action, int(number))
