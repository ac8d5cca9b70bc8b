"""CSV exports for the consultancy: UTF-8 with a BOM and ";" so a French spreadsheet opens them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bot.storage import Store

COLUMNS: dict[str, tuple[str, ...]] = {
    "leads": (
        "id", "created_at", "name", "phone", "email", "message", "language", "source",
        "verdict", "indicator_count", "answers",
    ),
    "questionnaires": (
        "id", "completed_at", "language", "source", "verdict", "indicator_count", "referential",
        "answers",
    ),
}  # fmt: skip
"""Exported columns: the chat id is left out on purpose (contact details are in the lead)."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@"):  # never let a spreadsheet run a typed formula
        text = "'" + text
    return text


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """Returns the rows as CSV bytes (UTF-8 with BOM, ";" separated, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        out = dict(row)
        if isinstance(out.get("answers"), str):
            answers = json.loads(out["answers"])
            out["answers"] = " | ".join(
                f"{k}={v if isinstance(v, str) else '+'.join(v)}" for k, v in answers.items()
            )
        writer.writerow([_cell(out.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


async def export_all(store: Store) -> dict[str, tuple[bytes, int]]:
    """Returns {name: (csv bytes, row count)} for leads and completed questionnaires."""
    out = {}
    for table, columns in COLUMNS.items():
        rows = await store.rows(table)
        out[table] = (to_csv(rows, columns), len(rows))
    return out
