"""The dossier de preuves in the database: one table, ``evidence``, a row per chunk of each
piece (``part`` 0, 1, …), each row carrying what the listing shows. Chunks keep every row
small enough for either database's comfort, and several workers read the same files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.storage.db import Db
from bot.storage.records import Evidence, NewEvidence

CHUNK = 512 * 1024
"""Bytes per row of content."""

_LISTED = "evidence_id, indicator, kind, name, label, mime, size, created_at"


def _evidence(row: Sequence[object]) -> Evidence:
    return Evidence(
        id=int(str(row[0])),
        indicator=int(str(row[1])),
        kind=str(row[2]),
        name=str(row[3]),
        label=str(row[4]),
        mime=str(row[5]),
        size=int(str(row[6])),
        added_at=str(row[7]),
    )


def load_evidence(db: Db, chat_id: int) -> tuple[Evidence, ...]:
    """The chat's evidence as listed, oldest first."""
    return listed_evidence(evidence_query(db, chat_id))


def evidence_query(db: Db, chat_id: int) -> Any:
    """Sends the query of the chat's evidence listing; returns its cursor (``listed_evidence``
    reads it)."""
    return db.execute(
        f"SELECT {_LISTED} FROM evidence WHERE chat_id = ? AND part = 0 ORDER BY evidence_id",
        (chat_id,),
    )


def listed_evidence(cursor: Any) -> tuple[Evidence, ...]:
    return tuple(_evidence(r) for r in cursor.fetchall())


def add_evidence(db: Db, chat_id: int, new: NewEvidence) -> None:
    """Stores a piece of evidence in chunks (inside the step's transaction)."""
    number = new.id
    now = new.added_at or db.now_iso()
    content = new.content
    parts = [content[i : i + CHUNK] for i in range(0, len(content), CHUNK)] or [b""]
    db.executemany(
        f"INSERT INTO evidence (chat_id, {_LISTED}, part, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (chat_id, number, new.indicator, new.kind, new.name, new.label, new.mime,
             len(content), now, index, part)
            for index, part in enumerate(parts)
        ],
    )  # fmt: skip


def remove_evidence(db: Db, chat_id: int, numbers: Sequence[int]) -> None:
    """Erases pieces of evidence, all their chunks."""
    db.executemany(
        "DELETE FROM evidence WHERE chat_id = ? AND evidence_id = ?",
        [(chat_id, n) for n in numbers],
    )


def evidence_files(db: Db, chat_id: int) -> list[tuple[Evidence, bytes]]:
    """Every piece of the chat's evidence with its content put back together."""
    listed = {e.id: e for e in load_evidence(db, chat_id)}
    content: dict[int, list[bytes]] = {n: [] for n in listed}
    for number, data in db.execute(
        "SELECT evidence_id, data FROM evidence WHERE chat_id = ? ORDER BY evidence_id, part",
        (chat_id,),
    ).fetchall():
        content.setdefault(int(number), []).append(bytes(data))
    return [(listed[n], b"".join(content[n])) for n in listed]


def count_evidence(db: Db, chat_id: int) -> int:
    """How many pieces of evidence the chat holds."""
    row = db.execute(
        "SELECT COUNT(*) FROM evidence WHERE chat_id = ? AND part = 0", (chat_id,)
    ).fetchone()
    return int(row[0])
