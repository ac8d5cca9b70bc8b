"""Where conversations, leads and statistics live, committed before the bot replies.

SQLite by default (a file under ``./data/``, created on first start), in WAL mode so that a
process killed at any moment loses nothing it had committed. The schema carries a version and
is migrated forward at start, never losing data.

- ``conversations``: one row per chat: the flow snapshot, the id of the message that shows the
  question (the "live" message), the deep-link source, the last update handled (an update
  delivered twice is applied once), and ``meta`` (when it started, how far it went, the lead
  and reminder offers).
- ``questionnaires``: one row per completed questionnaire (answers, verdict), for export.
- ``leads``: what a person agreed to send to the consultancy.
- ``reminders``: audit reminders to send.
- ``tallies``: anonymous counters per day and source (started, reached a question, stopped at a
  question, completed with a verdict, time to complete, leads). They hold no id at all, so
  statistics survive a person's deletion without keeping anything about them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations
    """
    CREATE TABLE conversations (
        chat_id INTEGER PRIMARY KEY,
        snapshot TEXT,
        live_message_id INTEGER,
        source TEXT,
        last_update_id INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 2: consultancy features and statistics
    """
    ALTER TABLE conversations ADD COLUMN meta TEXT;
    CREATE TABLE questionnaires (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        completed_at TEXT NOT NULL,
        language TEXT NOT NULL,
        source TEXT,
        verdict TEXT NOT NULL,
        indicator_count INTEGER NOT NULL,
        referential TEXT NOT NULL,
        answers TEXT NOT NULL
    );
    CREATE INDEX questionnaires_chat ON questionnaires (chat_id);
    CREATE TABLE leads (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        name TEXT,
        phone TEXT,
        email TEXT,
        message TEXT,
        language TEXT NOT NULL,
        source TEXT,
        verdict TEXT NOT NULL,
        indicator_count INTEGER NOT NULL,
        answers TEXT NOT NULL
    );
    CREATE INDEX leads_chat ON leads (chat_id);
    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        due_on TEXT NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX reminders_due ON reminders (sent_at, due_on);
    CREATE TABLE tallies (
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        n INTEGER NOT NULL,
        PRIMARY KEY (day, kind, detail, source)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


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
class Reminder:
    """An audit reminder due on a day."""

    id: int
    chat_id: int
    due_on: dt.date
    kind: str
    language: str


class Store(Protocol):
    """The storage port the Telegram adapter uses."""

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat (an empty record if nothing)."""
        ...

    async def save(
        self,
        chat_id: int,
        record: Record,
        tallies: Sequence[Tally] = (),
        completed: Completed | None = None,
    ) -> None:
        """Stores the record, its tallies and a completed questionnaire in one commit."""
        ...

    async def add_lead(self, lead: Lead, tallies: Sequence[Tally] = ()) -> None:
        """Stores a lead."""
        ...

    async def add_reminders(
        self, chat_id: int, language: str, due: Iterable[tuple[dt.date, str]]
    ) -> None:
        """Stores reminders (replacing the chat's unsent ones)."""
        ...

    async def due_reminders(self, today: dt.date) -> list[Reminder]:
        """Returns the unsent reminders due on or before ``today``."""
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

    async def dump_chat(self, chat_id: int) -> dict[str, Any]:
        """Returns everything stored about a chat (shown to the person)."""
        ...

    async def close(self) -> None:
        """Releases the connection."""
        ...


def sqlite_path(database_url: str) -> Path:
    """Returns the file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    return Path(urlsplit(database_url).path[1:])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SQLiteStore:
    """The default store: one SQLite file, used from a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conversations'"
            ).fetchone()
            version = 1 if exists else 0
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        else:
            version = int(row[0])
        if version > SCHEMA_VERSION:
            raise StorageError(f"database schema {version} is newer than this program")
        for number in range(version, SCHEMA_VERSION):
            with conn:  # each step commits with its version, or not at all
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("UPDATE schema_version SET version = ?", (number + 1,))
        conn.commit()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
            self._migrate(conn)
            self._conn = conn
        return self._conn

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return work(self._connect())
                except sqlite3.Error as exc:
                    raise StorageError(str(exc)) from exc

        return await asyncio.to_thread(locked)

    async def open(self) -> None:
        """Creates the file and migrates the schema if needed (fails early on a bad path)."""
        await self._run(lambda conn: None)

    async def schema_version(self) -> int:
        """Returns the schema version of the database."""
        return await self._run(
            lambda conn: int(conn.execute("SELECT version FROM schema_version").fetchone()[0])
        )

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat."""

        def work(conn: sqlite3.Connection) -> Record:
            row = conn.execute(
                "SELECT snapshot, live_message_id, source, last_update_id, meta"
                " FROM conversations WHERE chat_id = ?",
                (chat_id,),
            ).fetchone()
            if row is None:
                return Record()
            return Record(_json(row[0]), row[1], row[2], row[3], _json(row[4]) or {})

        return await self._run(work)

    async def save(
        self,
        chat_id: int,
        record: Record,
        tallies: Sequence[Tally] = (),
        completed: Completed | None = None,
    ) -> None:
        """Stores the record, its tallies and a completed questionnaire in one commit."""
        now = _now()
        snapshot = json.dumps(record.snapshot, ensure_ascii=False) if record.snapshot else None
        meta = json.dumps(record.meta, ensure_ascii=False)

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "INSERT INTO conversations"
                    " (chat_id, snapshot, live_message_id, source, last_update_id, meta,"
                    "  created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (chat_id) DO UPDATE SET snapshot = excluded.snapshot,"
                    " live_message_id = excluded.live_message_id, source = excluded.source,"
                    " last_update_id = excluded.last_update_id, meta = excluded.meta,"
                    " updated_at = excluded.updated_at",
                    (chat_id, snapshot, record.live_message_id, record.source,
                     record.last_update_id, meta, now, now),
                )  # fmt: skip
                _add_tallies(conn, tallies)
                if completed is not None:
                    conn.execute(
                        "INSERT INTO questionnaires (chat_id, completed_at, language, source,"
                        " verdict, indicator_count, referential, answers)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (completed.chat_id, now, completed.language, completed.source,
                         completed.verdict, completed.indicator_count, completed.referential,
                         json.dumps(completed.answers, ensure_ascii=False)),
                    )  # fmt: skip

        await self._run(work)

    async def add_lead(self, lead: Lead, tallies: Sequence[Tally] = ()) -> None:
        """Stores a lead and its tally in one commit."""

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "INSERT INTO leads (chat_id, created_at, name, phone, email, message,"
                    " language, source, verdict, indicator_count, answers)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (lead.chat_id, _now(), lead.name, lead.phone, lead.email, lead.message,
                     lead.language, lead.source, lead.verdict, lead.indicator_count,
                     json.dumps(lead.answers, ensure_ascii=False)),
                )  # fmt: skip
                _add_tallies(conn, tallies)

        await self._run(work)

    async def add_reminders(
        self, chat_id: int, language: str, due: Iterable[tuple[dt.date, str]]
    ) -> None:
        """Stores reminders, replacing the chat's unsent ones."""
        items = list(due)

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "DELETE FROM reminders WHERE chat_id = ? AND sent_at IS NULL", (chat_id,)
                )
                conn.executemany(
                    "INSERT INTO reminders (chat_id, due_on, kind, language) VALUES (?, ?, ?, ?)",
                    [(chat_id, day.isoformat(), kind, language) for day, kind in items],
                )

        await self._run(work)

    async def due_reminders(self, today: dt.date) -> list[Reminder]:
        """Returns the unsent reminders due on or before ``today``."""
        return await self._reminders("due_on <= ?", today.isoformat())

    async def pending_reminders(self, chat_id: int) -> list[Reminder]:
        """Returns a chat's unsent reminders."""
        return await self._reminders("chat_id = ?", chat_id)

    async def _reminders(self, condition: str, value: object) -> list[Reminder]:
        def work(conn: sqlite3.Connection) -> list[Reminder]:
            rows = conn.execute(
                "SELECT id, chat_id, due_on, kind, language FROM reminders"
                f" WHERE sent_at IS NULL AND {condition} ORDER BY due_on, id",
                (value,),
            ).fetchall()
            return [Reminder(r[0], r[1], dt.date.fromisoformat(r[2]), r[3], r[4]) for r in rows]

        return await self._run(work)

    async def mark_sent(self, reminder_id: int) -> None:
        """Records that a reminder was sent."""

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "UPDATE reminders SET sent_at = ? WHERE id = ?", (_now(), reminder_id)
                )

        await self._run(work)

    async def delete_person(self, chat_id: int) -> dict[str, int]:
        """Erases everything about a chat; returns how many rows of each table went."""

        def work(conn: sqlite3.Connection) -> dict[str, int]:
            counts = {}
            with conn:
                for table in ("conversations", "questionnaires", "leads", "reminders"):
                    cursor = conn.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
                    counts[table] = cursor.rowcount
            return counts

        return await self._run(work)

    async def purge_before(self, cutoff: dt.datetime) -> dict[str, int]:
        """Erases personal data older than ``cutoff`` (tallies, being anonymous, stay)."""
        stamp = cutoff.astimezone(dt.UTC).isoformat(timespec="seconds")

        def work(conn: sqlite3.Connection) -> dict[str, int]:
            with conn:
                return {
                    "conversations": conn.execute(
                        "DELETE FROM conversations WHERE updated_at < ?", (stamp,)
                    ).rowcount,
                    "questionnaires": conn.execute(
                        "DELETE FROM questionnaires WHERE completed_at < ?", (stamp,)
                    ).rowcount,
                    "leads": conn.execute(
                        "DELETE FROM leads WHERE created_at < ?", (stamp,)
                    ).rowcount,
                    "reminders": conn.execute(
                        "DELETE FROM reminders WHERE sent_at IS NOT NULL AND sent_at < ?", (stamp,)
                    ).rowcount,
                }

        return await self._run(work)

    async def tallies(
        self, since: dt.date | None, until: dt.date | None
    ) -> list[tuple[str, str, str, str, int]]:
        """Returns (day, kind, detail, source, n) rows in the period (inclusive)."""

        def work(conn: sqlite3.Connection) -> list[tuple[str, str, str, str, int]]:
            rows = conn.execute(
                "SELECT day, kind, detail, source, n FROM tallies WHERE day >= ? AND day <= ?",
                ((since or dt.date.min).isoformat(), (until or dt.date.max).isoformat()),
            ).fetchall()
            return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]

        return await self._run(work)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        """Returns every row of ``leads`` or ``questionnaires``, oldest first."""
        if table not in ("leads", "questionnaires"):
            raise ValueError(table)

        def work(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cursor = conn.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._run(work)

    async def dump_chat(self, chat_id: int) -> dict[str, Any]:
        """Returns everything stored about a chat, table by table."""

        def work(conn: sqlite3.Connection) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for table in ("conversations", "questionnaires", "leads", "reminders"):
                cursor = conn.execute(f"SELECT * FROM {table} WHERE chat_id = ?", (chat_id,))
                names = [d[0] for d in cursor.description]
                out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            return out

        return await self._run(work)

    async def close(self) -> None:
        """Closes the connection."""

        def work() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(work)


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # a damaged row starts afresh rather than failing forever


def _add_tallies(conn: sqlite3.Connection, tallies: Sequence[Tally]) -> None:
    day = dt.datetime.now(dt.UTC).date().isoformat()
    conn.executemany(
        "INSERT INTO tallies (day, kind, detail, source, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (day, kind, detail, source) DO UPDATE SET n = n + excluded.n",
        [(day, t.kind, t.detail, t.source, t.n) for t in tallies],
    )


def open_store(database_url: str) -> SQLiteStore:
    """Returns the store for a DATABASE_URL (SQLite for now)."""
    if database_url.startswith("sqlite:///"):
        return SQLiteStore(sqlite_path(database_url))
    raise StorageError("only sqlite:/// is supported by this version")
