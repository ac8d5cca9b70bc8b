"""Reading and writing one chat's rows inside a transaction (shared SQL, both databases)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.storage.db import Db
from bot.storage.evidence import add_evidence, evidence_query, listed_evidence, remove_evidence
from bot.storage.records import (
    Change,
    Completed,
    Evidence,
    Lead,
    Owed,
    Record,
    Tally,
)
from flows.assessment import ASSESSMENT_REMINDERS
from flows.edges import RESULT


def load_record(db: Db, chat_id: int) -> Record:
    """The chat's stored record."""
    return query_record(db, chat_id)()


def query_record(db: Db, chat_id: int) -> Callable[[], Record]:
    """Sends the reads of the chat's record; returns how to build it from their results. On
    PostgreSQL the three reads go to the server together (one round trip in a pipelined step),
    the evidence included even when it is not needed."""
    row_cursor = db.execute(
        "SELECT snapshot, live_message_id, source, last_update_id, meta"
        " FROM conversations WHERE chat_id = ?",
        (chat_id,),
    )
    status_cursor = db.execute(
        "SELECT indicator, status FROM assessments WHERE chat_id = ?", (chat_id,)
    )
    evidence_cursor = evidence_query(db, chat_id) if db.postgres else None

    def built() -> Record:
        row = row_cursor.fetchone()
        statuses = {int(r[0]): str(r[1]) for r in status_cursor.fetchall()}
        if row is None:
            return Record(statuses=statuses)
        snapshot = parse_json(row[0])
        # the dossier de preuves is read and shown only at a result (SQLite: no query on the
        # other steps)
        evidence: tuple[Evidence, ...] = ()
        if isinstance(snapshot, dict) and snapshot.get("state") == RESULT:
            evidence = listed_evidence(evidence_cursor or evidence_query(db, chat_id))
        meta = parse_json(row[4]) or {}
        return Record(snapshot, row[1], row[2], row[3], meta, statuses, evidence)

    return built


def load_statuses(db: Db, chat_id: int) -> dict[int, str]:
    """The chat's self-assessment: a status per indicator."""
    rows = db.execute(
        "SELECT indicator, status FROM assessments WHERE chat_id = ?", (chat_id,)
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def write_statuses(
    db: Db, chat_id: int, statuses: Mapping[int, str], before: Mapping[int, str]
) -> None:
    """Writes the statuses that changed and erases those left out (inside the transaction)."""
    gone = [(chat_id, n) for n in before if n not in statuses]
    db.executemany("DELETE FROM assessments WHERE chat_id = ? AND indicator = ?", gone)
    now = db.now_iso()
    db.executemany(
        "INSERT INTO assessments (chat_id, indicator, status, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, indicator) DO UPDATE SET status = excluded.status,"
        " updated_at = excluded.updated_at",
        [(chat_id, n, s, now) for n, s in statuses.items() if before.get(n) != s],
    )


def insert_lead(db: Db, lead: Lead) -> None:
    db.execute(
        "INSERT INTO leads (chat_id, created_at, name, phone, email, message,"
        " language, source, verdict, indicator_count, answers, readiness, first_actions,"
        " dossier) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lead.chat_id, db.now_iso(), lead.name, lead.phone, lead.email, lead.message,
         lead.language, lead.source, lead.verdict, lead.indicator_count,
         json.dumps(lead.answers, ensure_ascii=False), lead.readiness,
         json.dumps(list(lead.first_actions)) if lead.readiness is not None else None,
         lead.dossier),
    )  # fmt: skip


AUDIT_REMINDERS = ("surveillance", "renewal")


def replace_reminders(
    db: Db,
    chat_id: int,
    language: str,
    due: Sequence[tuple[dt.date, str]],
    kinds: tuple[str, ...] = AUDIT_REMINDERS,
) -> None:
    """Replaces the chat's pending reminders of these kinds (the others stay)."""
    marks = ", ".join("?" * len(kinds))
    db.execute(
        f"DELETE FROM reminders WHERE chat_id = ? AND sent_at IS NULL AND kind IN ({marks})",
        (chat_id, *kinds),
    )
    db.executemany(
        "INSERT INTO reminders (chat_id, due_on, kind, language) VALUES (?, ?, ?, ?)",
        [(chat_id, day.isoformat(), kind, language) for day, kind in due],
    )


def apply_change(db: Db, chat_id: int, change: Change, before: Record) -> None:
    """Writes everything a step changes (inside the caller's transaction); ``before`` is the
    record the step read."""
    save_record(db, chat_id, change.record, change.tallies, change.completed)
    if change.lead is not None:
        insert_lead(db, change.lead)
    if change.reminders is not None:
        replace_reminders(db, chat_id, *change.reminders)
    if change.statuses is not None:
        write_statuses(db, chat_id, change.statuses, before.statuses)
    if change.assessment_reminders is not None:
        replace_reminders(db, chat_id, *change.assessment_reminders, ASSESSMENT_REMINDERS)
    if change.evidence_removed:
        remove_evidence(db, chat_id, change.evidence_removed)
    if change.evidence_added is not None:
        add_evidence(db, chat_id, change.evidence_added)
    if change.says:
        now = db.now_iso()
        db.executemany(
            "INSERT INTO outbox (chat_id, created_at, action) VALUES (?, ?, ?)",
            [(chat_id, now, json.dumps(a, ensure_ascii=False)) for a in change.says],
        )
    if change.pdf_due:
        db.execute(
            "UPDATE conversations SET pdf_due = ? WHERE chat_id = ?", (db.now_iso(), chat_id)
        )


def hold_owed(
    db: Db, chat_id: int, now: dt.datetime, lease: dt.timedelta
) -> Callable[[], list[Owed]]:
    """Holds the chat's owed replies that no worker holds until ``now + lease`` (inside the
    step's transaction, the chat locked); returns how to read them, oldest first, once the
    transaction is over (PostgreSQL: one statement, read with the commit's round trip)."""
    stamp = now.isoformat(timespec="seconds")
    until = (now + lease).isoformat(timespec="seconds")
    free = "chat_id = ? AND (claimed_until IS NULL OR claimed_until < ?)"
    if db.postgres:
        cursor = db.execute(
            f"UPDATE outbox SET claimed_until = ? WHERE {free} RETURNING id, action",
            (until, chat_id, stamp),
        )
        return lambda: _owed(sorted(cursor.fetchall()))
    rows = db.execute(
        f"SELECT id, action FROM outbox WHERE {free} ORDER BY id", (chat_id, stamp)
    ).fetchall()
    db.executemany(
        "UPDATE outbox SET claimed_until = ? WHERE id = ?", [(until, r[0]) for r in rows]
    )
    return lambda: _owed(rows)


def write_said(
    db: Db,
    chat_id: int,
    owed: Sequence[int],
    *,
    live: int | None,
    set_live: bool,
    unsaid: Sequence[int],
) -> None:
    """Deletes the owed replies said, lets go of those left unsaid, and records the live
    message (inside the caller's transaction)."""
    db.executemany("DELETE FROM outbox WHERE id = ?", [(n,) for n in owed])
    db.executemany("UPDATE outbox SET claimed_until = NULL WHERE id = ?", [(n,) for n in unsaid])
    if set_live:
        db.execute(
            "UPDATE conversations SET live_message_id = ? WHERE chat_id = ?", (live, chat_id)
        )


def _owed(rows: Sequence[Sequence[Any]]) -> list[Owed]:
    return [(int(r[0]), a) for r in rows if isinstance(a := parse_json(r[1]), dict)]


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
    """Adds a step's tallies in one statement: a row per counter, those of one counter summed
    first (one statement may not touch a row twice)."""
    day = db.clock().date().isoformat()
    summed: dict[tuple[str, str, str], int] = {}
    for t in tallies:
        key = (t.kind, t.detail, t.source)
        summed[key] = summed.get(key, 0) + t.n
    rows = [(day, *key, n) for key, n in summed.items() if n]
    if rows:
        db.execute(
            "INSERT INTO tallies (day, kind, detail, source, n) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
            + " ON CONFLICT (day, kind, detail, source) DO UPDATE SET n = tallies.n + excluded.n",
            [value for row in rows for value in row],
        )
