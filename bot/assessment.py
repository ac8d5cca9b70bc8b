"""The self-assessment step, decided without Telegram: pure and quick, like the questionnaire's.

After a result, a person goes through the indicators that concern them, one per screen, and
says of each whether it is in place, partly, or not yet; the summary gives their readiness and
an action plan. Statuses are committed with the step (a row per indicator); where the person
stands is kept in the chat's ``meta`` under ``assessment`` (``AssessMeta``).

A status button names its indicator; it counts only for the indicator on screen (or when no
indicator is on screen), so that a double tap, or a tap on an older screen, changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bot.chat.assess import AssessMeta, at_result, speaks
from bot.events import Event
from bot.reading.buttons import parse_chk
from bot.reading.days import day_in, read_day
from bot.reading.typed import typed_status
from bot.render.glossary import terms_named
from bot.render.screens import evaluation_of
from bot.storage import Change, Record, Tally
from flows.assessment import (
    kept_statuses,
    move,
    next_unassessed,
    readiness,
    reminder_dates,
)
from flows.rules import CERTIFICATION_PATH
from flows.snapshot import as_snapshot


class AssessReply:
    """What to say after an assessment step (sent by the front end)."""

    __slots__ = ("edit", "lang", "pdf", "retire", "said", "screen", "toast")

    def __init__(self, lang: str) -> None:
        self.lang = lang
        """The language to speak (the conversation's, or the person's Telegram language)."""
        self.screen: int | str | None = None
        """The indicator to show, "summary", or None (the screen stays)."""
        self.edit = True
        """Show the screen in place of the pressed message (else as a new message)."""
        self.said: tuple[str, dict[str, Any]] | None = None
        """A message of its own, before the screen: a macro of ``assessment`` and its data
        (``explain``: the indicator's explanation)."""
        self.toast: str | None = None
        self.pdf = False
        """Send the PDF with the statuses."""
        self.retire = False
        """A screen sent as a new message takes the buttons off the indicator screen the
        person was on (the chat's live message), so that one screen at a time is live."""


def accepts(event: Event, record: Record) -> bool:
    """Tells whether the self-assessment handles the event."""
    kind, value, _ = event
    if kind == "command":
        return value == "checklist"
    if kind == "button":
        return value.startswith("chk:")
    if kind == "text" and at_result(record):
        part = AssessMeta.of(record.meta)
        return part.asking_date or part.at is not None
    return False


def decide_assessment(
    record: Record,
    event: Event,
    *,
    lang: str,
    today: dt.date,
    source: str | None,
) -> tuple[Change | None, tuple[Record, AssessReply]]:
    """Applies one self-assessment event: what to commit, what to say."""
    reply = AssessReply(speaks(record, lang))
    kind, value, _ = event
    if not at_result(record):
        reply.said, reply.edit = ("no_result", {}), False
        return None, (record, reply)
    assert record.snapshot is not None
    ev = evaluation_of(record.snapshot)
    if ev.verdict not in CERTIFICATION_PATH or not ev.indicators:
        on_path = ev.verdict in CERTIFICATION_PATH
        reply.said = ("no_indicators", {}) if on_path else ("off_path", {"verdict": ev.verdict})
        return None, (record, reply)
    lang = as_snapshot(record.snapshot).lang
    part = AssessMeta.of(record.meta)
    statuses = kept_statuses(record.statuses, ev.indicators)
    order = ev.indicators
    step = _Step(part, statuses, order, reply)
    reply.retire = part.at is not None
    if kind == "command":
        reply.edit = False
        step.start(welcome=not event[2])
    elif kind == "text":
        reply.edit = False
        step.typed(value, lang, today)
    else:
        step.button(value, today)
    part, statuses = step.part, step.statuses
    due = None
    if step.reschedule and part.reminders:
        finished = len(statuses) == len(order)
        due = (lang, reminder_dates(today, part.audit_on, finished))
        if step.announce:
            said = "remind_set" if due[1] else "remind_none"
            reply.said = (said, {"due": due[1]} if due[1] else {})
    tallies: list[Tally] = []
    if not part.tallied and statuses and len(statuses) == len(order):
        ready = readiness(ev.referential, order, statuses, today=today)
        for c in ready.criteria:
            tallies.append(Tally("assess_done", str(c.criterion), source or "", c.done))
            tallies.append(Tally("assess_total", str(c.criterion), source or "", c.total))
        tallies.append(Tally("assess_finished", "", source or ""))
        part = replace(part, tallied=True)
    if step.cancel_reminders:
        due = (lang, [])
    saved = replace(record, meta=part.into(record.meta), statuses=statuses)
    changed_statuses = statuses if statuses != dict(record.statuses) else None
    change = Change(saved, tallies, statuses=changed_statuses, assessment_reminders=due)
    return change, (saved, reply)


class _Step:
    """One event applied to where the person stands (``part``) and their statuses."""

    def __init__(
        self,
        part: AssessMeta,
        statuses: dict[int, str],
        order: tuple[int, ...],
        reply: AssessReply,
    ) -> None:
        self.part = part
        self.statuses = statuses
        self.order = order
        self.reply = reply
        self.reschedule = False
        self.announce = False
        self.cancel_reminders = False

    def show(self, at: int | None) -> None:
        self.part = replace(self.part, at=at, asking_date=False)
        self.reply.screen = "summary" if at is None else at

    def start(self, *, welcome: bool = True) -> None:
        """Resumes where the person was: the indicator on screen, or the first unassessed;
        a person coming back half-way is told where they stand (``welcome``)."""
        at = self.part.at if self.part.at in self.order else None
        shown = at if at is not None else next_unassessed(self.order, self.statuses)
        assessed = sum(1 for n in self.order if n in self.statuses)
        if welcome and shown is not None and 0 < assessed < len(self.order):
            data = {"assessed": assessed, "total": len(self.order), "number": shown}
            self.reply.said = ("welcome_back", data)
        self.show(shown)

    def later(self) -> None:
        """The person stops half-way: where they will resume, and a reminder offered."""
        assessed = sum(1 for n in self.order if n in self.statuses)
        data = {
            "assessed": assessed,
            "total": len(self.order),
            "number": self.part.at,
            "reminders": self.part.reminders,
        }
        self.reply.said, self.reply.screen = ("later", data), None

    def button(self, data: str, today: dt.date) -> None:
        parsed = parse_chk(data)
        if parsed is None:
            self.reply.toast, self.reply.screen = "stale", None
            return
        action, number = parsed
        if number is None:
            self.command(action, today)
            return
        if number not in self.order or self.part.at not in (number, None):
            self.reply.toast = "stale"  # an older screen, or a double tap: nothing changes
            self.show(self.part.at)
            return
        self.move(action, number)

    def move(self, action: str, number: int) -> None:
        if action == "info":  # the explanation in a message of its own; the screen stays
            self.part = replace(self.part, at=number)
            self.reply.said = ("explain", {"number": number})
            return
        if action == "back" and number == self.order[0]:
            self.reply.toast = "nothing_before"
        self.statuses, shown = move(self.order, self.statuses, number, action)
        self.show(shown)

    def command(self, action: str, today: dt.date) -> None:
        day = day_in(action, "day:")
        if day is not None:  # the date read back, confirmed (from any of its messages)
            if day <= today:
                self.reply.said = ("past_date", {"day": day})
            else:
                self.part = replace(self.part, audit_on=day)
                self.reschedule = self.part.reminders
                self.show(None)
            return
        if action == "start":
            self.reply.edit = False  # the result keeps its message; the assessment gets one
            self.start()
        elif action == "sum":
            self.show(None)
        elif action == "later":
            self.later()
        elif action == "review":
            self.show(self.order[0])
        elif action == "pdf":
            self.reply.pdf = True
            self.reply.toast = "pdf_coming"
        elif action == "date":
            self.part = replace(self.part, asking_date=True)
            self.reply.said = ("ask_date", {})
        elif action == "remind":
            self.part = replace(self.part, reminders=True)
            self.reschedule = self.announce = True
            self.show(None)
        elif action == "noremind":
            self.part = replace(self.part, reminders=False)
            self.cancel_reminders = True
            self.reply.said = ("remind_off", {})
            self.show(None)

    def typed(self, text: str, lang: str, today: dt.date) -> None:
        if self.part.asking_date:
            day = read_day(text, today)
            if day is None:
                self.reply.said = ("bad_date", {})
            elif day <= today:
                self.reply.said = ("past_date", {"day": day})
            else:  # read back: the person's "yes" (chk:day:…) sets it
                self.reply.said = ("confirm_date", {"day": day})
            return
        code = typed_status(text, lang)
        at = self.part.at
        if code is None or at is None:
            terms = terms_named(text)
            explain = terms and at is not None
            self.reply.said = ("explain", {"number": at}) if explain else ("use_buttons", {})
            self.show(at)
            return
        self.move(code, at)
