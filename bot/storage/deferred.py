"""Statements written through the ``Db`` calls, kept to be sent later on an async psycopg
connection: the shared SQL of a step runs on the event loop without a worker thread."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bot.storage.db import Clock, Db


class Pending:
    """The cursor of a kept statement: its rows can be read once ``Deferred.collect`` ran."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: list[Any] | None = None

    def fetchall(self) -> list[Any]:
        if self._rows is None:
            raise RuntimeError("a kept statement's rows are read before they were collected")
        return self._rows

    def fetchone(self) -> Any:
        rows = self.fetchall()
        return rows[0] if rows else None


class Deferred(Db):
    """A ``Db`` for PostgreSQL that keeps what it is told to run, in order, instead of running
    it. ``send`` queues the statements on a connection in pipeline mode (nothing waits);
    ``collect``, once the pipeline has synced, hands each ``Pending`` its rows. Transactions
    are the caller's: ``transaction`` and ``pipelined`` only group."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(None, postgres=True, clock=clock)
        self._kept: list[tuple[str, Any, Pending | None]] = []
        self._sent: list[tuple[Pending, Any]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Pending:
        pending = Pending()
        self._kept.append((self._sql(sql), tuple(params), pending))
        return pending

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._kept.append((self._sql(sql), list(rows), None))

    def alone(self) -> bool:
        """Whether what is kept is one statement (atomic by itself: no transaction needed)."""
        return len(self._kept) == 1 and (
            self._kept[0][2] is not None or len(self._kept[0][1]) == 1
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    pipelined = transaction

    async def send(self, conn: Any) -> None:
        """Queues every kept statement on ``conn`` (an ``AsyncConnection``; in pipeline mode,
        nothing waits for the server)."""
        kept, self._kept = self._kept, []
        for sql, params, pending in kept:
            if pending is None:
                await conn.cursor().executemany(sql, params)
            else:
                self._sent.append((pending, await conn.execute(sql, params)))

    async def collect(self) -> None:
        """Gives each statement sent its rows (after the pipeline synced: no waiting here)."""
        sent, self._sent = self._sent, []
        for pending, cursor in sent:
            pending._rows = await cursor.fetchall() if cursor.description is not None else []
