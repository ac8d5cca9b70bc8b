"""The store both databases share: the per-chat step in one transaction, and every read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from bot.storage.db import Clock, Db
from bot.storage.evidence import count_evidence, evidence_files, load_evidence
from bot.storage.jobs import JobQueries
from bot.storage.records import (
    Change,
    DuplicateUpdate,
    Evidence,
    Owed,
    Record,
)
from bot.storage.rows import apply_change, hold_owed, load_record, parse_json, write_said
from bot.storage.schema import MIGRATIONS, check_current, migrate

T = TypeVar("T")

PERSONAL_TABLES = ("conversations", "questionnaires", "leads", "reminders", "assessments")
"""Every table holding something about a person (erased by /delete, shown by /privacy), with
``evidence`` (counted by piece, listed without its content). The ``outbox`` holds replies in
flight for a few seconds: erased with them, not listed."""
RECENT_UPDATES = 64
"""How many handled update ids a chat remembers, to refuse a second delivery of any of them."""


def is_handled(record: Record, update_id: int) -> bool:
    """Tells whether this update was already applied to the chat.

    Workers may receive a chat's updates out of order, so a newer handled update does not make
    an older one a duplicate: only the ids actually handled (the recent ones) do.
    """
    seen = record.meta.get("handled_updates")
    if not isinstance(seen, list):  # rows written before the list existed
        return record.last_update_id is not None and update_id <= record.last_update_id
    return update_id in seen or (len(seen) >= RECENT_UPDATES and update_id < min(seen))


def handled(record: Record, before: Record, update_id: int) -> Record:
    """Returns the record to save, remembering that ``update_id`` is now handled."""
    seen = before.meta.get("handled_updates")
    seen = seen if isinstance(seen, list) else []
    meta = {**record.meta, "handled_updates": [*seen, update_id][-RECENT_UPDATES:]}
    last = max(update_id, before.last_update_id or update_id, record.last_update_id or update_id)
    return replace(record, meta=meta, last_update_id=last)


class SQLStore(JobQueries):
    """The store, over a ``Db``; subclasses say how to get a connection."""

    postgres = False
    migrations: tuple[str, ...] = MIGRATIONS
    migrates = True
    """Migrate the schema on connecting; else only check it is current (MIGRATE_ON_START)."""
    clock: Clock
    """Where the store reads the time (given to the constructor; the real clock by default)."""

    def now(self) -> dt.datetime:
        """The store's current time (read from ``clock`` at each call)."""
        return self.clock()

    async def _run(self, work: Callable[[Db], T]) -> T:
        raise NotImplementedError

    def _migrate(self, db: Db) -> None:
        if self.migrates:
            migrate(db, self.migrations)
        else:
            check_current(db, self.migrations)

    async def open(self) -> None:
        """Connects, and creates or migrates the schema (fails early on a bad URL or path)."""
        await self._run(lambda db: None)

    async def schema_version(self) -> int:
        """Returns the schema version of the database."""
        return await self._run(
            lambda db: int(db.execute("SELECT version FROM schema_version").fetchone()[0])
        )

    async def update(
        self, chat_id: int, update_id: int, decide: Callable[[Record], tuple[Change | None, T]]
    ) -> T:
        """Runs one step for a chat under its lock and commits it (see ``Store.update``)."""
        return (await self._run(lambda db: self._step(db, chat_id, update_id, decide, None)))[0]

    async def step(
        self,
        chat_id: int,
        update_id: int,
        decide: Callable[[Record], tuple[Change | None, T]],
        lease: dt.timedelta,
    ) -> tuple[T, list[Owed]]:
        """One step and the replies it owes, in one transaction (see ``Store.step``)."""
        return await self._run(lambda db: self._step(db, chat_id, update_id, decide, lease))

    def _step(
        self,
        db: Db,
        chat_id: int,
        update_id: int,
        decide: Callable[[Record], tuple[Change | None, T]],
        lease: dt.timedelta | None,
    ) -> tuple[T, list[Owed]]:
        with db.pipelined():  # PostgreSQL: two round trips, the reads and the commit
            db.lock_chat(chat_id)
            record = load_record(db, chat_id)
            result, read_owed = self._decided(db, chat_id, update_id, record, decide, lease=lease)
        return result, read_owed()

    def _decided(
        self,
        db: Db,
        chat_id: int,
        update_id: int,
        record: Record,
        decide: Callable[[Record], tuple[Change | None, T]],
        *,
        lease: dt.timedelta | None,
    ) -> tuple[T, Callable[[], list[Owed]]]:
        """Decides the step on the record it read and writes what it changes through ``db``
        (inside the step's transaction, the chat locked); returns the result and how to read
        the owed replies held once the transaction is over."""
        if is_handled(record, update_id):
            raise DuplicateUpdate(update_id)
        change, result = decide(record)
        if change is not None:
            saved = handled(change.record, record, update_id)
            apply_change(db, chat_id, replace(change, record=saved), record)
        if lease is None:
            return result, list
        return result, hold_owed(db, chat_id, self.now(), lease)

    async def said(
        self,
        chat_id: int,
        owed: Sequence[int],
        live: int | None = None,
        *,
        set_live: bool = False,
        unsaid: Sequence[int] = (),
    ) -> None:
        """Deletes the owed replies said, and records the live message (``Store.said``)."""

        def work(db: Db) -> None:
            with db.pipelined():  # PostgreSQL: one round trip
                write_said(db, chat_id, owed, live=live, set_live=set_live, unsaid=unsaid)

        if owed or set_live or unsaid:
            await self._run(work)

    async def claim_owed_replies(self, lease: dt.timedelta) -> dict[int, list[Owed]]:
        """Holds the owed replies no worker holds, chat by chat (``Store.claim_owed_replies``)."""
        rows = await self._claim(
            "SELECT id, chat_id, action FROM outbox WHERE created_at <= ?"
            " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY chat_id, id",
            "UPDATE outbox SET claimed_until = ? WHERE id = ?",
            self.now().isoformat(timespec="seconds"),
            lease,
        )
        owed: dict[int, list[Owed]] = {}
        for r in rows:
            action = parse_json(r[2])
            if isinstance(action, dict):
                owed.setdefault(int(r[1]), []).append((int(r[0]), action))
        return owed

    async def record(self, chat_id: int) -> Record:
        """Returns what is stored about the chat."""
        return await self._run(lambda db: load_record(db, chat_id))

    async def set_live_message(self, chat_id: int, message_id: int | None) -> None:
        """Records which message shows the chat's current question (that column only)."""

        def work(db: Db) -> None:
            with db.pipelined():
                db.execute(
                    "UPDATE conversations SET live_message_id = ? WHERE chat_id = ?",
                    (message_id, chat_id),
                )

        await self._run(work)

    async def delete_person(self, chat_id: int) -> dict[str, int]:
        """Erases everything about a chat; returns how many rows of each table went."""

        def work(db: Db) -> dict[str, int]:
            counts = {}
            with db.transaction():
                for table in PERSONAL_TABLES:
                    cursor = db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
                    counts[table] = cursor.rowcount
                counts["evidence"] = count_evidence(db, chat_id)
                db.execute("DELETE FROM evidence WHERE chat_id = ?", (chat_id,))
                db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))
            return counts

        return await self._run(work)

    async def purge_before(self, cutoff: dt.datetime) -> dict[str, int]:
        """Erases personal data older than ``cutoff`` (tallies, being anonymous, stay)."""
        stamp = cutoff.astimezone(dt.UTC).isoformat(timespec="seconds")

        def work(db: Db) -> dict[str, int]:
            with db.transaction():
                return {
                    "conversations": db.execute(
                        "DELETE FROM conversations WHERE updated_at < ?", (stamp,)
                    ).rowcount,
                    "questionnaires": db.execute(
                        "DELETE FROM questionnaires WHERE completed_at < ?", (stamp,)
                    ).rowcount,
                    "leads": db.execute(
                        "DELETE FROM leads WHERE created_at < ?", (stamp,)
                    ).rowcount,
                    # Sent long ago, or never to be sent: its person's conversation is erased
                    # (a reminder without its person would reach a stranger to the bot's data).
                    "reminders": db.execute(
                        "DELETE FROM reminders WHERE (sent_at IS NOT NULL AND sent_at < ?)"
                        " OR chat_id NOT IN (SELECT chat_id FROM conversations)",
                        (stamp,),
                    ).rowcount,
                    "outbox": db.execute(
                        "DELETE FROM outbox WHERE created_at < ?", (stamp,)
                    ).rowcount,
                    "assessments": db.execute(
                        "DELETE FROM assessments WHERE chat_id NOT IN"
                        " (SELECT chat_id FROM conversations) AND updated_at < ?",
                        (stamp,),
                    ).rowcount,
                    # whole pieces only: every chunk of a piece has the same date
                    "evidence": db.execute(
                        "DELETE FROM evidence WHERE chat_id NOT IN"
                        " (SELECT chat_id FROM conversations) AND created_at < ?",
                        (stamp,),
                    ).rowcount,
                }

        return await self._run(work)

    async def tallies(
        self, since: dt.date | None, until: dt.date | None
    ) -> list[tuple[str, str, str, str, int]]:
        """Returns (day, kind, detail, source, n) rows in the period (inclusive)."""

        def work(db: Db) -> list[tuple[str, str, str, str, int]]:
            rows = db.execute(
                "SELECT day, kind, detail, source, n FROM tallies WHERE day >= ? AND day <= ?",
                ((since or dt.date.min).isoformat(), (until or dt.date.max).isoformat()),
            ).fetchall()
            return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]

        return await self._run(work)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        """Returns every row of ``leads`` or ``questionnaires``, oldest first."""
        if table not in ("leads", "questionnaires"):
            raise ValueError(table)

        def work(db: Db) -> list[dict[str, Any]]:
            cursor = db.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._run(work)

    async def evidence_files(self, chat_id: int) -> list[tuple[Evidence, bytes]]:
        """Returns the chat's evidence with its content, oldest first (for the dossier)."""
        return await self._run(lambda db: evidence_files(db, chat_id))

    async def dump_chat(self, chat_id: int) -> dict[str, Any]:
        """Returns everything stored about a chat, table by table."""

        def work(db: Db) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for table in PERSONAL_TABLES:
                cursor = db.execute(f"SELECT * FROM {table} WHERE chat_id = ?", (chat_id,))
                names = [d[0] for d in cursor.description]
                out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            out["evidence"] = [dataclasses.asdict(e) for e in load_evidence(db, chat_id)]
            return out

        return await self._run(work)

    async def close(self) -> None:
        """Releases the connections."""
