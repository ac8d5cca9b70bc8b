"""The parts of a chat's stored ``meta`` that the funnel and the follow-ups own, as types.

``meta`` is one JSON object per chat, shared by four owners: the storage (the ids of the last
updates handled), the funnel (``FunnelMeta``), the follow-ups (``FollowMeta``) and the
dispatcher (what the live message shows, ``LIVE_SHOWS``). Each part
reads its own keys and writes back only the keys it holds or has set, where they stood, so
the stored JSON is the same as when these were plain dictionaries (tests/golden/meta.json).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

FOLLOW_KEYS = ("lead", "lead_declined", "lead_draft", "lead_result", "reminder")
FUNNEL_KEYS = ("started_at", "visited", "furthest", "completed")
LEAD_STEPS = ("contact", "name", "message")
"""The steps of a contact request where the person types (e-mail, name, message)."""
GIVING_CONTACT = (*LEAD_STEPS, "dossier")
"""The steps from the contact to the thanks, where the keyboard may show the button that
shares the person's phone number."""


LIVE_SHOWS = "live_shows"
"""What the chat's live message shows, when a later step needs to know it (``result``: the
result's summary); absent for any other screen. ``bot.dispatch`` writes it from each step's
plan."""


def live_shows(meta: Mapping[str, Any]) -> str:
    """What the live message shows ("" when it is nothing a step asks about)."""
    return str(meta.get(LIVE_SHOWS) or "")


def showing(meta: Mapping[str, Any], shows: str) -> dict[str, Any]:
    """Returns ``meta`` recording that the live message now shows ``shows``."""
    out = {k: v for k, v in meta.items() if k != LIVE_SHOWS}
    return {**out, LIVE_SHOWS: shows} if shows else out


def giving_contact(meta: Mapping[str, Any]) -> bool:
    """Whether the person is giving their details for a contact request (``GIVING_CONTACT``):
    read from the one key, every questionnaire step asks it."""
    return meta.get("lead") in GIVING_CONTACT


def _written(meta: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k for k in meta if k in keys)


class _Part:
    """Reading and writing one owner's keys of ``meta``, in place."""

    keys: tuple[str, ...] = ()
    written: tuple[str, ...]

    def but(self, **changes: Any) -> Self:
        """Returns a copy with some values changed (their keys are written from now on)."""
        added = tuple(k for k in changes if k not in self.written)
        return replace(self, **changes, written=(*self.written, *added))  # type: ignore[type-var]

    def into(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        """Returns ``meta`` with this part's keys written back (other owners' keys kept)."""
        out = dict(meta)
        for key in self.written:
            value = getattr(self, key)
            out[key] = (
                list(value) if isinstance(value, tuple) else dict(value)
                if isinstance(value, Mapping) else value
            )  # fmt: skip
        return out

    @classmethod
    def _values(cls, meta: Mapping[str, Any]) -> dict[str, Any]:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return {k: meta[k] for k in cls.keys if k in meta and k in names}


@dataclass(frozen=True, slots=True)
class FollowMeta(_Part):
    """Where a person stands with the offers after the result."""

    keys = FOLLOW_KEYS
    lead: str | None = None
    """consent, contact, name, message, dossier (what of it to send), sent; None when declined
    or not started."""
    lead_declined: bool = False
    lead_draft: Mapping[str, str] = field(default_factory=dict)
    """What the person gave so far (phone, email, name, message)."""
    lead_result: Mapping[str, Any] = field(default_factory=dict)
    """The result the person asked to be contacted from (its snapshot, kept from "yes" to
    the lead sent): the lead carries that result, whatever the person does meanwhile."""
    reminder: str | None = None
    """asking (a date is expected), set."""
    written: tuple[str, ...] = ()

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> FollowMeta:
        """Reads this part from a chat's meta."""
        values = cls._values(meta)
        for key in ("lead_draft", "lead_result"):
            if key in values:
                values[key] = dict(values[key] or {})
        return cls(**values, written=_written(meta, FOLLOW_KEYS))


@dataclass(frozen=True, slots=True)
class FunnelMeta(_Part):
    """How far one questionnaire run went, for the anonymous tallies."""

    keys = FUNNEL_KEYS
    started_at: str | None = None
    visited: tuple[str, ...] = ()
    furthest: str | None = None
    completed: bool = False
    written: tuple[str, ...] = ()

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> FunnelMeta:
        """Reads this part from a chat's meta."""
        values = cls._values(meta)
        if "visited" in values:
            values["visited"] = tuple(values["visited"])
        return cls(**values, written=_written(meta, FUNNEL_KEYS))

    @classmethod
    def new_run(cls, now: dt.datetime) -> FunnelMeta:
        """A fresh questionnaire run."""
        return cls().but(started_at=now.isoformat(timespec="seconds"), visited=(), furthest=None)
