"""Audit reminders: when they fall, and the step where the person gives their date."""

from __future__ import annotations

import datetime as dt

import messages
from bot.consultancy.meta import FollowMeta
from bot.outbox import Out
from bot.render.text import parse_day


def add_months(day: dt.date, months: int) -> dt.date:
    """Returns the same day ``months`` later (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def reminder_dates(certified: dt.date) -> list[tuple[dt.date, str]]:
    """Returns when to remind: the surveillance window opening (14th month, arrêté du 6 juin
    2019 as amended) and the time to book the renewal audit, 8 months before the certificate's
    third anniversary (28th month; certifiers' practice)."""
    return [(add_months(certified, 14), "surveillance"), (add_months(certified, 28), "renewal")]


def reminder_date_step(
    typed: str, follow: FollowMeta, lang: str, today: dt.date
) -> tuple[FollowMeta, list[Out], list[tuple[dt.date, str]] | None]:
    """Reads the certification date typed after "remind me": the new state, the reply, and
    the reminders still ahead (None while the date is not understood)."""
    day = parse_day(typed)
    if day is None:
        return follow, [Out(messages.text(lang, "followup", "remind_bad_date"))], None
    due = [(d, kind) for d, kind in reminder_dates(day) if d >= today]
    items = [
        {
            "date": messages.text(lang, "labels", "date", day=d),
            "what": messages.text(lang, "followup", "remind_what", kind=k),
        }
        for d, k in due
    ]
    said = Out(messages.text(lang, "followup", "remind_set", items=items))
    return follow.but(reminder="set"), [said], due
