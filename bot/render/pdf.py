"""The printable checklist: a real A4 PDF in the person's language (fpdf2).

fpdf2 is pure Python, well kept, and embeds a subset of a TrueType font, so French accents,
typographic apostrophes and the euro sign render everywhere. We ship DejaVu Sans (free
licence, in ``bot/render/fonts``) rather than rely on the machine's fonts.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from itertools import groupby
from pathlib import Path
from typing import Any

from fpdf.enums import XPos, YPos

import messages
from bot.render.pdfdoc import ACCENT, FONT, INK, MUTED
from bot.render.pdfdoc import Document as _Document

AUDIT_PATH = ("required", "recommended", "optional")
"""Verdicts whose PDF is an audit-preparation document; the others get one page."""
TABLE_WIDTHS = (44, 58, 70, 20, 24, 20, 25)
"""Indicator, what the auditor expects, evidence, then four columns to fill (A4 landscape)."""


def build_pdf(
    report: dict[str, Any],
    answers_view: list[dict[str, Any]],
    day: dt.date,
    brand: Mapping[str, Any] | None = None,
) -> bytes:
    """Returns the PDF for a report (``bot.render.report.build_report``) and its answers: an
    audit-preparation document (a summary page, a table per criterion with columns to fill,
    annexes), or one page saying what the result means when no audit concerns the person."""
    lang = report["language"]
    doc = _Document(lang)
    doc.day = day
    doc.add_page()
    _header(doc, report, day, brand)
    if report["verdict"] not in AUDIT_PATH:
        _one_pager(doc, report)
    else:
        _summary(doc, report)
        if "assessment" in report:
            _assessment(doc, report)
        _checklist(doc, report)
        _annexes(doc, report, answers_view)
    doc.ln(4)
    doc.para(doc.t("disclaimer"), size=8, color=MUTED)
    return bytes(doc.output())


def _header(
    doc: _Document, report: dict[str, Any], day: dt.date, brand: Mapping[str, Any] | None
) -> None:
    """Title, the consultancy (links clickable), fields for the organisation."""
    audit = report["verdict"] in AUDIT_PATH
    doc.para(
        doc.t("title" if audit else "title_result"), size=18, bold=True, color=ACCENT, height=9
    )
    doc.para(doc.t("subtitle", day=day, referential=report["referential_label"]), color=MUTED)
    if brand and brand.get("name"):
        doc.para(str(brand["name"]), size=11, bold=True)
        said = brand.get(f"presentation_{doc.lang}") or brand.get("presentation")
        if said:
            doc.para(str(said), size=9, color=MUTED)
    for key in ("contact_url", "booking_url"):
        url = (brand or {}).get(key)
        if url:
            doc.set_font(FONT, "", 9.5)
            doc.set_text_color(*ACCENT)
            doc.cell(0, 5, doc.t(key, url=url), link=str(url), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            doc.set_text_color(*INK)
    if report["verdict"] in AUDIT_PATH:
        doc.ln(2)
        for field in ("field_organisation", "field_nda"):
            doc.para(doc.t(field), size=10, height=7)
        audit_on = report.get("assessment", {}).get("audit_on")
        doc.para(doc.t("field_audit_date", day=audit_on), size=10, height=7)


def _summary(doc: _Document, report: dict[str, Any]) -> None:
    doc.heading(doc.t("verdict_heading"))
    doc.para(report["headline"], size=12, bold=True)
    for reason in report["reasons"]:
        doc.para(f"• {reason['text']}", size=9.5)
    steps = {s["code"]: s for s in report["next_steps"]}
    first = next((s for s in report["next_steps"] if not s["uncertain"]), None)
    if first is not None:
        doc.heading(doc.t("first_step_heading"), 11)
        doc.para(first["text"], size=9.5)
    if "how_audits_judge" in steps:
        doc.heading(doc.t("judging_heading"), 11)
        body = messages.text(doc.lang, "steps", "judging_body")  # the step, less its title
        doc.para(body[:1].upper() + body[1:], size=9.5)
    # what changed comes last: for a CFA it may run onto the next page
    changed = [item for item in report["checklist"] if item["changed_at_next_audit"]]
    if changed:
        doc.heading(doc.t("changed_heading"), 11)
        doc.para(doc.t("changed_summary"), size=8.5, color=MUTED)
        for item in changed:
            doc.para(_change_line(item), size=9.5)
    if report["changing_soon"]:
        doc.heading(doc.t("soon_heading", day=report["changing_soon_from"]), 11)
        doc.para(doc.t("soon_intro"), size=8.5, color=MUTED)
        for item in report["changing_soon_items"]:
            doc.para(doc.t("soon_item", **item), size=9.5)


def _change_line(item: dict[str, Any]) -> str:
    """One indicator and what the 2026 text changed in it, as a line of the PDF."""
    return f"• {item['number']}. {item['title']} — {item['change']}"


def _assessment(doc: _Document, report: dict[str, Any]) -> None:
    """A page of the self-assessment: readiness, a table per criterion, the whole plan as a
    table to tick off."""
    own = report["assessment"]
    titles = {i["criterion"]: i["criterion_title"] for i in report["checklist"]}
    doc.add_page()
    doc.heading(doc.t("assessment_heading", f=own["figures"]))
    doc.para(doc.t("assessment_figures", f=own["figures"], audit_on=own["audit_on"]), size=9.5)
    doc.ln(2)
    doc.set_font(FONT, "", 9)
    rows = [[doc.t("readiness_column", name=n) for n in READINESS_COLUMNS]]
    for c in own["criteria"]:
        name = f"{c['criterion']}. {titles[c['criterion']]}"
        rows.append([name, *(str(value) for value in (c["done"], c["partial"], c["total"]))])
    doc.grid((98, 26, 26, 30), rows, line_height=5, align="LCCC")
    if not own["plan"]:
        return
    doc.heading(doc.t("plan_heading"), 11)
    doc.para(doc.t("plan_legend"), size=8.5, color=MUTED)
    doc.set_font(FONT, "", 9)
    rows = [[doc.t("plan_column", name=n) for n in PLAN_COLUMNS]]
    for a in own["plan"]:
        rows.append(
            [
                f"{'‼ ' if a['major_only'] else ''}{a['number']}. {a['title']}",
                own["status"][a["number"]],
                own["due"].get(a["number"], ""),
                "☐",
            ]
        )
    doc.grid((105, 25, 35, 15), rows, line_height=5, align="LLLC")


READINESS_COLUMNS = ("criterion", "done", "partial", "total")
PLAN_COLUMNS = ("indicator", "status", "due", "done")


def _checklist(doc: _Document, report: dict[str, Any]) -> None:
    """One table per criterion on landscape pages, each example of evidence with its box."""
    checklist = report["checklist"]
    missions = report["mission_checklist"]
    doc.add_page(orientation="L")
    doc.heading(
        doc.t(
            "checklist_heading",
            count=len(checklist),
            total=report["referential_size"],
            missions=missions,
        )
    )
    for note in report["checklist_notes"]:
        doc.para(f"• {note['text']}", size=8.5)
    doc.para(doc.t("legend", missions=missions), size=8.5, color=MUTED)
    for criterion, items in groupby(checklist, key=lambda i: i["criterion"]):
        group = list(items)
        doc.heading(doc.t("criterion", number=criterion, title=group[0]["criterion_title"]), 11)
        doc.set_font(FONT, "", 8)
        own = report.get("assessment", {})
        rows = [[doc.t("column", name=n) for n in COLUMNS]]
        for item in group:
            title = f"{item['number']}. {item['title']}"
            title += " ‼" if item["major_only"] and not missions else ""
            marks = [doc.t("deferred_short")] if item["deferred"] else []
            if item["change"]:  # in the summary when the next audit checks it, else the annex
                marks.append(doc.t("changed_short", in_summary=item["changed_at_next_audit"]))
            number = item["number"]
            rows.append(
                [
                    "\n".join([title, *marks]),
                    item["requirement"],
                    "\n".join(f"☐ {p}" for p in item["proofs"]),
                    own.get("status", {}).get(number, ""),
                    "",
                    own.get("due", {}).get(number, ""),
                    "",
                ]
            )
        doc.grid(TABLE_WIDTHS, rows, line_height=4)


COLUMNS = ("indicator", "expects", "evidence", "status", "owner", "due", "where")


def _annexes(doc: _Document, report: dict[str, Any], answers_view: list[dict[str, Any]]) -> None:
    doc.add_page(orientation="P")
    doc.heading(doc.t("next_steps_heading"))
    for step in report["next_steps"]:
        doc.para(doc.t("step", text=step["text"], uncertain=step["uncertain"]), size=9.5)
        doc.para(doc.t("source", text=step["source"]), size=7.5, color=MUTED, indent=4)
    doc.heading(doc.t("reasons_heading"))
    for reason in report["reasons"]:
        doc.para(doc.t("source", text=reason["source"]), size=7.5, color=MUTED)
    changes = [item for item in report["checklist"] if item["change"]]
    if changes:
        doc.heading(doc.t("changes_annex_heading"))
        doc.para(doc.t("changed_intro"), size=8.5, color=MUTED)
        for item in changes:
            doc.para(_change_line(item), size=9)
    doc.heading(doc.t("answers_heading"))
    for item in answers_view:
        doc.para(doc.t("answer_line", question=item["question"], answer=item["answer"]), size=9)


def _one_pager(doc: _Document, report: dict[str, Any]) -> None:
    """What the result means for a person no audit concerns."""
    doc.heading(doc.t("meaning_heading"))
    doc.para(report["headline"], size=12, bold=True)
    for reason in report["reasons"]:
        doc.para(f"• {reason['text']}", size=9.5)
        doc.para(doc.t("source", text=reason["source"]), size=7.5, color=MUTED, indent=4)
    doc.heading(doc.t("next_steps_heading"), 11)
    for step in report["next_steps"]:
        doc.para(doc.t("step", text=step["text"], uncertain=step["uncertain"]), size=9.5)
    if report["checklist"]:  # a subcontractor: the indicators its missions touch
        count, total = len(report["checklist"]), report["referential_size"]
        doc.heading(doc.t("checklist_heading", count=count, total=total, missions=True), 11)
        titles = ", ".join(f"{i['number']}. {i['title']}" for i in report["checklist"])
        doc.para(titles, size=8.5)


def write_pdf(path: Path, content: bytes) -> None:
    """Writes the PDF atomically (a reader never sees half a file), with the usual permissions."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
