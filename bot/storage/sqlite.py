"""SQLite: a file in WAL mode, one connection, steps on the event loop unless the file is busy."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.storage.db import Clock, Db, utc_now
from bot.storage.records import StorageError
from bot.storage.sql import SQLStore

T = TypeVar("T")


class _Busy(Exception):
    """The SQLite file is held by another connection."""


_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary codes (low byte)


class SQLiteStore(SQLStore):
    """The default store: one SQLite file, used from worker threads, WAL mode."""

    def __init__(self, path: Path, busy_timeout: float = 5.0, clock: Clock = utc_now) -> None:
        self.path = path
        self.clock = clock
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
            db = Db(conn, postgres=False, clock=self.now)
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
