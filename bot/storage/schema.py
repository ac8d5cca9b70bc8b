"""The schema as one list of forward migrations (SQLite syntax), and its PostgreSQL dialect."""

from __future__ import annotations

import re
from typing import TypeVar

from bot.storage.db import Db
from bot.storage.records import StorageError

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
    # 4: claims, so that with several workers one job run sends a reminder or an owed PDF
    """
    ALTER TABLE reminders ADD COLUMN claimed_until TEXT;
    ALTER TABLE conversations ADD COLUMN pdf_claimed_until TEXT;
    """,
    # 5: the consultancy's alert of a lead, owed until sent (leads stored before: sent)
    """
    ALTER TABLE leads ADD COLUMN notified_at TEXT;
    ALTER TABLE leads ADD COLUMN notify_claimed_until TEXT;
    UPDATE leads SET notified_at = created_at;
    """,
    # 6: the self-assessment: a status per indicator and person; a lead's readiness
    """
    CREATE TABLE assessments (
        chat_id INTEGER NOT NULL,
        indicator INTEGER NOT NULL,
        status TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chat_id, indicator)
    );
    CREATE INDEX assessments_updated ON assessments (updated_at);
    ALTER TABLE leads ADD COLUMN readiness INTEGER;
    ALTER TABLE leads ADD COLUMN first_actions TEXT;
    """,
    # 7: what a step owes the person, committed with it and deleted once said (bot.plan)
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        action TEXT NOT NULL,
        claimed_until TEXT
    );
    CREATE INDEX outbox_chat ON outbox (chat_id, id);
    CREATE INDEX outbox_claimed ON outbox (claimed_until);
    """,
    # 8: the dossier de preuves: files and links per indicator, content in chunks (every part
    # carries what the listing shows, so any row is readable); what of it a lead may carry
    """
    CREATE TABLE evidence (
        chat_id INTEGER NOT NULL,
        evidence_id INTEGER NOT NULL,
        part INTEGER NOT NULL,
        indicator INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (chat_id, evidence_id, part)
    );
    ALTER TABLE leads ADD COLUMN dossier TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def postgres_dialect(sql: str) -> str:
    """Returns a migration step in PostgreSQL's words: 64-bit ids (Telegram chat ids exceed
    32 bits; SQLite's INTEGER is already 64-bit) and sequences for generated keys."""
    sql = sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    sql = sql.replace(" BLOB ", " BYTEA ")
    return re.sub(r"\b(\w+_id|n) INTEGER\b", r"\1 BIGINT", sql)


PG_MIGRATIONS: tuple[str, ...] = tuple(postgres_dialect(step) for step in MIGRATIONS)
"""The same schema for PostgreSQL, step for step, written once above."""

MIGRATION_LOCK = 7_354_001
"""PostgreSQL advisory lock taken while migrating, so that workers starting together wait."""


def check_current(db: Db, migrations: tuple[str, ...]) -> None:
    """Raises StorageError unless the schema is at the newest version (no migration run)."""
    found = db.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'"
        if db.postgres
        else "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    row = db.execute("SELECT version FROM schema_version").fetchone() if found else None
    version = int(row[0]) if row else 0
    if version != len(migrations):
        raise StorageError(
            f"database schema {version}, this program needs {len(migrations)}:"
            " run `qualiopi-bot migrate`"
        )


def migrate(db: Db, migrations: tuple[str, ...]) -> None:
    """Brings the schema to the newest version, one committed step at a time."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        exists = db.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'conversations'"
            if db.postgres
            else "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conversations'"
        ).fetchone()
        version = 1 if exists else 0
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    else:
        version = int(row[0])
    if version > len(migrations):
        raise StorageError(f"database schema {version} is newer than this program")
    for number in range(version, len(migrations)):
        with db.transaction():  # each step commits with its version, or not at all
            for statement in migrations[number].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", (number + 1,))
