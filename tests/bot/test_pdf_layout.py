"""The PDF's own layout (``bot.render.pdftext``, ``Document.grid``): lines broken where fpdf2's
``multi_cell`` breaks them, tables placed where fpdf2's ``table`` places them, for the texts the
checklist really prints."""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pypdf import PdfReader

import messages
from bench.__main__ import random_answers
from bot.render.pdf import COLUMNS, TABLE_WIDTHS
from bot.render.pdfdoc import FONT, Document
from bot.render.pdftext import wrap
from bot.render.report import build_report
from flows.advice import evaluate
from flows.contract import canonical
from tests.bot.test_pdf import CFA_EVERYTHING

WIDEST: dict[str, Any] = {
    **CFA_EVERYTHING,
    "selling": "direct",
    "certified": "yes",
    "audit_cycle": "surveillance_window",
    "scope": "covers_all",
}
DAY = dt.date(2026, 11, 27)
EDGES = [
    "Le décret n°\u00a02021-1851 du 28\u00a0décembre 2021 s\u2019applique\u202f: voilà\u202f!",
    "Anticonstitutionnellementquelquechosedetreslongquinetientpas sur une ligne.",
    "https://www.exemple.fr/un/chemin/tres/long/vers/une/page/de/reservation?cabinet=1",
    "Des    espaces    multiples   puis\tune tabulation, et une fin   ",
    "Deux lignes\net une troisième\n",
    "\nUne ligne vide d\u2019abord",
    "",
    "   ",
]


def report_texts(report: dict[str, Any]) -> Iterator[str]:
    """Every text of a report the PDF lays out."""
    yield report["headline"]
    for part in ("reasons", "next_steps", "checklist_notes"):
        for item in report[part]:
            yield item["text"]
            yield item.get("source", "")
    for item in report["checklist"]:
        yield f"{item['number']}. {item['title']}"
        yield item["requirement"]
        yield "\n".join(f"☐ {p}" for p in item["proofs"])
        yield item["change"] or ""


def reports() -> Iterator[dict[str, Any]]:
    rng = random.Random(3)
    for lang in messages.LANGUAGES:
        yield build_report(evaluate(canonical(WIDEST), DAY), lang)
        for _ in range(3):
            yield build_report(evaluate(canonical(random_answers(rng)), DAY), lang)


def fpdf2_lines(doc: Document, text: str, width: float) -> list[str]:
    lines = doc.multi_cell(width, 5, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return lines


@pytest.mark.parametrize(("style", "size"), [("", 8), ("B", 9.5), ("", 11)])
def test_lines_break_where_fpdf2_breaks_them(style: str, size: float) -> None:
    doc = Document("fr")
    doc.add_page()
    doc.set_font(FONT, style, size)
    texts = {text for report in reports() for text in report_texts(report)} | set(EDGES)
    compared = 0
    for width in (*sorted(set(TABLE_WIDTHS)), 174):
        for text in sorted(texts):
            ours = wrap(text, doc.width_of(), width - 2 * doc.c_margin)
            if text:  # fpdf2 gives an empty text no line at all, and prints nothing either way
                assert ours == fpdf2_lines(doc, text, width), (width, text)
                compared += len(ours)
    doc.output()
    assert compared > 5_000, "real texts, most of them broken into several lines"


def test_every_word_is_kept_in_order_and_no_line_is_wider_than_its_room() -> None:
    doc = Document("en")
    doc.add_page()
    doc.set_font(FONT, "", 9)
    width = doc.width_of()
    for text in EDGES:
        for room in (8.0, 30.0, 120.0):
            lines = wrap(text, width, room)
            assert "".join("".join(lines).split()) == "".join(text.split())
            assert all(width(line.rstrip()) <= room + 1e-6 or len(line) == 1 for line in lines)
    doc.output()
    french = "Vos preuves\u202f: voici"
    assert wrap(french, width, width("Vos preuves\u202f:") + 0.01)[0] == "Vos preuves\u202f:", (
        "the narrow no-break space before a colon keeps it on its word's line"
    )


def placed_text(pdf: bytes) -> list[list[tuple[float, float, str]]]:
    """Each page's pieces of text with where they are printed (pypdf)."""
    pages: list[list[tuple[float, float, str]]] = []

    def visit(text: str, _cm: Any, tm: Any, _font: Any, _size: Any) -> None:
        if text.strip():
            pages[-1].append((round(tm[4], 1), round(tm[5], 1), text.strip()))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        pages.append([])
        page.extract_text(visitor_text=visit)
        pages[-1].sort()
    return pages


def two_ways(draw: Callable[[Document, bool], None]) -> tuple[bytes, bytes]:
    """A document drawn with ``Document.grid`` and the same one drawn with fpdf2's table."""
    made = []
    for ours in (True, False):
        doc = Document("fr")
        doc.day = DAY
        doc.add_page(orientation="L")
        draw(doc, ours)
        made.append(bytes(doc.output()))
    return made[0], made[1]


def fpdf2_table(
    doc: Document, widths: Any, rows: list[list[str]], line_height: float, align: Any
) -> None:
    with doc.table(
        col_widths=widths, text_align=align, line_height=line_height,
        first_row_as_headings=True, repeat_headings=1, padding=1,
    ) as table:  # fmt: skip
        for cells in rows:
            table.row(cells)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_a_grid_is_printed_where_fpdf2s_table_prints_it(lang: str) -> None:
    """The widest checklist's indicators in one table running over several landscape pages:
    each row whole on a page, the heading again on top of each, text where fpdf2 puts it; then
    a table with centred columns."""
    report = build_report(evaluate(canonical(WIDEST), DAY), lang)
    rows = [[messages.text(lang, "pdf", "column", name=n) for n in COLUMNS]]
    for item in report["checklist"]:
        proofs = "\n".join(f"☐ {p}" for p in item["proofs"])
        rows.append(
            [f"{item['number']}. {item['title']}", item["requirement"], proofs, "", "", "", ""]
        )
    figures = [["Critère", "Fait", "En partie", "Total"]] + [
        [item["criterion_title"], str(len(item["proofs"])), "0", "12"]
        for item in report["checklist"][:5]
    ]

    def draw(doc: Document, ours: bool) -> None:
        doc.para("Une ligne avant le tableau", size=9)
        doc.set_font(FONT, "", 8)
        if ours:
            doc.grid(TABLE_WIDTHS, rows, line_height=4)
        else:
            fpdf2_table(doc, TABLE_WIDTHS, rows, 4, "LEFT")
        doc.para("Une ligne après", size=9)
        doc.set_font(FONT, "", 9)
        widths = (98, 26, 26, 30)  # shares of the page's width, as the checklist gives them
        if ours:
            doc.grid(widths, figures, line_height=5, align="LCCC")
        else:
            fpdf2_table(doc, widths, figures, 5, ("LEFT", "CENTER", "CENTER", "CENTER"))

    ours, fpdf2s = two_ways(draw)
    pages = placed_text(ours)
    assert len(pages) >= 4, "the table runs over several pages"
    assert pages == placed_text(fpdf2s)
    texts = [{text for _, _, text in page} for page in pages]
    end = next(n for n, page in enumerate(texts) if "Une ligne après" in page)
    assert all(rows[0][0] in page for page in texts[: end + 1]), "the heading on every page"
    assert all("Critère" in page for page in texts[end:])


def test_a_heading_is_never_left_alone_at_the_bottom_of_a_page() -> None:
    """A table starting where its heading would fit but not its first row starts on the next
    page, as fpdf2's table does."""

    def draw(doc: Document, ours: bool) -> None:
        doc.para("Au-dessus", size=9)
        doc.set_font(FONT, "", 9)
        doc.set_y(doc.page_break_trigger - 9)  # room for the heading's 7 mm, not for a row too
        rows = [["Indicateur", "Statut"], ["1. Information du public\nsur deux lignes", "fait"]]
        if ours:
            doc.grid((200, 61), rows, line_height=5)
        else:
            fpdf2_table(doc, (200, 61), rows, 5, "LEFT")

    ours, fpdf2s = two_ways(draw)
    pages = placed_text(ours)
    assert pages == placed_text(fpdf2s)
    assert [{text for _, _, text in page if not text.startswith("Page")} for page in pages] == [
        {"Au-dessus"},
        {"Indicateur", "Statut", "1. Information du public", "sur deux lignes", "fait"},
    ]


def test_characters_the_font_lacks_are_not_named_in_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A name typed in another script (the fonts are cut to Latin) prints as empty boxes, and
    the log says so without the characters, which may be a person's name."""
    doc = Document("fr")
    doc.add_page()
    doc.para("Attestation de Иванов Пётр, signée 🖊")
    with caplog.at_level(logging.WARNING):
        doc.output()
    assert "lacks some characters" in caplog.text
    assert not set("ИвановПётр🖊") & set(caplog.text)
