"""What is stored about a chat and what one step writes; the ``Store`` protocol."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class StorageError(RuntimeError):
    """The database cannot be used right now (the person is told to retry)."""


@dataclass(frozen=True, slots=True)
class Record:
    """What is stored about one chat."""

    snapshot: dict[str, Any] | None = None
    live_message_id: int | None = None
    source: str | None = None
    last_update_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    statuses: Mapping[int, str] = field(default_factory=dict)
    """The self-assessment: a status per indicator (``flows.assessment.STATUSES``)."""
    evidence: tuple[Evidence, ...] = ()
    """The dossier de preuves: what is attached, oldest first (the content stays stored)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """A piece of evidence attached to an indicator, as listed (its content is read apart)."""

    id: int
    indicator: int
    kind: str
    """``document``, ``photo`` or ``link`` (the content of a link is its address)."""
    name: str
    label: str
    mime: str
    size: int
    added_at: str
    """When it was attached (ISO, UTC)."""


@dataclass(frozen=True, slots=True)
class NewEvidence:
    """A piece of evidence to store with the step that received it (``id``: the chat's next
    number, never one given before, so that a button naming a removed piece stays stale)."""

    id: int
    indicator: int
    kind: str
    name: str
    label: str
    mime: str
    content: bytes
    added_at: str = ""
    """When it was received (ISO, UTC; empty: when it is stored)."""

    def listed(self) -> Evidence:
        """The piece as the chat lists it once stored."""
        return Evidence(
            self.id, self.indicator, self.kind, self.name, self.label, self.mime,
            len(self.content), self.added_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Tally:
    """One anonymous count to add (no id of any person)."""

    kind: str
    detail: str = ""
    source: str = ""
    n: int = 1


@dataclass(frozen=True, slots=True)
class Lead:
    """What a person agreed to send, with the result it concerns."""

    chat_id: int
    language: str
    source: str | None
    verdict: str
    indicator_count: int
    answers: dict[str, Any]
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    message: str | None = None
    readiness: int | None = None
    """The share of indicators in place (percent), when the person assessed them."""
    first_actions: tuple[int, ...] = ()
    """The first indicators of the person's action plan."""
    dossier: str | None = None
    """What of their dossier de preuves the person agreed to send: ``index`` (the list, no
    files) or ``files`` (the ZIP); None: nothing."""


@dataclass(frozen=True, slots=True)
class Completed:
    """One completed questionnaire (for export)."""

    chat_id: int
    language: str
    source: str | None
    verdict: str
    indicator_count: int
    referential: str
    answers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    """What one update writes, in one commit: the chat's record, its tallies, and maybe a
    completed questionnaire, a lead, the chat's audit reminders (language, due days), its
    self-assessment's statuses (all of them: those left out are erased) and reminders."""

    record: Record
    tallies: Sequence[Tally] = ()
    completed: Completed | None = None
    lead: Lead | None = None
    reminders: tuple[str, Sequence[tuple[dt.date, str]]] | None = None
    pdf_due: bool = False
    statuses: Mapping[int, str] | None = None
    assessment_reminders: tuple[str, Sequence[tuple[dt.date, str]]] | None = None
    says: Sequence[Mapping[str, Any]] = ()
    """What the step owes the person, in order (``bot.plan`` actions as JSON-ready data):
    committed with the step, deleted once said."""
    evidence_added: NewEvidence | None = None
    evidence_removed: tuple[int, ...] = ()


Owed = tuple[int, dict[str, Any]]
"""A reply owed to a chat: its row in the outbox, and its action (``bot.plan.to_json``)."""


class DuplicateUpdate(Exception):
    """Raised by ``Store.update`` for an update already handled for that chat (a redelivery, or
    another worker got there first): nothing was decided or written."""


@dataclass(frozen=True, slots=True)
class Reminder:
    """An audit reminder due on a day."""

    id: int
    chat_id: int
    due_on: dt.date
    kind: str
    language: str


class Store(Protocol):
    """The storage port the Telegram adapter uses."""

    async def update(
        self, chat_id: int, update_id: int, decide: Callable[[Record], tuple[Change | None, T]]
    ) -> T:
        """Runs ``decide`` on the chat's record and commits its change (None: nothing to
        write), the chat locked for the whole step (across processes too); raises
        ``DuplicateUpdate`` for an update seen before."""
        ...

    async def step(
        self,
        chat_id: int,
        update_id: int,
        decide: Callable[[Record], tuple[Change | None, T]],
        lease: dt.timedelta,
    ) -> tuple[T, list[Owed]]:
        """``update``, and in the same transaction: the change's ``says`` stored, and every
        reply the chat is owed (older ones first, then this step's) held for ``lease`` and
        returned, to be said now and then marked ``said``."""
        ...

    async def said(
        self,
        chat_id: int,
        owed: Sequence[int],
        live: int | None = None,
        *,
        set_live: bool = False,
        unsaid: Sequence[int] = (),
    ) -> None:
        """Records that the ``owed`` replies were said, (``set_live``) which message now shows
        the chat's current question, and lets go of the ``unsaid`` ones (Telegram did not
        take them: the chat's next step, or the job, says them)."""
        ...

    async def claim_owed_replies(self, lease: dt.timedelta) -> dict[int, list[Owed]]:
        """Returns, chat by chat and in order, the owed replies no worker holds (their worker
        died, or could not say them), and holds them for ``lease``."""
        ...

    async def set_live_message(self, chat_id: int, message_id: int | None) -> None:
        """Records which message shows the chat's current question."""
        ...

    async def schema_version(self) -> int:
        """Returns the schema version of the database (raises StorageError when it is down)."""
        ...

    async def record(self, chat_id: int) -> Record:
        """Returns what is stored about the chat (a job reads it before writing to a person)."""
        ...

    async def pdf_sent(self, chat_id: int) -> None:
        """Records that the chat's result PDF was sent."""
        ...

    async def backlog(self, before: dt.datetime, today: dt.date) -> dict[str, int]:
        """Counts what is late (owed PDFs, lead alerts and replies; overdue reminders)."""
        ...

    async def unreachable(self, chat_id: int) -> None:
        """Drops what is owed to a chat Telegram refuses to write to (its owed replies and
        result PDF); what it does next is answered as usual."""
        ...

    async def claim_unnotified_leads(
        self, before: dt.datetime, lease: dt.timedelta
    ) -> list[tuple[Lead, str]]:
        """Returns the leads whose alert is owed that no other worker holds, with their day,
        and holds them for ``lease``."""
        ...

    async def unnotified_leads(self, chat_id: int) -> list[tuple[Lead, str]]:
        """Returns the chat's leads whose alert is owed, with their day (holding nothing)."""
        ...

    async def leads_notified(self, chat_id: int) -> None:
        """Records that the consultancy was told of the chat's leads."""
        ...

    async def claim_due_reminders(self, today: dt.date, lease: dt.timedelta) -> list[Reminder]:
        """Returns the due reminders no other worker holds, and holds them for ``lease``."""
        ...

    async def claim_owed_pdfs(
        self, before: dt.datetime, lease: dt.timedelta
    ) -> list[tuple[int, dict[str, Any]]]:
        """Returns the chats owed a PDF since before ``before`` that no other worker holds,
        and holds them for ``lease``."""
        ...

    async def mark_sent(self, reminder_id: int) -> None:
        """Records that a reminder was sent."""
        ...

    async def delete_person(self, chat_id: int) -> dict[str, int]:
        """Erases everything about a chat; returns how many rows of each kind went."""
        ...

    async def purge_before(self, cutoff: dt.datetime) -> dict[str, int]:
        """Erases personal data not touched since ``cutoff`` (tallies are kept)."""
        ...

    async def tallies(
        self, since: dt.date | None, until: dt.date | None
    ) -> list[tuple[str, str, str, str, int]]:
        """Returns (day, kind, detail, source, n) rows in the period."""
        ...

    async def rows(self, table: str) -> list[dict[str, Any]]:
        """Returns every row of ``leads`` or ``questionnaires`` (for export)."""
        ...

    async def evidence_files(self, chat_id: int) -> list[tuple[Evidence, bytes]]:
        """Returns the chat's evidence with its content, oldest first (for the dossier)."""
        ...

    async def dump_chat(self, chat_id: int) -> dict[str, Any]:
        """Returns everything stored about a chat (shown to the person)."""
        ...

    async def close(self) -> None:
        """Releases the connection."""
        ...
