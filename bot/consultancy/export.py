"""CSV exports for the consultancy: UTF-8 with a BOM and ";" so a French spreadsheet opens them;
one column per question, answers and verdicts in words of the consultancy's language, times in
its time zone, and a status column for the consultant to fill."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import messages
from bot.consultancy.phone import for_sheet
from bot.render.assessment import action_title
from bot.render.screens import label
from bot.storage import Store
from flows.contract import QUESTION_IDS
from flows.referential import NoReferentialError, referential_on

COLUMNS: dict[str, tuple[str, ...]] = {
    "leads": (
        "id", "created_at", "status", "name", "phone", "email", "message", "language",
        "source", "verdict", "indicator_count", "readiness", "first_actions",
    ),
    "questionnaires": (
        "id", "completed_at", "language", "source", "verdict", "indicator_count", "referential",
    ),
}  # fmt: skip
"""Exported columns before one per question; the chat id is left out on purpose (contact
details are in the lead)."""

TIMES = ("created_at", "completed_at")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@"):  # never let a spreadsheet run a typed formula
        text = "'" + text
    return text


def _local(stamp: str | None, zone: ZoneInfo) -> str | None:
    if not stamp:
        return stamp
    moment = dt.datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _answer(question: str, value: Any, lang: str) -> str:
    if value is None:
        return ""
    options = [value] if isinstance(value, str) else list(value)
    return ", ".join(label(lang, question, o) for o in options)


def _actions(value: Any, created_at: str | None, lang: str) -> str:
    """The lead's first actions as the consultant reads them ("4. Analyse du besoin ; 6. …"),
    titled by the référentiel in force when the lead came; the numbers alone if none was."""
    numbers = json.loads(value) if isinstance(value, str) else value
    if not numbers:
        return ""
    try:
        day = dt.datetime.fromisoformat(created_at).date() if created_at else dt.date.today()
        ref = referential_on(day)
    except (ValueError, NoReferentialError):
        return ", ".join(str(n) for n in numbers)
    titled = [action_title(ref, n, lang) if n in ref.numbers else str(n) for n in numbers]
    return messages.typography(lang, (" ; " if lang == "fr" else "; ").join(titled))


def to_csv(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], lang: str, zone: ZoneInfo
) -> bytes:
    """Returns the rows as CSV bytes (UTF-8 with BOM, ";" separated, CRLF), answers spread
    over one column per question."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    header = [messages.text(lang, "stats", "csv_column", name=c) for c in columns]
    header += [messages.text(lang, "questions", "short", question=q) for q in QUESTION_IDS]
    writer.writerow(header)
    for row in rows:
        out = dict(row)
        if out.get("first_actions"):
            out["first_actions"] = _actions(out["first_actions"], out.get("created_at"), lang)
        for key in TIMES:
            if key in out:
                out[key] = _local(out[key], zone)
        if out.get("verdict"):
            out["verdict"] = messages.text(lang, "stats", "verdict", verdict=out["verdict"])
        answers = json.loads(out["answers"]) if isinstance(out.get("answers"), str) else {}
        if out.get("phone"):
            out["phone"] = for_sheet(out["phone"]) or out["phone"]
        cells = [_cell(out.get(c)) for c in columns]
        cells += [_cell(_answer(q, answers.get(q), lang)) for q in QUESTION_IDS]
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8-sig")


async def export_all(
    store: Store, lang: str = "fr", zone: str = "Europe/Paris"
) -> dict[str, tuple[bytes, int]]:
    """Returns {name: (csv bytes, row count)} for leads and completed questionnaires."""
    out = {}
    for table, columns in COLUMNS.items():
        rows = await store.rows(table)
        out[table] = (to_csv(rows, columns, lang, ZoneInfo(zone)), len(rows))
    return out
