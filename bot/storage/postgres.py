"""PostgreSQL for several workers: steps and their replies' bookkeeping on the event loop
(psycopg's async pool, pipeline mode), the rest in a worker thread, advisory locks per chat."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from bot.storage.db import Clock, Db, utc_now
from bot.storage.deferred import Deferred
from bot.storage.records import Change, Owed, Record, StorageError
from bot.storage.rows import query_record, write_said
from bot.storage.schema import MIGRATION_LOCK, PG_MIGRATIONS
from bot.storage.sql import SQLStore

T = TypeVar("T")


STATEMENT_TIMEOUT_MS = 5000


THREAD_POOL_SIZE = 3
"""Connections for the work done in a worker thread (jobs, exports, deletions, PDFs sent)."""


class PostgresStore(SQLStore):
    """PostgreSQL, for several workers sharing one database: an advisory lock per chat for
    each step, the schema migrated under a lock at start.

    Two small pools. A step and its replies' bookkeeping, the work of every tap, run on the
    event loop through psycopg's async pool: the same SQL as SQLite's, kept by ``Deferred``
    and sent in pipeline mode (two round trips a step, one for ``said``), with no hand-off to
    a thread (measured: a hand-off each way cost about as much CPU as the step itself). The
    rest (jobs, exports, deletions) runs in a worker thread on a pool of its own.
    """

    postgres = True
    migrations = PG_MIGRATIONS

    def __init__(
        self, url: str, max_size: int = 8, pool_timeout: float = 5.0, clock: Clock = utc_now
    ) -> None:
        self.url = url
        self.clock = clock
        self.max_size = max_size
        # How long a step waits for a connection before the person is told to try again (the
        # server away, or every connection busy); 5 s is far above the waits measured under load.
        self.pool_timeout = pool_timeout
        self._pool: Any = None
        self._init_lock = threading.Lock()
        self._async_pool: Any = None
        self._async_lock = asyncio.Lock()

    def _pool_kwargs(self) -> dict[str, Any]:
        # A statement that runs longer than 5 s is cancelled: the person is told to try again
        # rather than left waiting behind a stuck query.
        return {
            "autocommit": True,
            "connect_timeout": 5,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        }

    def _pool_ready(self) -> Any:
        with self._init_lock:
            if self._pool is None:
                import psycopg
                from psycopg_pool import ConnectionPool

                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    db = Db(conn, postgres=True, clock=self.now)
                    db.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
                    try:
                        self._migrate(db)
                    finally:
                        db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=THREAD_POOL_SIZE,
                    kwargs=self._pool_kwargs(),
                    # idle for long stretches (a job a minute): a connection the server
                    # dropped meanwhile is found and replaced before use, not failed on
                    check=ConnectionPool.check_connection,
                    timeout=self.pool_timeout,
                    open=True,
                )
            return self._pool

    async def _async_pool_ready(self) -> Any:
        if self._async_pool is None:
            async with self._async_lock:
                if self._async_pool is None:
                    from psycopg_pool import AsyncConnectionPool

                    await asyncio.to_thread(self._pool_ready)  # the schema first
                    pool = AsyncConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=self.max_size,
                        kwargs=self._pool_kwargs(),
                        timeout=self.pool_timeout,
                        open=False,
                    )
                    await pool.open()
                    self._async_pool = pool
        return self._async_pool

    async def _run_async(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Runs ``work`` on a connection of the async pool (``psycopg.AsyncConnection``)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            pool = await self._async_pool_ready()
            async with pool.connection() as conn:
                return await work(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(str(exc).strip()) from exc

    async def update(
        self, chat_id: int, update_id: int, decide: Callable[[Record], tuple[Change | None, T]]
    ) -> T:
        """Runs one step for a chat under its lock and commits it (see ``Store.update``)."""
        return (await self._step_async(chat_id, update_id, decide, None))[0]

    async def step(
        self,
        chat_id: int,
        update_id: int,
        decide: Callable[[Record], tuple[Change | None, T]],
        lease: dt.timedelta,
    ) -> tuple[T, list[Owed]]:
        """One step and the replies it owes, in one transaction (see ``Store.step``)."""
        return await self._step_async(chat_id, update_id, decide, lease)

    async def _step_async(
        self,
        chat_id: int,
        update_id: int,
        decide: Callable[[Record], tuple[Change | None, T]],
        lease: dt.timedelta | None,
    ) -> tuple[T, list[Owed]]:
        """``SQLStore._step`` on the event loop: the lock and the reads in one round trip,
        the decision, then the writes and the commit in another."""

        async def work(conn: Any) -> tuple[T, list[Owed]]:
            reads, writes = Deferred(self.now), Deferred(self.now)
            reads.lock_chat(chat_id)
            record = query_record(reads, chat_id)
            async with _transaction(conn) as pipeline:
                await reads.send(conn)
                await pipeline.sync()
                await reads.collect()
                result, read_owed = self._decided(
                    writes, chat_id, update_id, record(), decide, lease=lease
                )
                await writes.send(conn)
            await writes.collect()
            return result, read_owed()

        return await self._run_async(work)

    async def said(
        self,
        chat_id: int,
        owed: Sequence[int],
        live: int | None = None,
        *,
        set_live: bool = False,
        unsaid: Sequence[int] = (),
    ) -> None:
        """Deletes the owed replies said, and records the live message (``Store.said``), on
        the event loop: one round trip (one statement, or a transaction of several)."""

        async def work(conn: Any) -> None:
            writes = Deferred(self.now)
            write_said(writes, chat_id, owed, live=live, set_live=set_live, unsaid=unsaid)
            if writes.alone():  # most often: one reply said, nothing else
                await writes.send(conn)
                return
            async with _transaction(conn):
                await writes.send(conn)

        if owed or set_live or unsaid:
            await self._run_async(work)

    async def _run(self, work: Callable[[Db], T]) -> T:
        def pooled() -> T:
            import psycopg
            from psycopg_pool import PoolTimeout

            try:
                with self._pool_ready().connection() as conn:
                    return work(Db(conn, postgres=True, clock=self.now))
            except (psycopg.Error, PoolTimeout) as exc:
                raise StorageError(str(exc).strip()) from exc

        return await asyncio.to_thread(pooled)

    async def close(self) -> None:
        """Closes the pools."""
        if self._async_pool is not None:
            async_pool, self._async_pool = self._async_pool, None
            await async_pool.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.close)


@asynccontextmanager
async def _transaction(conn: Any) -> AsyncIterator[Any]:
    """``BEGIN`` … ``COMMIT`` on an async connection in pipeline mode (yields the pipeline):
    leaving the block sends what is queued and waits once; a failure rolls it back."""
    import psycopg

    try:
        async with conn.pipeline() as pipeline:
            await conn.execute("BEGIN")
            yield pipeline
            await conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(psycopg.Error):  # a broken connection: the pool drops it
            await conn.rollback()
        raise
