"""Audit reminders: when they fall, and the step where the person gives their date."""

from __future__ import annotations

import datetime as dt

import messages
from bot.chat.meta import FollowMeta
from bot.outbox import Out
from bot.reading.days import read_day
from bot.render.screens import Button


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


def reminder_date_typed(typed: str, lang: str, today: dt.date, certified: bool) -> Out:
    """Reads the date typed after "remind me" and reads it back, to be confirmed with
    ``remind:day:YYYY-MM-DD`` (a certificate's date is a past one when no year is given)."""
    day = read_day(typed, today, prefer="past" if certified else "future")
    if day is None:
        return Out(messages.text(lang, "followup", "remind_bad_date"))
    confirm = (
        (
            Button(messages.text(lang, "ui", "date_yes"), f"remind:day:{day.isoformat()}"),
            Button(messages.text(lang, "ui", "date_no"), "remind:yes"),
        ),
    )
    return Out(messages.text(lang, "followup", "remind_confirm", day=day), confirm)


def reminder_date_step(
    day: dt.date, follow: FollowMeta, lang: str, today: dt.date
) -> tuple[FollowMeta, list[Out], list[tuple[dt.date, str]] | None]:
    """Sets the reminders from the certification date the person confirmed: the new state,
    the reply, and the reminders still ahead."""
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
