"""Typed dates ("15/03/2027", "le 15 mars", "15 March 2027", "mars 2027") and the dates a
read-back button carries."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import messages

DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")


def parse_day(text: str) -> dt.date | None:
    """Reads a typed date (DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY or YYYY-MM-DD)."""
    cleaned = text.strip()[:20]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 (a day, no time)
        except ValueError:
            continue
    return None


MAX_DATE_TEXT = 40
"""Longer text is not a date (and is not handed to the parser)."""


def read_day(
    text: str, today: dt.date, prefer: Literal["future", "past"] = "future"
) -> dt.date | None:
    """Reads a date typed in words or figures, in French or English: the figures first
    (``parse_day``), then dateparser. A day left out is the 1st ("mars 2027"); a year left out
    is the next such day, or the last one when ``prefer`` is "past" ("le 15 mars"). The
    caller reads the date back to the person before using it."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_DATE_TEXT:
        return None
    day = parse_day(cleaned)
    if day is not None:
        return day
    import dateparser  # a fifth of a second to import: only once a date is typed

    found = dateparser.parse(
        cleaned,
        languages=list(messages.LANGUAGES),  # every language the bot speaks
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
            "PREFER_DATES_FROM": prefer,
            "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12)),
            "REQUIRE_PARTS": ["month"],
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return found.date() if found is not None else None


def day_in(data: str, prefix: str) -> dt.date | None:
    """The date a read-back button carries (``<prefix>YYYY-MM-DD``); None for other data."""
    rest = data.removeprefix(prefix)
    if rest == data or len(rest) != len("YYYY-MM-DD"):
        return None
    try:
        return dt.date.fromisoformat(rest)
    except ValueError:
        return None


def warm_up_dates() -> None:
    """Loads the date parser's language data (a third of a second) before anyone waits on it."""
    read_day("1 janvier 2030", dt.date(2030, 1, 1))
