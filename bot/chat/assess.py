"""The self-assessment's part of a chat, as every decider reads it: where the person stands
in it (``AssessMeta``, in the chat's meta), whether the chat is at a result or on an
indicator, the language it speaks, what a new result keeps of the statuses, and the
self-assessment as the PDF takes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.render.screens import evaluation_of
from bot.storage import Record
from flows.assessment import kept_statuses
from flows.flow import RESULT, is_snapshot

KEY = "assessment"
"""The key of ``meta`` the self-assessment owns."""


@dataclass(frozen=True, slots=True)
class AssessMeta:
    """Where a person stands in the self-assessment."""

    at: int | None = None
    """The indicator on screen; None on the summary or outside the assessment."""
    audit_on: dt.date | None = None
    """The audit date the person gave (the plan's dates follow it)."""
    asking_date: bool = False
    reminders: bool = False
    """The person asked to be reminded."""
    tallied: bool = False
    """The finished assessment was counted in the anonymous statistics."""

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> AssessMeta:
        """Reads the part of ``meta`` (a damaged value reads as a fresh start)."""
        raw = meta.get(KEY)
        if not isinstance(raw, Mapping):
            return cls()
        at = raw.get("at")
        try:
            audit_on = dt.date.fromisoformat(raw["audit_on"]) if raw.get("audit_on") else None
        except (TypeError, ValueError):
            audit_on = None
        return cls(
            at=at if isinstance(at, int) else None,
            audit_on=audit_on,
            asking_date=raw.get("asking_date") is True,
            reminders=raw.get("reminders") is True,
            tallied=raw.get("tallied") is True,
        )

    def into(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        """Returns ``meta`` with this part written back."""
        return {
            **meta,
            KEY: {
                "at": self.at,
                "audit_on": self.audit_on.isoformat() if self.audit_on else None,
                "asking_date": self.asking_date,
                "reminders": self.reminders,
                "tallied": self.tallied,
            },
        }


def speaks(record: Record, lang: str) -> str:
    """The language to answer in: the conversation's, else ``lang`` (Telegram's guess)."""
    snapshot = record.snapshot
    known = snapshot.get("lang") if snapshot is not None and is_snapshot(snapshot) else None
    return known if isinstance(known, str) else lang


def at_result(record: Record) -> bool:
    """Tells whether the chat's conversation stands at a result."""
    snapshot = record.snapshot
    return snapshot is not None and is_snapshot(snapshot) and snapshot.get("state") == RESULT


def on_indicator(record: Record) -> bool:
    """Tells whether an indicator's screen is the one in front of the person."""
    return at_result(record) and AssessMeta.of(record.meta).at is not None


def leave(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Returns ``meta`` with no indicator on screen (another step took the chat elsewhere)."""
    part = AssessMeta.of(meta)
    if KEY not in meta or (part.at is None and not part.asking_date):
        return dict(meta)
    return replace(part, at=None, asking_date=False).into(meta)


def for_new_result(record: Record, after: dict[str, Any]) -> Mapping[int, str] | None:
    """At a new result: the statuses still applicable (None when nothing is to change)."""
    if not record.statuses:
        return None
    kept = kept_statuses(record.statuses, evaluation_of(after).indicators)
    return None if kept == dict(record.statuses) else kept


def pdf_part(record: Record, today: dt.date) -> dict[str, Any] | None:
    """The self-assessment as the PDF takes it (None when nothing is assessed)."""
    if not record.statuses:
        return None
    audit_on = AssessMeta.of(record.meta).audit_on
    return {
        "statuses": {str(n): s for n, s in sorted(record.statuses.items())},
        "today": today.isoformat(),
        "audit_on": audit_on.isoformat() if audit_on else None,
    }


def screen_data(record: Record) -> tuple[dt.date | None, bool]:
    """The audit date and whether reminders are on (the summary shows both)."""
    part = AssessMeta.of(record.meta)
    return part.audit_on, part.reminders
