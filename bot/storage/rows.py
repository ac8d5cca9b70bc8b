"""Reading and writing one chat's rows inside a transaction (shared SQL, both databases)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.storage.db import Db
from bot.storage.records import (
    Change,
    Completed,
    Lead,
    Record,
    Tally,
)


def load_record(db: Db, chat_id: int) -> Record:
    row = db.execute(
        "SELECT snapshot, live_message_id, source, last_update_id, meta"
        " FROM conversations WHERE chat_id = ?",
        (chat_id,),
    ).fetchone()
    if row is None:
        return Record()
    return Record(parse_json(row[0]), row[1], row[2], row[3], parse_json(row[4]) or {})


def insert_lead(db: Db, lead: Lead) -> None:
    db.execute(
        "INSERT INTO leads (chat_id, created_at, name, phone, email, message,"
        " language, source, verdict, indicator_count, answers)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lead.chat_id, db.now_iso(), lead.name, lead.phone, lead.email, lead.message,
         lead.language, lead.source, lead.verdict, lead.indicator_count,
         json.dumps(lead.answers, ensure_ascii=False)),
    )  # fmt: skip


def replace_reminders(
    db: Db, chat_id: int, language: str, due: Sequence[tuple[dt.date, str]]
) -> None:
    db.execute("DELETE FROM reminders WHERE chat_id = ? AND sent_at IS NULL", (chat_id,))
    db.executemany(
        "INSERT INTO reminders (chat_id, due_on, kind, language) VALUES (?, ?, ?, ?)",
        [(chat_id, day.isoformat(), kind, language) for day, kind in due],
    )


def apply_change(db: Db, chat_id: int, change: Change) -> None:
    """Writes everything a step changes (inside the caller's transaction)."""
    save_record(db, chat_id, change.record, change.tallies, change.completed)
    if change.lead is not None:
        insert_lead(db, change.lead)
    if change.reminders is not None:
        replace_reminders(db, chat_id, *change.reminders)
    if change.pdf_due:
        db.execute(
            "UPDATE conversations SET pdf_due = ? WHERE chat_id = ?", (db.now_iso(), chat_id)
        )


def save_record(
    db: Db,
    chat_id: int,
    record: Record,
    tallies: Sequence[Tally],
    completed: Completed | None,
) -> None:
    now = db.now_iso()
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
    add_tallies(db, tallies)
    if completed is not None:
        db.execute(
            "INSERT INTO questionnaires (chat_id, completed_at, language, source,"
            " verdict, indicator_count, referential, answers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (completed.chat_id, now, completed.language, completed.source, completed.verdict,
             completed.indicator_count, completed.referential,
             json.dumps(completed.answers, ensure_ascii=False)),
        )  # fmt: skip


def parse_json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # a damaged row starts afresh rather than failing forever


def add_tallies(db: Db, tallies: Sequence[Tally]) -> None:
    day = db.clock().date().isoformat()
    db.executemany(
        "INSERT INTO tallies (day, kind, detail, source, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (day, kind, detail, source) DO UPDATE SET n = tallies.n + excluded.n",
        [(day, t.kind, t.detail, t.source, t.n) for t in tallies],
    )
