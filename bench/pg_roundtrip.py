"""``BENCH_POSTGRES_URL=postgresql://… python -m bench.pg_roundtrip``: the bot's CPU for one
PostgreSQL round trip through psycopg, on an async connection (as a tap's step runs) and on a
sync one, with one statement and with eight in a pipeline (a step has about eleven, in three
round trips). What PostgreSQL costs the bot beyond SQLite is mostly this; the figures say how
much of it is the async wait rather than the statements themselves.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable

ROUNDS = 1000


def _sync_figures(url: str) -> tuple[float, float]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:

        def one() -> None:
            conn.execute("SELECT %s::int", (1,)).fetchall()

        def eight() -> None:
            with conn.pipeline():
                cursors = [conn.execute("SELECT %s::int", (i,)) for i in range(8)]
            for cursor in cursors:
                cursor.fetchall()

        return _cpu(one), _cpu(eight)


def _cpu(work: Callable[[], None]) -> float:
    for _ in range(50):
        work()
    start = time.process_time()
    for _ in range(ROUNDS):
        work()
    return (time.process_time() - start) / ROUNDS * 1e6


async def _async_figures(url: str) -> tuple[float, float]:
    import psycopg

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:

        async def one() -> None:
            await (await conn.execute("SELECT %s::int", (1,))).fetchall()

        async def eight() -> None:
            async with conn.pipeline():
                cursors = [await conn.execute("SELECT %s::int", (i,)) for i in range(8)]
            for cursor in cursors:
                await cursor.fetchall()

        return await _cpu_async(one), await _cpu_async(eight)
    finally:
        await conn.close()


async def _cpu_async(work: Callable[[], Awaitable[None]]) -> float:
    for _ in range(50):
        await work()
    start = time.process_time()
    for _ in range(ROUNDS):
        await work()
    return (time.process_time() - start) / ROUNDS * 1e6


def main() -> int:
    url = os.environ.get("BENCH_POSTGRES_URL")
    if not url:
        print("BENCH_POSTGRES_URL names the database to measure against", file=sys.stderr)
        return 2
    sync_one, sync_eight = _sync_figures(url)
    async_one, async_eight = asyncio.run(_async_figures(url))
    for label, a, s in (
        ("one statement, one round trip", async_one, sync_one),
        ("eight statements in one pipeline", async_eight, sync_eight),
    ):
        print(f"{label:<34} async {a:6.0f} µs   sync {s:6.0f} µs   of the bot's CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
