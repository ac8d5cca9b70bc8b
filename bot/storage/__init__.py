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
- ``evidence``: the dossier de preuves: files and links attached to indicators, content in
  chunks of 512 KiB, erased by /delete and, once its conversation is gone, by the purge.
- ``outbox``: what a step owes the person (``bot.plan`` actions), committed with the step and
  deleted once said, so that a reply lost to a crash is said after the restart.
- ``tallies``: anonymous counters per day and source (started, reached a question, stopped at a
  question, completed with a verdict, time to complete, leads). They hold no id at all, so
  statistics survive a person's deletion without keeping anything about them.
"""

from __future__ import annotations

from bot.storage.db import sqlite_path
from bot.storage.postgres import PostgresStore
from bot.storage.records import (
    Change,
    Completed,
    DuplicateUpdate,
    Evidence,
    Lead,
    NewEvidence,
    Owed,
    Record,
    Reminder,
    StorageError,
    Store,
    Tally,
)
from bot.storage.schema import MIGRATIONS, PG_MIGRATIONS, SCHEMA_VERSION, postgres_dialect
from bot.storage.sql import RECENT_UPDATES, SQLStore, handled, is_handled
from bot.storage.sqlite import SQLiteStore


def open_store(database_url: str, *, migrate: bool = True) -> SQLStore:
    """Returns the store for a DATABASE_URL: ``sqlite:///…`` or ``postgresql://…``; with
    ``migrate=False`` it refuses a schema that is not current instead of migrating it."""
    store: SQLStore
    if database_url.startswith("sqlite:///"):
        store = SQLiteStore(sqlite_path(database_url))
    elif database_url.startswith(("postgresql://", "postgres://")):
        store = PostgresStore(database_url)
    else:
        raise StorageError("DATABASE_URL must start with sqlite:/// or postgresql://")
    store.migrates = migrate
    return store


__all__ = [
    "MIGRATIONS",
    "PG_MIGRATIONS",
    "RECENT_UPDATES",
    "SCHEMA_VERSION",
    "Change",
    "Completed",
    "DuplicateUpdate",
    "Evidence",
    "Lead",
    "NewEvidence",
    "Owed",
    "PostgresStore",
    "Record",
    "Reminder",
    "SQLStore",
    "SQLiteStore",
    "StorageError",
    "Store",
    "Tally",
    "handled",
    "is_handled",
    "open_store",
    "postgres_dialect",
    "sqlite_path",
]
