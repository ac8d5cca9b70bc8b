"""The self-assessment as a person sees it: one indicator per screen, the readiness summary
with its action plan, the explanation of an indicator, and the reminders' texts.

Button data: ``chk:start`` (begin or resume), ``chk:<n>:done|partial|todo`` (a status for
indicator n), ``chk:<n>:back|skip|info`` (move, or explain), ``chk:sum`` (the summary),
``chk:later`` (stop half-way), ``chk:review``, ``chk:pdf``, ``chk:date``, ``chk:remind``,
``chk:noremind``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import messages
from bot.render.glossary import explanation_parts, terms_named
from bot.render.report import checklist_item
from bot.render.screens import Button, Screen, evaluation_of
from flows.advice import Evaluation
from flows.assessment import STATUSES, Readiness, readiness
from flows.referential import Referential
from flows.snapshot import Stored, as_snapshot

PLAN_SHOWN = 8
"""Actions listed in the chat's summary (all of them are in the PDF)."""
MOVES = ("back", "skip", "info")
COMMANDS = ("start", "sum", "later", "review", "pdf", "date", "remind", "noremind")


def _t(lang: str, macro: str, **data: Any) -> str:
    return messages.text(lang, "assessment", macro, **data)


def _day(lang: str, day: dt.date) -> str:
    return messages.text(lang, "labels", "date", day=day)


def readiness_of(
    stored: Stored, statuses: Mapping[int, str], today: dt.date, audit_on: dt.date | None
) -> tuple[Evaluation, Readiness]:
    """The evaluation of a result and the person's readiness against its indicators."""
    ev = evaluation_of(stored)
    return ev, readiness(ev.referential, ev.indicators, statuses, today=today, audit_on=audit_on)


def indicator_screen(
    stored: Stored, statuses: Mapping[int, str], number: int, attached: int = 0
) -> Screen:
    """One indicator to assess, with its three statuses, the moves, and its evidence
    (``attached``: how many pieces)."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    item = checklist_item(ev, number, lang)
    position = ev.indicators.index(number) + 1
    current = statuses.get(number)
    text = messages.call(
        lang,
        "assessment",
        "indicator",
        i=item,
        position=position,
        total=len(ev.indicators),
        current=current,
    )
    marks = [
        Button(("👉 " if s == current else "") + _t(lang, "status", code=s), f"chk:{number}:{s}")
        for s in STATUSES
    ]
    moves = (
        Button(_t(lang, "back_button"), f"chk:{number}:back"),
        Button(_t(lang, "skip_button"), f"chk:{number}:skip"),
        Button(_t(lang, "explain_button"), f"chk:{number}:info"),
    )
    stops = (
        Button(_t(lang, "summary_button"), "chk:sum"),
        Button(_t(lang, "later_button"), "chk:later"),
    )
    evidence = Button(
        messages.text(lang, "evidence", "add_button", count=attached), f"ev:{number}"
    )
    return Screen(text, (tuple(marks), moves, (evidence,), stops))


def action_title(ref: Referential, number: int, lang: str) -> str:
    """An action as a consultant reads it: "4. Analyse du besoin" (the short title, typeset)."""
    return f"{number}. {messages.typography(lang, ref.indicator(number).short_title[lang])}"


def _plan_items(ev: Evaluation, ready: Readiness, lang: str) -> list[dict[str, Any]]:
    ref = ev.referential
    return [
        {
            "number": a.number,
            "title": messages.typography(lang, ref.indicator(a.number).short_title[lang]),
            "status": a.status,
            "major_only": a.major_only,
            "due": _day(lang, a.due) if a.due else None,
        }
        for a in ready.plan
    ]


def figures(ready: Readiness) -> dict[str, int]:
    """The summary's counts, as the templates read them."""
    return {
        "percent": ready.percent,
        "done": ready.done,
        "partial": ready.partial,
        "todo": ready.todo,
        "total": len(ready.indicators),
        "assessed": ready.assessed,
        "unassessed": len(ready.indicators) - ready.assessed,
    }


def summary_html(
    stored: Stored,
    statuses: Mapping[int, str],
    today: dt.date,
    audit_on: dt.date | None,
    shown: int | None = PLAN_SHOWN,
) -> str:
    """The readiness summary: overall share in place, per criterion, the action plan."""
    return _summary(stored, statuses, today, audit_on, shown)[0]


def _summary(
    stored: Stored,
    statuses: Mapping[int, str],
    today: dt.date,
    audit_on: dt.date | None,
    shown: int | None,
) -> tuple[str, Readiness]:
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev, ready = readiness_of(snapshot, statuses, today, audit_on)
    ref = ev.referential
    criteria = [
        {
            "criterion": c.criterion,
            "title": messages.typography(lang, ref.criteria[c.criterion][lang]),
            "done": c.done,
            "total": c.total,
        }
        for c in ready.criteria
    ]
    plan = _plan_items(ev, ready, lang)
    listed = plan if shown is None else plan[:shown]
    cycle = snapshot.answers.get("audit_cycle")
    html = messages.call(
        lang,
        "assessment",
        "summary",
        r=figures(ready),
        criteria=criteria,
        plan=listed,
        more=len(plan) - len(listed),
        audit_on=_day(lang, audit_on) if audit_on else None,
        audit_range=_t(lang, "audit_range", kind=ev.next_audit, cycle=cycle),
    )
    return html, ready


def summary_screen(
    stored: Stored,
    statuses: Mapping[int, str],
    today: dt.date,
    audit_on: dt.date | None,
    reminders_on: bool,
) -> Screen:
    """The summary with its buttons: continue, go through again, PDF, date, reminders."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    html, ready = _summary(snapshot, statuses, today, audit_on, PLAN_SHOWN)
    html = messages.split_html(html)[0]  # fits already; a guard should a text grow
    left = len(ready.indicators) - ready.assessed
    rows: list[tuple[Button, ...]] = []
    if left:
        rows.append((Button(_t(lang, "continue_button", left=left), "chk:start"),))
    rows.append((Button(_t(lang, "pdf_button"), "chk:pdf"),))
    rows.append((Button(messages.text(lang, "evidence", "dossier_button"), "ev:list"),))
    rows.append(
        (
            Button(_t(lang, "date_button", known=audit_on is not None), "chk:date"),
            Button(
                _t(lang, "remind_button", on=reminders_on),
                "chk:noremind" if reminders_on else "chk:remind",
            ),
        )
    )
    rows.append(
        (
            Button(_t(lang, "review_button"), "chk:review"),
            Button(_t(lang, "result_button"), "res:summary"),
        )
    )
    return Screen(html, tuple(rows))


def explain_text(stored: Stored, number: int) -> str:
    """Explains an indicator: how the audit judges it, and the words its text uses."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    item = checklist_item(ev, number, lang)
    named = terms_named(" ".join([item["title"], item["requirement"], *item["proofs"]]))
    parts = [
        _t(lang, "explain_heading", number=number, title=item["title"]),
        _t(lang, "expected", expected=item["expected"], requirement=item["requirement"]),
        _t(lang, "how_judged", major_only=bool(item["major_only"])),
        *explanation_parts(lang, named),
    ]
    return messages.split_html(messages.join("\n\n", parts))[0]


def reminder_text(
    kind: str,
    stored: Stored,
    statuses: Mapping[int, str],
    today: dt.date,
    audit_on: dt.date | None,
) -> str | None:
    """A self-assessment reminder as it is sent then, or None when it has nothing to say
    (the assessment was finished; everything is in place)."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev, ready = readiness_of(snapshot, statuses, today, audit_on)
    data = {**figures(ready), "audit_on": _day(lang, audit_on) if audit_on else ""}
    if kind == "assess_continue":
        return None if ready.finished else _t(lang, "reminder_continue", r=data)
    if kind == "assess_gaps" and ready.plan:
        items = _plan_items(ev, ready, lang)[:PLAN_SHOWN]
        return messages.split_html(_t(lang, "reminder_gaps", r=data, items=items))[0]
    return None


def assessment_report(ev: Evaluation, assessment: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The self-assessment as the PDF reads it: figures, per criterion, the whole plan, and
    per indicator its status and suggested date."""
    statuses = {int(n): str(s) for n, s in assessment["statuses"].items()}
    today = dt.date.fromisoformat(assessment["today"])
    audit_on = (
        dt.date.fromisoformat(assessment["audit_on"]) if assessment.get("audit_on") else None
    )
    ready = readiness(ev.referential, ev.indicators, statuses, today=today, audit_on=audit_on)
    plan = _plan_items(ev, ready, lang)
    return {
        "figures": figures(ready),
        "criteria": [
            {"criterion": c.criterion, "done": c.done, "partial": c.partial, "total": c.total}
            for c in ready.criteria
        ],
        "plan": plan,
        "status": {n: _t(lang, "status_short", code=s) for n, s in ready.statuses.items()},
        "due": {a.number: a.due.strftime("%d/%m/%Y") for a in ready.plan if a.due},
        "audit_on": _day(lang, audit_on) if audit_on else None,
    }


def said_buttons(lang: str, macro: str, data: Mapping[str, Any]) -> tuple[tuple[Button, ...], ...]:
    """The buttons of a self-assessment message of its own: a date read back is confirmed
    (or typed again) by the person before it is used; a person stopping half-way can resume,
    or ask to be reminded."""
    if macro == "later":
        resume = Button(_t(lang, "resume_button"), "chk:start")
        if data["reminders"]:
            return ((resume,),)
        return ((resume, Button(_t(lang, "remind_later_button"), "chk:remind")),)
    if macro != "confirm_date":
        return ()
    day: dt.date = data["day"]
    return (
        (
            Button(messages.text(lang, "ui", "date_yes"), f"chk:day:{day.isoformat()}"),
            Button(messages.text(lang, "ui", "date_no"), "chk:date"),
        ),
    )


def said_text(lang: str, stored: Stored | None, macro: str, data: Mapping[str, Any]) -> str:
    """A self-assessment message of its own (``AssessReply.said``)."""
    if macro == "explain" and stored is not None:
        return explain_text(stored, int(data["number"]))
    if macro == "remind_set":
        items = [
            {"date": _day(lang, day), "what": _t(lang, "remind_what", kind=kind)}
            for day, kind in data["due"]
        ]
        return _t(lang, "remind_set", items=items)
    return _t(lang, macro, **data)
