"""The dossier de preuves as a person sees it in the chat: one indicator's evidence (with a
🗑 per piece), and every indicator with its count, a number button each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import messages
from bot.render.report import checklist_item
from bot.render.screens import Button, Screen, evaluation_of
from flows.snapshot import Stored, as_snapshot


class Evidence(Protocol):
    """A piece of evidence as listed (``bot.storage.Evidence`` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def indicator(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def added_at(self) -> str: ...


PER_ROW = 5
"""Number buttons per row (a 360-px phone shows five short ones in full)."""
REMOVE_PER_ROW = 4


def _t(lang: str, macro: str, **data: Any) -> str:
    return messages.text(lang, "evidence", macro, **data)


def shown_day(evidence: Evidence) -> str:
    """The day a piece was attached, as the chat and the index show it (DD/MM/YYYY)."""
    try:
        return dt.date.fromisoformat(evidence.added_at[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def _item(e: Evidence) -> dict[str, Any]:
    return {"kind": e.kind, "name": e.name, "size": e.size, "label": e.label, "day": shown_day(e)}


def evidence_screen(
    stored: Stored,
    statuses: Mapping[int, str],
    evidence: Sequence[Evidence],
    number: int,
    *,
    suggest: bool = False,
) -> Screen:
    """An indicator's evidence: what is attached, how to add more; after the first piece of an
    indicator not in place, the statuses the person may now choose."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    item = checklist_item(evaluation_of(snapshot), number, lang)
    mine = [e for e in evidence if e.indicator == number]
    status = statuses.get(number)
    text = messages.call(
        lang,
        "evidence",
        "screen",
        i=item,
        items=[_item(e) for e in mine],
        suggest=suggest,
        status=status,
    )
    rows: list[tuple[Button, ...]] = []
    if suggest:
        rows.append(
            tuple(
                Button(
                    messages.text(lang, "assessment", "status", code=code), f"chk:{number}:{code}"
                )
                for code in ("done", "partial")
            )
        )
    removes = [
        Button(_t(lang, "remove_button", index=index), f"ev:{number}:rm:{e.id}")
        for index, e in enumerate(mine, start=1)
    ]
    rows.extend(
        tuple(removes[i : i + REMOVE_PER_ROW]) for i in range(0, len(removes), REMOVE_PER_ROW)
    )
    rows.append((Button(_t(lang, "back_button"), f"ev:{number}:back"),))
    more = [Button(_t(lang, "list_button"), "ev:list")]
    if evidence:
        more.append(Button(_t(lang, "dossier_button"), "ev:zip"))
    rows.append(tuple(more))
    return Screen(messages.split_html(text)[0], tuple(rows))


STATUS_MARKS = {"done": "✅", "partial": "🟡", "todo": "❌"}


def evidence_list(
    stored: Stored, statuses: Mapping[int, str], evidence: Sequence[Evidence]
) -> Screen:
    """Every indicator that concerns the person, its status and its evidence count."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    ref = ev.referential
    count: dict[int, int] = {}
    for e in evidence:
        count[e.indicator] = count.get(e.indicator, 0) + 1
    rows_data = [
        {
            "number": n,
            "title": messages.typography(lang, ref.indicator(n).short_title[lang]),
            "major_only": ref.indicator(n).major_only,
            "count": count.get(n, 0),
            "mark": STATUS_MARKS.get(statuses.get(n, ""), "▫️"),
        }
        for n in ev.indicators
    ]
    with_evidence = sum(1 for n in ev.indicators if count.get(n))
    text = messages.call(
        lang,
        "evidence",
        "list",
        rows=rows_data,
        with_evidence=with_evidence,
        total=len(ev.indicators),
        files=bool(evidence),
    )
    numbers = [
        Button(_t(lang, "number_button", number=n, count=count.get(n, 0)), f"ev:{n}")
        for n in ev.indicators
    ]
    rows = [tuple(numbers[i : i + PER_ROW]) for i in range(0, len(numbers), PER_ROW)]
    if evidence:
        rows.append((Button(_t(lang, "dossier_button"), "ev:zip"),))
    return Screen(messages.split_html(text)[0], tuple(rows))


def evidence_said(lang: str, macro: str, data: Mapping[str, Any]) -> str:
    """A short line of the dossier de preuves."""
    return _t(lang, macro, **data)
