"""A person's conversation as a typed value, and its stored JSON form.

``Snapshot`` is what the flow reads and writes; ``to_json`` and ``from_json`` are the only
places that know the stored layout (``{"v": 1, "state": …, "answers": …, "lang": …}`` and the
optional keys), so stored conversations stay readable byte for byte (tests/golden).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final

from flows.contract import LANGUAGES, QUESTIONS, Answer, as_json, canonical
from flows.edges import STATES

SNAPSHOT_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where one person is: the state, the answers, the language, and what is under way."""

    state: str
    lang: str
    answers: Mapping[str, Answer] = field(default_factory=lambda: MappingProxyType({}))
    pending: tuple[str, ...] = ()
    """Options ticked on the current multi-choice question, not yet confirmed."""
    assumed: tuple[str, ...] = ()
    """Questions answered "I don't know", given their safe answer."""
    editing: bool = False
    """A change started from the review: Back and the end of the change lead there."""
    date: str | None = None
    """The day of the result (ISO), which picks the référentiel."""

    def to_json(self) -> dict[str, Any]:
        """Returns the stored form (keys in a fixed order, optional ones only when set)."""
        raw: dict[str, Any] = {
            "v": SNAPSHOT_VERSION,
            "state": self.state,
            "answers": as_json(self.answers),
            "lang": self.lang,
        }
        if self.pending:
            raw["pending"] = list(self.pending)
        if self.assumed:
            raw["assumed"] = list(self.assumed)
        if self.editing:
            raw["editing"] = True
        if self.date is not None:
            raw["date"] = self.date
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Snapshot:
        """Reads the stored form (checked with ``is_stored_snapshot`` first)."""
        return cls(
            state=raw["state"],
            lang=raw["lang"],
            answers=MappingProxyType(canonical(raw["answers"])),
            pending=tuple(raw.get("pending", ())),
            assumed=tuple(raw.get("assumed", ())),
            editing=bool(raw.get("editing", False)),
            date=raw.get("date"),
        )

    def but(self, **changes: Any) -> Snapshot:
        """Returns a copy with some fields changed."""
        return replace(self, **changes)


def is_stored_snapshot(value: object) -> bool:
    """Tells whether a stored value can be resumed as a snapshot (defensive on load)."""
    if not isinstance(value, Mapping):
        return False
    answers = value.get("answers")
    return (
        value.get("v") == SNAPSHOT_VERSION
        and value.get("state") in STATES
        and isinstance(answers, Mapping)
        and all(q in QUESTIONS for q in answers)
        and value.get("lang") in LANGUAGES
    )


Stored = Snapshot | Mapping[str, Any]
"""A snapshot as code receives it: typed, or in its stored form."""


def as_snapshot(value: Stored) -> Snapshot:
    """Returns the typed snapshot of either form."""
    return value if isinstance(value, Snapshot) else Snapshot.from_json(value)
