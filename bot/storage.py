"""Where conversations live: one row per chat, committed before the bot replies.

SQLite by default (a file under ``./data/``, created on first start), in WAL mode so that a
process killed at any moment loses nothing it had committed. Each row keeps the flow snapshot,
the id of the message that currently shows the question (the "live" message), the deep-link
source of the conversation, and the id of the last update handled for that chat so that an
update delivered twice (after a crash, before Telegram learnt it was handled) is not applied
twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

SCHEMA_VERSION = 1

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


class Store(Protocol):
    """The storage port the Telegram adapter uses."""

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat (an empty record if nothing)."""
        ...

    async def save(self, chat_id: int, record: Record) -> None:
        """Stores the record for the chat, committed when this returns."""
        ...

    async def close(self) -> None:
        """Releases the connection."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    chat_id INTEGER PRIMARY KEY,
    snapshot TEXT,
    live_message_id INTEGER,
    source TEXT,
    last_update_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


def sqlite_path(database_url: str) -> Path:
    """Returns the file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    return Path(urlsplit(database_url).path[1:])


class SQLiteStore:
    """The default store: one SQLite file, used from a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise StorageError(f"database schema {row[0]} is newer than this program")
            conn.commit()
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
        """Creates the file and the schema if needed (fails early on a bad path)."""
        await self._run(lambda conn: None)

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat."""

        def work(conn: sqlite3.Connection) -> Record:
            row = conn.execute(
                "SELECT snapshot, live_message_id, source, last_update_id"
                " FROM conversations WHERE chat_id = ?",
                (chat_id,),
            ).fetchone()
            if row is None:
                return Record()
            try:
                snapshot = json.loads(row[0]) if row[0] else None
            except ValueError:
                snapshot = None  # a damaged row starts afresh rather than failing forever
            return Record(snapshot, row[1], row[2], row[3])

        return await self._run(work)

    async def save(self, chat_id: int, record: Record) -> None:
        """Stores the record, committed before this returns."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        snapshot = json.dumps(record.snapshot, ensure_ascii=False) if record.snapshot else None

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "INSERT INTO conversations"
                    " (chat_id, snapshot, live_message_id, source, last_update_id,"
                    "  created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (chat_id) DO UPDATE SET snapshot = excluded.snapshot,"
                    " live_message_id = excluded.live_message_id, source = excluded.source,"
                    " last_update_id = excluded.last_update_id, updated_at = excluded.updated_at",
                    (
                        chat_id,
                        snapshot,
                        record.live_message_id,
                        record.source,
                        record.last_update_id,
                        now,
                        now,
                    ),
                )

        await self._run(work)

    async def close(self) -> None:
        """Closes the connection."""

        def work() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(work)


def open_store(database_url: str) -> SQLiteStore:
    """Returns the store for a DATABASE_URL (SQLite for now)."""
    if database_url.startswith("sqlite:///"):
        return SQLiteStore(sqlite_path(database_url))
    raise StorageError("only sqlite:/// is supported by this version")
