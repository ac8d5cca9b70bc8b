"""What the jobs read and write: claims on what they are to send, and that it was sent.

Every worker runs the same jobs; a claim holds a row for a lease, so one of them sends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from bot.storage.db import Db
from bot.storage.records import Lead, Reminder
from bot.storage.rows import parse_json

T = TypeVar("T")


_LEAD_COLUMNS = (
    "id, chat_id, language, source, verdict, indicator_count, answers,"
    " name, phone, email, message, created_at, readiness, first_actions, dossier"
)
"""A lead's columns as ``_lead`` reads them."""


class JobQueries:
    """The jobs' part of the store (``SQLStore`` provides ``now`` and ``_run``)."""

    def now(self) -> dt.datetime:
        raise NotImplementedError

    async def _run(self, work: Callable[[Db], T]) -> T:
        raise NotImplementedError

    async def pdf_sent(self, chat_id: int) -> None:
        """Records that the chat's result PDF was sent."""

        def work(db: Db) -> None:
            with db.pipelined():
                db.execute("UPDATE conversations SET pdf_due = NULL WHERE chat_id = ?", (chat_id,))

        await self._run(work)

    async def backlog(self, before: dt.datetime, today: dt.date) -> dict[str, int]:
        """What is late, for the operator's gauges: PDFs, lead alerts and replies owed since
        before ``before``, reminders due before ``today`` and not sent."""
        stamp = before.astimezone(dt.UTC).isoformat(timespec="seconds")

        def work(db: Db) -> dict[str, int]:
            def count(sql: str, *args: object) -> int:
                return int(db.execute(sql, args).fetchone()[0])

            return {
                "owed_pdfs": count(
                    "SELECT count(*) FROM conversations WHERE pdf_due IS NOT NULL AND pdf_due < ?",
                    stamp,
                ),
                "unnotified_leads": count(
                    "SELECT count(*) FROM leads WHERE notified_at IS NULL AND created_at < ?",
                    stamp,
                ),
                "overdue_reminders": count(
                    "SELECT count(*) FROM reminders WHERE sent_at IS NULL AND due_on < ?",
                    today.isoformat(),
                ),
                "owed_replies": count("SELECT count(*) FROM outbox WHERE created_at < ?", stamp),
            }

        return await self._run(work)

    async def unreachable(self, chat_id: int) -> None:
        """Drops the owed replies and the owed result PDF of a chat that blocked the bot."""

        def work(db: Db) -> None:
            with db.pipelined():
                db.execute("UPDATE conversations SET pdf_due = NULL WHERE chat_id = ?", (chat_id,))
                db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))

        await self._run(work)

    async def claim_due_reminders(self, today: dt.date, lease: dt.timedelta) -> list[Reminder]:
        """Returns the unsent reminders due on or before ``today`` that no other worker holds,
        and holds them for ``lease`` (a worker that dies lets them go when it ends)."""
        rows = await self._claim(
            "SELECT id, chat_id, due_on, kind, language FROM reminders"
            " WHERE sent_at IS NULL AND due_on <= ?"
            " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY due_on, id",
            "UPDATE reminders SET claimed_until = ? WHERE id = ?",
            today.isoformat(),
            lease,
        )
        return [Reminder(r[0], r[1], dt.date.fromisoformat(r[2]), r[3], r[4]) for r in rows]

    async def claim_owed_pdfs(
        self, before: dt.datetime, lease: dt.timedelta
    ) -> list[tuple[int, dict[str, Any]]]:
        """Returns the chats owed a result PDF since before ``before`` that no other worker
        holds, and holds them for ``lease``."""
        rows = await self._claim(
            "SELECT chat_id, snapshot FROM conversations"
            " WHERE pdf_due IS NOT NULL AND pdf_due < ?"
            " AND (pdf_claimed_until IS NULL OR pdf_claimed_until < ?) ORDER BY pdf_due",
            "UPDATE conversations SET pdf_claimed_until = ? WHERE chat_id = ?",
            before.isoformat(timespec="seconds"),
            lease,
        )
        return [(int(r[0]), snapshot) for r in rows if (snapshot := parse_json(r[1]))]

    async def claim_unnotified_leads(
        self, before: dt.datetime, lease: dt.timedelta
    ) -> list[tuple[Lead, str]]:
        """Returns the leads stored before ``before`` whose alert has not gone out and that no
        other worker holds (with the day they were made), and holds them for ``lease``."""
        rows = await self._claim(
            f"SELECT {_LEAD_COLUMNS} FROM leads"
            " WHERE notified_at IS NULL AND created_at < ?"
            " AND (notify_claimed_until IS NULL OR notify_claimed_until < ?) ORDER BY id",
            "UPDATE leads SET notify_claimed_until = ? WHERE id = ?",
            before.isoformat(timespec="seconds"),
            lease,
        )
        return [(_lead(r), r[11]) for r in rows]

    async def unnotified_leads(self, chat_id: int) -> list[tuple[Lead, str]]:
        """Returns the chat's leads whose alert has not gone out (with the day they were
        made), holding nothing: for the alert said right after the lead's step."""
        rows = await self._run(
            lambda db: db.execute(
                f"SELECT {_LEAD_COLUMNS} FROM leads WHERE notified_at IS NULL AND chat_id = ?"
                " ORDER BY id",
                (chat_id,),
            ).fetchall()
        )
        return [(_lead(r), r[11]) for r in rows]

    async def _claim(self, select: str, hold: str, since: str, lease: dt.timedelta) -> list[Any]:
        """Selects what a job is to send (the first column keys it), skipping what another
        worker holds (its last placeholder: now), and holds it until ``now + lease``, in one
        transaction (SQLite: the write lock; PostgreSQL: rows locked, others skip them)."""

        def work(db: Db) -> list[Any]:
            now = self.now()
            with db.transaction():
                rows: list[Any] = db.execute(
                    select + (" FOR UPDATE SKIP LOCKED" if db.postgres else ""),
                    (since, now.isoformat(timespec="seconds")),
                ).fetchall()
                until = (now + lease).isoformat(timespec="seconds")
                db.executemany(hold, [(until, r[0]) for r in rows])
            return rows

        return await self._run(work)

    async def leads_notified(self, chat_id: int) -> None:
        """Records that the consultancy was told of the chat's leads."""

        def work(db: Db) -> None:
            with db.pipelined():
                db.execute(
                    "UPDATE leads SET notified_at = ? WHERE chat_id = ? AND notified_at IS NULL",
                    (db.now_iso(), chat_id),
                )

        await self._run(work)

    async def mark_sent(self, reminder_id: int) -> None:
        """Records that a reminder was sent."""

        def work(db: Db) -> None:
            with db.pipelined():
                db.execute(
                    "UPDATE reminders SET sent_at = ? WHERE id = ?", (db.now_iso(), reminder_id)
                )

        await self._run(work)


def _lead(r: Any) -> Lead:
    """A lead from its row (``claim_unnotified_leads``' columns)."""
    return Lead(
        chat_id=r[1], language=r[2], source=r[3], verdict=r[4], indicator_count=r[5],
        answers=parse_json(r[6]) or {}, name=r[7], phone=r[8], email=r[9], message=r[10],
        readiness=r[12], first_actions=tuple(parse_json(r[13]) or ()), dossier=r[14],
    )  # fmt: skip
