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
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
    # 3: a result's PDF still owed to the person (sent in the background; resent if lost)
    """
    ALTER TABLE conversations ADD COLUMN pdf_due TEXT;
    CREATE INDEX conversations_pdf_due ON conversations (pdf_due);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def postgres_dialect(sql: str) -> str:
    """Returns a migration step in PostgreSQL's words: 64-bit ids (Telegram chat ids exceed
    32 bits; SQLite's INTEGER is already 64-bit) and sequences for generated keys."""
    sql = sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    return re.sub(r"\b(\w+_id|n) INTEGER\b", r"\1 BIGINT", sql)


PG_MIGRATIONS: tuple[str, ...] = tuple(postgres_dialect(step) for step in MIGRATIONS)
"""The same schema for PostgreSQL, step for step, written once above."""

MIGRATION_LOCK = 7_354_001
"""PostgreSQL advisory lock taken while migrating, so that workers starting together wait."""


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
class Change:
    """What one update writes, in one commit: the chat's record, its tallies, and maybe a
    completed questionnaire, a lead, or the chat's audit reminders (language, due days)."""

    record: Record
    tallies: Sequence[Tally] = ()
    completed: Completed | None = None
    lead: Lead | None = None
    reminders: tuple[str, Sequence[tuple[dt.date, str]]] | None = None
    pdf_due: bool = False


DUPLICATE: Any = object()
"""Returned by ``Store.update`` for an update already handled for that chat."""


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
        write), the chat locked for the whole step (across processes too); returns DUPLICATE
        for an update seen before."""
        ...

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat (an empty record if nothing)."""
        ...

    async def set_live_message(self, chat_id: int, message_id: int | None) -> None:
        """Records which message shows the chat's current question."""
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

    async def pdf_sent(self, chat_id: int) -> None:
        """Records that the chat's result PDF was sent."""
        ...

    async def pdfs_due(self, before: dt.datetime) -> list[tuple[int, dict[str, Any]]]:
        """Returns the chats still owed a result PDF since before ``before``."""
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


class Db:
    """One connection, SQLite or PostgreSQL, behind the few calls the store makes.

    SQL is written once with ``?`` placeholders (converted for psycopg) and portable syntax.
    """

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Runs one statement; returns its cursor."""
        return self.conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs one statement for every row."""
        if not rows:
            return
        if self.postgres:
            with self.conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)
        else:
            self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commits what the block does, or nothing of it."""
        if self.postgres:
            with self.conn.transaction():
                yield
            return
        if self.conn.in_transaction:  # nested in update(): the outer block commits
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")  # takes the write lock: other processes wait
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def lock_chat(self, chat_id: int) -> None:
        """Holds the chat until the transaction ends (PostgreSQL: advisory lock per chat)."""
        if self.postgres:
            self.execute("SELECT pg_advisory_xact_lock(?)", (chat_id,))


RECENT_UPDATES = 64
"""How many handled update ids a chat remembers, to refuse a second delivery of any of them."""


def is_handled(record: Record, update_id: int) -> bool:
    """Tells whether this update was already applied to the chat.

    Workers may receive a chat's updates out of order, so a newer handled update does not make
    an older one a duplicate: only the ids actually handled (the recent ones) do.
    """
    seen = record.meta.get("handled_updates")
    if not isinstance(seen, list):  # rows written before the list existed
        return record.last_update_id is not None and update_id <= record.last_update_id
    return update_id in seen or (len(seen) >= RECENT_UPDATES and update_id < min(seen))


def handled(record: Record, before: Record, update_id: int) -> Record:
    """Returns the record to save, remembering that ``update_id`` is now handled."""
    seen = before.meta.get("handled_updates")
    seen = seen if isinstance(seen, list) else []
    meta = {**record.meta, "handled_updates": [*seen, update_id][-RECENT_UPDATES:]}
    last = max(update_id, before.last_update_id or update_id, record.last_update_id or update_id)
    return replace(record, meta=meta, last_update_id=last)


class SQLStore:
    """The store, over a ``Db``; subclasses say how to get a connection."""

    postgres = False
    migrations: tuple[str, ...] = MIGRATIONS

    async def _run(self, work: Callable[[Db], T]) -> T:
        raise NotImplementedError

    def _migrate(self, db: Db) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            exists = db.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'conversations'"
                if self.postgres
                else "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conversations'"
            ).fetchone()
            version = 1 if exists else 0
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        else:
            version = int(row[0])
        if version > len(self.migrations):
            raise StorageError(f"database schema {version} is newer than this program")
        for number in range(version, len(self.migrations)):
            with db.transaction():  # each step commits with its version, or not at all
                for statement in self.migrations[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("UPDATE schema_version SET version = ?", (number + 1,))

    async def open(self) -> None:
        """Connects, and creates or migrates the schema (fails early on a bad URL or path)."""
        await self._run(lambda db: None)

    async def schema_version(self) -> int:
        """Returns the schema version of the database."""
        return await self._run(
            lambda db: int(db.execute("SELECT version FROM schema_version").fetchone()[0])
        )

    async def update(
        self, chat_id: int, update_id: int, decide: Callable[[Record], tuple[Change | None, T]]
    ) -> T:
        """Runs one step for a chat under its lock and commits it (see ``Store.update``)."""

        def work(db: Db) -> T:
            with db.transaction():
                db.lock_chat(chat_id)
                record = _load(db, chat_id)
                if is_handled(record, update_id):
                    return DUPLICATE  # type: ignore[no-any-return]
                change, result = decide(record)
                if change is not None:
                    _apply(db, chat_id, replace(change, record=handled(change.record, record,
                                                                        update_id)))  # fmt: skip
                return result

        return await self._run(work)

    async def load(self, chat_id: int) -> Record:
        """Returns what is stored for the chat."""
        return await self._run(lambda db: _load(db, chat_id))

    async def set_live_message(self, chat_id: int, message_id: int | None) -> None:
        """Records which message shows the chat's current question (that column only)."""

        def work(db: Db) -> None:
            with db.transaction():
                db.execute(
                    "UPDATE conversations SET live_message_id = ? WHERE chat_id = ?",
                    (message_id, chat_id),
                )

        await self._run(work)

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
                _save(db, chat_id, record, tallies, completed)

        await self._run(work)

    async def due_reminders(self, today: dt.date) -> list[Reminder]:
        """Returns the unsent reminders due on or before ``today``."""
        return await self._reminders("due_on <= ?", today.isoformat())

    async def pdf_sent(self, chat_id: int) -> None:
        """Records that the chat's result PDF was sent."""

        def work(db: Db) -> None:
            with db.transaction():
                db.execute("UPDATE conversations SET pdf_due = NULL WHERE chat_id = ?", (chat_id,))

        await self._run(work)

    async def pdfs_due(self, before: dt.datetime) -> list[tuple[int, dict[str, Any]]]:
        """Returns the chats owed a result PDF since before ``before`` (chat id, snapshot)."""

        def work(db: Db) -> list[tuple[int, dict[str, Any]]]:
            rows = db.execute(
                "SELECT chat_id, snapshot FROM conversations"
                " WHERE pdf_due IS NOT NULL AND pdf_due < ? ORDER BY pdf_due",
                (before.isoformat(timespec="seconds"),),
            ).fetchall()
            return [(int(r[0]), snapshot) for r in rows if (snapshot := _json(r[1]))]

        return await self._run(work)

    async def pending_reminders(self, chat_id: int) -> list[Reminder]:
        """Returns a chat's unsent reminders."""
        return await self._reminders("chat_id = ?", chat_id)

    async def _reminders(self, condition: str, value: object) -> list[Reminder]:
        def work(db: Db) -> list[Reminder]:
            rows = db.execute(
                "SELECT id, chat_id, due_on, kind, language FROM reminders"
                f" WHERE sent_at IS NULL AND {condition} ORDER BY due_on, id",
                (value,),
            ).fetchall()
            return [Reminder(r[0], r[1], dt.date.fromisoformat(r[2]), r[3], r[4]) for r in rows]

        return await self._run(work)

    async def mark_sent(self, reminder_id: int) -> None:
        """Records that a reminder was sent."""

        def work(db: Db) -> None:
            with db.transaction():
                db.execute("UPDATE reminders SET sent_at = ? WHERE id = ?", (_now(), reminder_id))

        await self._run(work)

    async def delete_person(self, chat_id: int) -> dict[str, int]:
        """Erases everything about a chat; returns how many rows of each table went."""

        def work(db: Db) -> dict[str, int]:
            counts = {}
            with db.transaction():
                for table in ("conversations", "questionnaires", "leads", "reminders"):
                    cursor = db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
                    counts[table] = cursor.rowcount
            return counts

        return await self._run(work)

    async def purge_before(self, cutoff: dt.datetime) -> dict[str, int]:
        """Erases personal data older than ``cutoff`` (tallies, being anonymous, stay)."""
        stamp = cutoff.astimezone(dt.UTC).isoformat(timespec="seconds")

        def work(db: Db) -> dict[str, int]:
            with db.transaction():
                return {
                    "conversations": db.execute(
                        "DELETE FROM conversations WHERE updated_at < ?", (stamp,)
                    ).rowcount,
                    "questionnaires": db.execute(
                        "DELETE FROM questionnaires WHERE completed_at < ?", (stamp,)
                    ).rowcount,
                    "leads": db.execute(
                        "DELETE FROM leads WHERE created_at < ?", (stamp,)
                    ).rowcount,
                    "reminders": db.execute(
                        "DELETE FROM reminders WHERE sent_at IS NOT NULL AND sent_at < ?", (stamp,)
                    ).rowcount,
                }

        return await self._run(work)

    async def tallies(
        self, since: dt.date | None, until: dt.date | None
    ) -> list[tuple[str, str, str, str, int]]:
        """Returns (day, kind, detail, source, n) rows in the period (inclusive)."""

        def work(db: Db) -> list[tuple[str, str, str, str, int]]:
            rows = db.execute(
                "SELECT day, kind, detail, source, n FROM tallies WHERE day >= ? AND day <= ?",
                ((since or dt.date.min).isoformat(), (until or dt.date.max).isoformat()),
            ).fetchall()
            return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]

        return await self._run(work)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        """Returns every row of ``leads`` or ``questionnaires``, oldest first."""
        if table not in ("leads", "questionnaires"):
            raise ValueError(table)

        def work(db: Db) -> list[dict[str, Any]]:
            cursor = db.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._run(work)

    async def dump_chat(self, chat_id: int) -> dict[str, Any]:
        """Returns everything stored about a chat, table by table."""

        def work(db: Db) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for table in ("conversations", "questionnaires", "leads", "reminders"):
                cursor = db.execute(f"SELECT * FROM {table} WHERE chat_id = ?", (chat_id,))
                names = [d[0] for d in cursor.description]
                out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            return out

        return await self._run(work)

    async def close(self) -> None:
        """Releases the connections."""


def _load(db: Db, chat_id: int) -> Record:
    row = db.execute(
        "SELECT snapshot, live_message_id, source, last_update_id, meta"
        " FROM conversations WHERE chat_id = ?",
        (chat_id,),
    ).fetchone()
    if row is None:
        return Record()
    return Record(_json(row[0]), row[1], row[2], row[3], _json(row[4]) or {})


def _insert_lead(db: Db, lead: Lead) -> None:
    db.execute(
        "INSERT INTO leads (chat_id, created_at, name, phone, email, message,"
        " language, source, verdict, indicator_count, answers)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lead.chat_id, _now(), lead.name, lead.phone, lead.email, lead.message,
         lead.language, lead.source, lead.verdict, lead.indicator_count,
         json.dumps(lead.answers, ensure_ascii=False)),
    )  # fmt: skip


def _replace_reminders(
    db: Db, chat_id: int, language: str, due: Sequence[tuple[dt.date, str]]
) -> None:
    db.execute("DELETE FROM reminders WHERE chat_id = ? AND sent_at IS NULL", (chat_id,))
    db.executemany(
        "INSERT INTO reminders (chat_id, due_on, kind, language) VALUES (?, ?, ?, ?)",
        [(chat_id, day.isoformat(), kind, language) for day, kind in due],
    )


def _apply(db: Db, chat_id: int, change: Change) -> None:
    """Writes everything a step changes (inside the caller's transaction)."""
    _save(db, chat_id, change.record, change.tallies, change.completed)
    if change.lead is not None:
        _insert_lead(db, change.lead)
    if change.reminders is not None:
        _replace_reminders(db, chat_id, *change.reminders)
    if change.pdf_due:
        db.execute("UPDATE conversations SET pdf_due = ? WHERE chat_id = ?", (_now(), chat_id))


def _save(
    db: Db,
    chat_id: int,
    record: Record,
    tallies: Sequence[Tally],
    completed: Completed | None,
) -> None:
    now = _now()
    snapshot = json.dumps(record.snapshot, ensure_ascii=False) if record.snapshot else None
    db.execute(
        "INSERT INTO conversations"
        " (chat_id, snapshot, live_message_id, source, last_update_id, meta,"
        "  created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET snapshot = excluded.snapshot,"
        " live_message_id = excluded.live_message_id, source = excluded.source,"
        " last_update_id = excluded.last_update_id, meta = excluded.meta,"
        " updated_at = excluded.updated_at",
        (chat_id, snapshot, record.live_message_id, record.source, record.last_update_id,
         json.dumps(record.meta, ensure_ascii=False), now, now),
    )  # fmt: skip
    _add_tallies(db, tallies)
    if completed is not None:
        db.execute(
            "INSERT INTO questionnaires (chat_id, completed_at, language, source,"
            " verdict, indicator_count, referential, answers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (completed.chat_id, now, completed.language, completed.source, completed.verdict,
             completed.indicator_count, completed.referential,
             json.dumps(completed.answers, ensure_ascii=False)),
        )  # fmt: skip


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # a damaged row starts afresh rather than failing forever


def _add_tallies(db: Db, tallies: Sequence[Tally]) -> None:
    day = dt.datetime.now(dt.UTC).date().isoformat()
    db.executemany(
        "INSERT INTO tallies (day, kind, detail, source, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (day, kind, detail, source) DO UPDATE SET n = tallies.n + excluded.n",
        [(day, t.kind, t.detail, t.source, t.n) for t in tallies],
    )


class _Busy(Exception):
    """The SQLite file is held by another connection."""


_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary codes (low byte)


class SQLiteStore(SQLStore):
    """The default store: one SQLite file, used from worker threads, WAL mode."""

    def __init__(self, path: Path, busy_timeout: float = 5.0) -> None:
        self.path = path
        # How long a step waits for the file while another process (a backup, the CLI export)
        # holds it, before the person is told to try again.
        self.busy_timeout = busy_timeout
        self._waits = True  # the connection's busy timeout is busy_timeout (else 0)
        self._lock = threading.Lock()
        self._db: Db | None = None

    def _connect(self) -> Db:
        if self._db is None:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, check_same_thread=False, timeout=self.busy_timeout, isolation_level=None
            )
            db = Db(conn, postgres=False)
            try:
                self._prepare(db)
            except BaseException:
                conn.close()
                raise
            self._db = db
            self._waits = True
        return self._db

    def _prepare(self, db: Db) -> None:
        """WAL mode and the schema, once per connection. Workers starting together on one file
        may find it briefly held (SQLite answers "locked" at once while another process
        switches the journal mode): they try again until ``busy_timeout``."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                db.conn.execute("PRAGMA journal_mode=WAL")
                db.conn.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
                with db.transaction():  # the write lock: one process migrates, the others wait
                    self._migrate(db)
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF in _BUSY_CODES
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    async def _run(self, work: Callable[[Db], T]) -> T:
        """Runs ``work`` on the event loop when the file is free, else in a thread.

        A step on a local SQLite file takes a few hundred microseconds, less than handing it
        to a thread and back (measured: that hand-off was an eighth of the bot's CPU under
        load). So it first runs in place, told not to wait for the file; only when another
        process holds the file (a backup, the CLI export) does it run again in a thread,
        allowed to wait up to ``busy_timeout`` without stalling other chats. Running again is
        safe: the first attempt rolled back, and ``decide`` is pure.
        """
        if self._lock.acquire(blocking=False):
            try:
                return self._attempt(work, wait=False)
            except _Busy:
                pass
            finally:
                self._lock.release()

        def waiting() -> T:
            with self._lock:
                try:
                    return self._attempt(work, wait=True)
                except _Busy as busy:
                    raise StorageError(str(busy.__cause__)) from busy.__cause__

        return await asyncio.to_thread(waiting)

    def _attempt(self, work: Callable[[Db], T], wait: bool) -> T:
        """Runs ``work`` (the lock held); raises _Busy if the file is held elsewhere."""
        try:
            db = self._connect()
            if wait != self._waits:
                timeout_ms = int(self.busy_timeout * 1000) if wait else 0
                db.conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
                self._waits = wait
            return work(db)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in _BUSY_CODES:
                raise _Busy from exc
            raise StorageError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    async def close(self) -> None:
        """Closes the connection."""

        def work() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.conn.close()
                    self._db = None

        await asyncio.to_thread(work)


class PostgresStore(SQLStore):
    """PostgreSQL, for several workers sharing one database: a small pool of connections,
    an advisory lock per chat for each step, the schema migrated under a lock at start."""

    postgres = True
    migrations = PG_MIGRATIONS

    def __init__(self, url: str, max_size: int = 8, pool_timeout: float = 5.0) -> None:
        self.url = url
        self.max_size = max_size
        # How long a step waits for a connection before the person is told to try again (the
        # server away, or every connection busy); 5 s is far above the waits measured under load.
        self.pool_timeout = pool_timeout
        self._pool: Any = None
        self._init_lock = threading.Lock()

    def _pool_ready(self) -> Any:
        with self._init_lock:
            if self._pool is None:
                import psycopg
                from psycopg_pool import ConnectionPool

                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    db = Db(conn, postgres=True)
                    db.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
                    try:
                        self._migrate(db)
                    finally:
                        db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_size,
                    kwargs={"autocommit": True, "connect_timeout": 5},
                    timeout=self.pool_timeout,
                    open=True,
                )
            return self._pool

    async def _run(self, work: Callable[[Db], T]) -> T:
        def pooled() -> T:
            import psycopg
            from psycopg_pool import PoolTimeout

            try:
                with self._pool_ready().connection() as conn:
                    return work(Db(conn, postgres=True))
            except (psycopg.Error, PoolTimeout) as exc:
                raise StorageError(str(exc).strip()) from exc

        return await asyncio.to_thread(pooled)

    async def close(self) -> None:
        """Closes the pool."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.close)


def open_store(database_url: str) -> SQLStore:
    """Returns the store for a DATABASE_URL: ``sqlite:///…`` or ``postgresql://…``."""
    if database_url.startswith("sqlite:///"):
        return SQLiteStore(sqlite_path(database_url))
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(database_url)
    raise StorageError("DATABASE_URL must start with sqlite:/// or postgresql://")
