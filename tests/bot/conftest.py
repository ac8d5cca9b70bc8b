"""The storage backends the bot tests run against: SQLite always, PostgreSQL when reachable.

`.ci/run` starts a PostgreSQL server and sets QUALIOPI_TEST_POSTGRES_URL; on a machine without
one the PostgreSQL cases are skipped (and say so).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage import SQLStore
from tests.bot.fakes import FakeBotAPI, make_app
from tests.bot.stores import PostgresStore, SQLiteStore

POSTGRES_URL = os.environ.get("QUALIOPI_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]
TABLES = (
    "conversations",
    "questionnaires",
    "leads",
    "reminders",
    "tallies",
    "assessments",
    "outbox",
    "evidence",
    "schema_version",
)


def reset_postgres(url: str) -> None:
    """Drops our tables so that each test starts from an empty database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")


def make_store(backend: str, tmp_path: Path) -> SQLStore:
    """Returns a fresh, empty store of that kind."""
    if backend == "sqlite":
        return SQLiteStore(tmp_path / "bot.sqlite3")
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL here: set QUALIOPI_TEST_POSTGRES_URL (.ci/run does)")
    reset_postgres(POSTGRES_URL)
    return PostgresStore(POSTGRES_URL)


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLStore]:
    """A fresh store, once per backend."""
    made = make_store(request.param, tmp_path)
    yield made
    await made.close()


@pytest.fixture
async def bot(tmp_path: Path, store: Any) -> AsyncIterator[tuple[Any, FakeBotAPI, Any]]:
    """A real Application on the fake Bot API and a fresh store, started."""
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store)
    async with app:
        yield app, api, store
