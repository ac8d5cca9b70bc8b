"""The self-assessment in a terminal: after the result, one indicator at a time, then the
readiness summary with the whole action plan (kept in memory; the PDF carries it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import messages
from bot.reading.days import read_day
from bot.reading.typed import typed_status
from bot.render.assessment import indicator_screen, summary_html
from bot.render.screens import evaluation_of
from flows.assessment import STATUSES, move
from flows.rules import CERTIFICATION_PATH

Ask = Callable[[], str | None]
Say = Callable[[str], None]


def offers_assessment(snapshot: dict[str, Any]) -> bool:
    """Tells whether the result has indicators to assess (as on Telegram)."""
    ev = evaluation_of(snapshot)
    return ev.verdict in CERTIFICATION_PATH and bool(ev.indicators) and not ev.mission_checklist


def assess(
    snapshot: dict[str, Any], ask: Ask, say: Say, today: dt.date
) -> tuple[dict[int, str], dt.date | None]:
    """Goes through the indicators (the person may stop with q), asks the audit date when
    something is not in place, prints the summary; returns the statuses and the date."""
    lang = snapshot["lang"]

    def line(macro: str, **data: Any) -> str:
        return messages.text(lang, "console", macro, **data)

    order = evaluation_of(snapshot).indicators
    statuses: dict[int, str] = {}
    at: int | None = order[0]
    while at is not None:
        say("")
        screen = indicator_screen(snapshot, statuses, at)
        say(messages.to_plain(screen.text))
        for number, status in enumerate(STATUSES, 1):
            say(f"  {number}. {messages.text(lang, 'assessment', 'status', code=status)}")
        say(line("assess_keys"))
        typed = ask()
        if typed is None or typed.lower() == "q":
            break
        keys = {"1": STATUSES[0], "2": STATUSES[1], "3": STATUSES[2], "s": "skip", "b": "back"}
        code = keys.get(typed.lower()) or typed_status(typed, lang)
        if code in (*STATUSES, "skip", "back"):
            statuses, at = move(order, statuses, at, code)
        else:
            say(line("not_understood"))
    audit_on = None
    if any(s != "done" for s in statuses.values()):
        say(line("assess_date"))
        while (typed := ask()) and audit_on is None:
            day = read_day(typed, today)
            if day is not None and day > today:
                audit_on = day
            else:
                say(line("assess_bad_date"))
    if statuses:
        say("")
        say(messages.to_plain(summary_html(snapshot, statuses, today, audit_on, shown=None)))
    return statuses, audit_on
