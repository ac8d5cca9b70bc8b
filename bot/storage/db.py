"""One database connection, SQLite or PostgreSQL, behind the few calls the store makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def sqlite_path(database_url: str) -> Path:
    """Returns the file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    return Path(urlsplit(database_url).path[1:])


Clock = Callable[[], dt.datetime]
"""Where the store reads the time (timestamps, today's tallies): injected, UTC."""


def utc_now() -> dt.datetime:
    """The real clock."""
    return dt.datetime.now(dt.UTC)


class Db:
    """One connection, SQLite or PostgreSQL, behind the few calls the store makes.

    SQL is written once with ``?`` placeholders (converted for psycopg) and portable syntax.
    """

    def __init__(self, conn: Any, postgres: bool, clock: Clock = utc_now) -> None:
        self.conn = conn
        self.postgres = postgres
        self.clock = clock

    def now_iso(self) -> str:
        """The current time as stored (ISO 8601, seconds, UTC)."""
        return self.clock().isoformat(timespec="seconds")

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

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """Commits what the block does, or nothing of it, like ``transaction``; on PostgreSQL the
        statements are pipelined: each one is sent at once and the block waits for the server
        only where it reads a result (``fetchone``, ``fetchall``) and at the commit. A result
        read after the block is there (its statement ran before the commit).

        Not for a block that needs a cursor's ``rowcount``: it is not known before a read.
        """
        if not self.postgres:
            with self.transaction():
                yield
            return
        try:
            with self.conn.pipeline():  # leaving it sends everything queued and waits once
                self.conn.execute("BEGIN")
                yield
                self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()  # the transaction left open by a failure, if any
            raise

    def lock_chat(self, chat_id: int) -> None:
        """Holds the chat until the transaction ends (PostgreSQL: advisory lock per chat)."""
        if self.postgres:
            self.execute("SELECT pg_advisory_xact_lock(?)", (chat_id,))
