"""The stores as the tests use them: the product's stores, plus the direct reads and writes
that only tests need (the bot itself goes through ``update`` and the job queries)."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bot.storage import Completed, Record, Reminder, SQLStore, Tally
from bot.storage import PostgresStore as ProductPostgresStore
from bot.storage import SQLiteStore as ProductSQLiteStore
from bot.storage.db import Db
from bot.storage.rows import load_record, parse_json, save_record

T = TypeVar("T")


class Inspectable(SQLStore):
    """Reads a chat's record, writes one directly, lists pending reminders."""

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat."""
        return await self._run(lambda db: load_record(db, chat_id))

    async def save(
        self,
        chat_id: int,
        record: Record,
        tallies: Sequence[Tally] = (),
        completed: Completed | None = None,
    ) -> None:
        """Stores the record, its tallies and a completed questionnaire in one commit."""

        def work(db: Db) -> None:
            with db.transaction():
                save_record(db, chat_id, record, tallies, completed)

        await self._run(work)

    async def due_reminders(self, today: dt.date) -> list[Reminder]:
        """Returns the unsent reminders due on or before ``today``."""
        return await self._reminders("due_on <= ?", today.isoformat())

    async def pdfs_due(self, before: dt.datetime) -> list[tuple[int, dict[str, Any]]]:
        """Returns the chats owed a result PDF since before ``before`` (chat id, snapshot)."""

        def work(db: Db) -> list[tuple[int, dict[str, Any]]]:
            rows = db.execute(
                "SELECT chat_id, snapshot FROM conversations"
                " WHERE pdf_due IS NOT NULL AND pdf_due < ? ORDER BY pdf_due",
                (before.isoformat(timespec="seconds"),),
            ).fetchall()
            return [(int(r[0]), snapshot) for r in rows if (snapshot := parse_json(r[1]))]

        return await self._run(work)

    async def _reminders(self, condition: str, value: object) -> list[Reminder]:
        def work(db: Db) -> list[Reminder]:
            rows = db.execute(
                "SELECT id, chat_id, due_on, kind, language FROM reminders"
                f" WHERE sent_at IS NULL AND {condition} ORDER BY due_on, id",
                (value,),
            ).fetchall()
            return [Reminder(r[0], r[1], dt.date.fromisoformat(r[2]), r[3], r[4]) for r in rows]

        return await self._run(work)

    async def pending_reminders(self, chat_id: int) -> list[Reminder]:
        """Returns a chat's unsent reminders."""
        return await self._reminders("chat_id = ?", chat_id)


class SQLiteStore(Inspectable, ProductSQLiteStore):
    """The SQLite store, inspectable."""


class PostgresStore(Inspectable, ProductPostgresStore):
    """The PostgreSQL store, inspectable."""


class Traced(PostgresStore):
    """The PostgreSQL store, counting the round trips of each piece of work it runs (from
    libpq's own trace of the protocol: a round trip is the client sending, then waiting for
    what the server answers), and noting which thread ran it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.trips: list[int] = []
        self.statements: list[int] = []
        self.threads: list[str] = []

    async def _run(self, work: Callable[[Db], T]) -> T:
        def traced(db: Db) -> T:
            import psycopg

            self.threads.append(threading.current_thread().name)

            with tempfile.TemporaryFile("w+") as trace:
                db.conn.pgconn.trace(trace.fileno())
                db.conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
                try:
                    return work(db)
                finally:
                    db.conn.pgconn.untrace()
                    trace.seek(0)
                    self.trips.append(round_trips(trace.read()))

        return await super()._run(traced)

    async def _run_async(self, work: Callable[[Any], Awaitable[T]]) -> T:
        async def traced(conn: Any) -> T:
            import psycopg

            self.threads.append(threading.current_thread().name)

            with tempfile.TemporaryFile("w+") as trace:
                conn.pgconn.trace(trace.fileno())
                conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
                try:
                    return await work(conn)
                finally:
                    conn.pgconn.untrace()
                    trace.seek(0)
                    text = trace.read()
                    self.trips.append(round_trips(text))
                    self.statements.append(statements(text))

        return await super()._run_async(traced)


def statements(trace: str) -> int:
    """Counts the statements the client had the server execute in a libpq trace."""
    return sum(
        1 for line in trace.splitlines() if line.startswith("F\t") and "\tExecute\t" in line
    )


def round_trips(trace: str) -> int:
    """Counts the turns in a libpq trace where the client, having sent, reads the answer."""
    turns, last = 0, ""
    for line in trace.splitlines():
        side = line[:1]
        if side == "B" and last == "F":
            turns += 1
        if side in ("F", "B"):
            last = side
    return turns
