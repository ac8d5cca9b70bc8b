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

from fpdf import FPDF
from fpdf.enums import XPos, YPos

import messages

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
INK = (33, 37, 41)
MUTED = (105, 110, 118)
ACCENT = (0, 84, 147)


class _Document(FPDF):
    def __init__(self, lang: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.lang = lang
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(messages.text(lang, "pdf", "title"))
        self.set_creator("qualiopi-bot")
        self.set_lang(lang)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, messages.text(self.lang, "pdf", "page", number=self.page_no()), align="C")

    # --- helpers ---

    def t(self, macro: str, **data: Any) -> str:
        return messages.text(self.lang, "pdf", macro, **data)

    def heading(self, text: str, size: float = 13) -> None:
        if self.will_page_break(34):  # keep a heading with what follows it
            self.add_page()
        self.ln(3)
        self.set_font(FONT, "B", size)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 7, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(1)

    def para(
        self,
        text: str,
        *,
        size: float = 10,
        bold: bool = False,
        color: tuple[int, ...] = INK,
        indent: float = 0,
        height: float = 5,
    ) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)


def build_pdf(
    report: dict[str, Any],
    answers_view: list[dict[str, Any]],
    day: dt.date,
    brand: Mapping[str, Any] | None = None,
) -> bytes:
    """Returns the checklist PDF for a report (``bot.report.build_report``) and its answers."""
    lang = report["language"]
    doc = _Document(lang)
    doc.add_page()
    doc.para(doc.t("title"), size=18, bold=True, color=ACCENT, height=9)
    doc.para(doc.t("subtitle", day=day, referential=report["referential_label"]), color=MUTED)

    doc.heading(doc.t("answers_heading"))
    for item in answers_view:
        doc.para(doc.t("answer_line", question=item["question"], answer=item["answer"]), size=9.5)

    doc.heading(doc.t("verdict_heading"))
    doc.para(report["headline"], size=12, bold=True)
    doc.ln(1)
    for reason in report["reasons"]:
        doc.para(f"• {reason['text']}")
        doc.para(doc.t("source", text=reason["source"]), size=8, color=MUTED, indent=4)

    doc.heading(doc.t("next_steps_heading"))
    for step in report["next_steps"]:
        doc.para(doc.t("step", text=step["text"], uncertain=step["uncertain"]))
        doc.para(doc.t("source", text=step["source"]), size=8, color=MUTED, indent=4)

    checklist = report["checklist"]
    missions = report["mission_checklist"]
    changed = [item for item in checklist if item["changed_at_next_audit"]]
    if changed:
        doc.heading(doc.t("changed_heading"))
        doc.para(doc.t("changed_intro"), size=9, color=MUTED)
        for item in changed:
            doc.para(f"• {item['number']}. {item['title']} — {item['change']}", size=9.5)
    doc.heading(
        doc.t(
            "checklist_heading",
            count=len(checklist),
            total=report["referential_size"],
            missions=missions,
        )
    )
    if not checklist:
        doc.para(doc.t("no_checklist"))
    for note in report["checklist_notes"]:
        doc.para(f"• {note['text']}", size=9)
    if checklist:
        doc.para(doc.t("legend", missions=missions), size=9, color=MUTED)
    for criterion, items in groupby(checklist, key=lambda i: i["criterion"]):
        group = list(items)
        doc.heading(doc.t("criterion", number=criterion, title=group[0]["criterion_title"]), 11)
        for item in group:
            _indicator_row(doc, item, missions)

    if brand:
        text = messages.to_plain(str(messages.call(lang, "followup", "brand", **brand))).strip()
        if text:
            doc.heading(text.splitlines()[0])
            for line in text.splitlines()[1:]:
                doc.para(line)
    doc.ln(4)
    doc.para(doc.t("disclaimer"), size=8, color=MUTED)
    return bytes(doc.output())


def _indicator_row(doc: _Document, item: dict[str, Any], missions: bool) -> None:
    """One indicator: a box to tick, its number and title (‼ when any gap is a major
    non-conformity), examples of evidence, notes."""
    if doc.will_page_break(22):
        doc.add_page()
    box = 4.2
    top = doc.get_y() + 0.6
    doc.set_draw_color(*INK)
    doc.set_line_width(0.3)
    doc.rect(doc.l_margin, top, box, box)
    major = " ‼" if item["major_only"] and not missions else ""
    doc.para(
        f"{item['number']}. {item['title']}{major}",
        size=10.5,
        bold=True,
        indent=box + 3,
        height=5.5,
    )
    doc.para(doc.t("to_prepare", proofs=item["proofs"]), size=9, indent=box + 3, height=4.6)
    if item["deferred"]:
        doc.para(doc.t("deferred"), size=8.5, color=ACCENT, indent=box + 3, height=4.4)
    if item["change"]:
        doc.para(
            doc.t("change", text=item["change"]), size=8.5, color=MUTED, indent=box + 3, height=4.4
        )
    doc.ln(1.5)


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
