"""The result as a person reads it on a phone: a short summary first, details on demand.

The summary (at most ``SUMMARY_LIMIT`` characters) says the verdict, the decisive reasons, how
many indicators concern the person, the one thing to do first and the 2026 caveat once. Its
buttons open one screen per criterion (``res:<n>``), the reasons with their sources
(``res:why``), the next steps (``res:steps``) and, for a certified provider, what the 2026
text changed for it (``res:changed``), each edited in place, with ``res:summary`` to
come back. A screen longer than a Telegram message is cut into pages (``res:<view>:<page>``).
The whole result, as one text, stays in the PDF and the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import messages
from bot.render.report import build_report
from bot.render.screens import (
    CRITERIA,
    MAX_PAGES,
    Button,
    Screen,
    evaluation_of,
    label,
    result_buttons,
)
from flows.rules import CERTIFICATION_PATH
from flows.snapshot import Snapshot, Stored, as_snapshot

SUMMARY_LIMIT = 1500
"""The summary fits a phone screen or two (Telegram's limit is 4,096)."""
TOP_REASONS = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s")


def _first_sentence(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {**finding, "text": _SENTENCE.split(finding["text"], maxsplit=1)[0]}


def _assumed(snapshot: Snapshot) -> list[dict[str, str]]:
    """The answers given for "I don't know", as the person reads them."""
    answers, lang = snapshot.answers, snapshot.lang
    return [
        {
            "question": messages.text(lang, "questions", "short", question=q),
            "answer": label(lang, q, answer),
        }
        for q in snapshot.assumed
        if isinstance(answer := answers.get(q), str)
    ]


def _summary_html(report: dict[str, Any], lang: str, hint: bool = True) -> str:
    """The summary, shortened until it fits: fewer reasons, then first sentences only;
    without ``hint``, the line about its buttons is left out."""
    reasons = sorted(report["reasons"], key=lambda x: x["uncertain"])[:TOP_REASONS]
    action = next((x for x in report["next_steps"] if not x["uncertain"]), None)
    major = sum(1 for i in report["checklist"] if i["major_only"])

    def call(macro: str, **data: Any) -> str:
        return messages.call(lang, "result_views", macro, **data)

    def render(chosen: list[dict[str, Any]], step: dict[str, Any] | None) -> str:
        blocks = [
            call("summary_reasons", r=report, reasons=chosen),
            call("summary_count", r=report, major=major) if report["checklist"] else "",
            call("summary_assumed", r=report) if report["assumed"] else "",
            call("summary_changed", r=report) if report["changed_at_next_audit"] else "",
            call("summary_soon", r=report) if report["changing_soon"] else "",
            call("summary_action", action=step) if step else "",
            call("summary_caveat")
            if report["referential_reported_only"] and report["checklist"]
            else "",
            (call("summary_hint") if report["checklist"] else call("summary_hint_none"))
            if hint
            else "",
        ]
        return messages.join("\n\n", (b for b in blocks if b))

    attempts = [(reasons[:n], action) for n in range(len(reasons), 0, -1)]
    attempts += [([_first_sentence(reasons[0])], action and _first_sentence(action))]
    attempts += [([_first_sentence(reasons[0])], None)]
    for chosen, step in attempts:
        html = render(chosen, step)
        if messages.telegram_length(html) <= SUMMARY_LIMIT:
            return html
    return messages.split_html(html, SUMMARY_LIMIT)[0]


def _criteria(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in report["checklist"]:
        groups.setdefault(str(item["criterion"]), []).append(item)
    return groups


def _view_html(report: dict[str, Any], lang: str, view: str) -> str | None:
    if view == "why":
        return messages.call(lang, "result_views", "why", r=report)
    if view == "steps":
        return messages.call(lang, "result_views", "steps", r=report)
    if view == "changed":
        changed = [i for i in report["checklist"] if i["changed_at_next_audit"]]
        return messages.call(lang, "result_views", "changed", items=changed) if changed else None
    items = _criteria(report).get(view)
    if not items:
        return None
    return messages.call(
        lang,
        "result_views",
        "criterion",
        number=view,
        title=items[0]["criterion_title"],
        items=items,
        missions=report["mission_checklist"],
    )


def _button(lang: str, macro: str, data: str, **values: Any) -> Button:
    return Button(messages.text(lang, "result_views", macro, **values), data)


def _criterion_buttons(
    report: dict[str, Any], lang: str, but: str | None = None
) -> list[tuple[Button, ...]]:
    """The criteria's buttons, two to a row, each naming its criterion (``but``: the one
    shown, left out)."""
    criteria = [
        _button(lang, "criterion_button", f"res:{n}", number=n, count=len(items))
        for n, items in _criteria(report).items()
        if n != but
    ]
    return [tuple(criteria[i : i + 2]) for i in range(0, len(criteria), 2)]


def _summary_buttons(report: dict[str, Any], lang: str) -> tuple[tuple[Button, ...], ...]:
    rows = _criterion_buttons(report, lang)
    if report["changed_at_next_audit"]:
        count = len(report["changed_at_next_audit"])
        rows.append((_button(lang, "changed_button", "res:changed", count=count),))
    rows.append(
        (_button(lang, "why_button", "res:why"), _button(lang, "steps_button", "res:steps"))
    )
    if report["verdict"] in CERTIFICATION_PATH and not report["mission_checklist"]:
        rows.insert(0, (Button(messages.text(lang, "assessment", "start_button"), "chk:start"),))
    return (*rows, *result_buttons(lang))


SUMMARY = "result"
"""The ``kind`` of the result's summary screen."""


def left_result(stored: Stored) -> str:
    """The summary of a result the person has left, as its message keeps it once its buttons
    are gone: what it said, without the line about the buttons."""
    snapshot = as_snapshot(stored)
    ev = evaluation_of(snapshot)
    report = {**build_report(ev, snapshot.lang), "day": ev.date, "assumed": _assumed(snapshot)}
    return _summary_html(report, snapshot.lang, hint=False)


def result_view(stored: Stored, view: str = "summary", page: int = 0) -> Screen:
    """Returns one screen of the result; an unknown view or page gives the summary."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    report = {**build_report(ev, lang), "day": ev.date, "assumed": _assumed(snapshot)}
    html = _view_html(report, lang, view) if view != "summary" else None
    if html is None or page >= len(pages := messages.split_html(html)):
        return Screen(_summary_html(report, lang), _summary_buttons(report, lang), kind=SUMMARY)
    row = [_button(lang, "summary_button", "res:summary")]
    if page + 1 < min(len(pages), MAX_PAGES):
        row.append(_button(lang, "more_button", f"res:{view}:{page + 1}"))
    others = _criterion_buttons(report, lang, but=view) if view in CRITERIA else []
    return Screen(pages[page], (tuple(row), *others))
