"""Turns an evaluation into plain data for people and programs: JSON, text, templates."""

from __future__ import annotations

from typing import Any

import messages
from flows.advice import Evaluation
from flows.answers import has_option
from flows.checklist import proofs_for
from flows.contract import as_json
from flows.rules import Finding


def _finding(lang: str, template: str, finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "text": messages.text(lang, template, finding.code, **finding.data),
        "source": messages.typography(lang, finding.source[lang]),
        "uncertain": finding.uncertain,
    }


def checklist_item(ev: Evaluation, number: int, lang: str) -> dict[str, Any]:
    """One indicator of the checklist, as the templates read it."""
    ref = ev.referential
    ind = ref.indicator(number)

    def typeset(text: str) -> str:
        return messages.typography(lang, text)

    return {
        "number": number,
        "criterion": ind.criterion,
        "criterion_title": typeset(ref.criteria[ind.criterion][lang]),
        "title": typeset(ind.short_title[lang]),
        "requirement": typeset(ind.requirement[lang]),
        "proofs": [typeset(p) for p in proofs_for(ind, ev.answers, lang)],
        "deferred": number in ev.deferred_for_new_entrant,
        "major_only": ind.major_only,
        "change": typeset(ind.change[lang]) if ind.change else None,
        "expected": typeset(ind.expected[lang]) if ind.expected else None,
        "changed_at_next_audit": number in ev.changed_at_next_audit,
        "source": typeset(ind.source[lang]),
    }


def _changing_soon_items(ev: Evaluation, lang: str) -> list[dict[str, Any]]:
    """The person's indicators that the coming référentiel changes, each with its change."""
    soon = ev.changing_soon
    if soon is None:
        return []
    items = []
    for number in soon.indicators:
        ind = soon.referential.indicator(number)
        change = ind.change[lang] if ind.change else ""
        items.append(
            {
                "number": number,
                "title": messages.typography(lang, ind.short_title[lang]),
                "change": messages.typography(lang, change),
            }
        )
    return items


def _checklist(ev: Evaluation, lang: str) -> list[dict[str, Any]]:
    return [checklist_item(ev, number, lang) for number in ev.indicators]


def build_report(ev: Evaluation, lang: str) -> dict[str, Any]:
    """Returns the machine-readable result of the contract, texts in ``lang``."""
    ref = ev.referential
    soon = ev.changing_soon
    faf = has_option(ev.answers, "funders", "faf")
    return {
        "verdict": ev.verdict.value,
        "headline": messages.text(lang, "labels", "headline", verdict=ev.verdict.value, faf=faf),
        "categories": list(ev.categories),
        "indicators": list(ev.indicators),
        "deferred_for_new_entrant": list(ev.deferred_for_new_entrant),
        "referential": ref.id,
        "referential_label": messages.typography(lang, ref.label[lang]),
        "referential_reported_only": ref.reported_only,
        "referential_size": len(ref.indicators),
        "next_audit": ev.next_audit,
        "changed_at_next_audit": list(ev.changed_at_next_audit),
        "changing_soon": None
        if soon is None
        else {
            "referential": soon.referential.id,
            "from": soon.start.isoformat(),
            "indicators": list(soon.indicators),
        },
        "changing_soon_from": None
        if soon is None
        else messages.text(lang, "labels", "date", day=soon.start),
        "changing_soon_items": _changing_soon_items(ev, lang),
        "mission_checklist": ev.mission_checklist,
        "date": ev.date.isoformat(),
        "language": lang,
        "reasons": [_finding(lang, "reasons", f) for f in ev.reasons],
        "checklist_notes": [_finding(lang, "notes", f) for f in ev.checklist_notes],
        "next_steps": [_finding(lang, "steps", f) for f in ev.next_steps],
        "checklist": _checklist(ev, lang),
        "answers": as_json(ev.answers),
    }


def render_result_html(ev: Evaluation, lang: str, report: dict[str, Any] | None = None) -> str:
    """Renders the whole result in Telegram's HTML subset."""
    report = report if report is not None else build_report(ev, lang)
    return messages.render(lang, "result", r={**report, "day": ev.date})


def render_result_text(ev: Evaluation, lang: str, report: dict[str, Any] | None = None) -> str:
    """Renders the whole result as plain text for a terminal."""
    return messages.to_plain(render_result_html(ev, lang, report))
