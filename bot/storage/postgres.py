"""PostgreSQL for several workers: a connection pool, steps in a worker thread, advisory locks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from bot.storage.db import Clock, Db, utc_now
from bot.storage.records import StorageError
from bot.storage.schema import MIGRATION_LOCK, PG_MIGRATIONS
from bot.storage.sql import SQLStore

T = TypeVar("T")


STATEMENT_TIMEOUT_MS = 5000


class PostgresStore(SQLStore):
    """PostgreSQL, for several workers sharing one database: a small pool of connections,
    an advisory lock per chat for each step, the schema migrated under a lock at start."""

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
                    max_size=self.max_size,
                    # A statement that runs longer than 5 s is cancelled: the person is told to
                    # try again rather than left waiting behind a stuck query.
                    kwargs={
                        "autocommit": True,
                        "connect_timeout": 5,
                        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                    },
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
                    return work(Db(conn, postgres=True, clock=self.now))
            except (psycopg.Error, PoolTimeout) as exc:
                raise StorageError(str(exc).strip()) from exc

        return await asyncio.to_thread(pooled)

    async def close(self) -> None:
        """Closes the pool."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.close)
