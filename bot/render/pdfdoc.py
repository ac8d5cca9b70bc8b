"""The PDF page both documents share (the checklist, the dossier's index): A4, DejaVu Sans
embedded (French accents, typographic apostrophes and the euro sign everywhere), the colours,
headings, paragraphs and tables.

Paragraphs, headings and tables are laid out here, a line at a time (``bot.render.pdftext``
breaks the lines, ``FPDF.text`` prints each), where fpdf2's ``multi_cell`` and ``table`` would
place them with the settings used here. Those lay a text out a character at a time, and a table
twice: the widest checklist took 181 ms of CPU with them, 47 ms this way (37 of which any
document costs: the fonts)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import TTFFont

import messages
from bot.render.pdftext import wrap

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
INK = (33, 37, 41)
MUTED = (105, 110, 118)
ACCENT = (0, 84, 147)


class _GlyphsUnnamed(logging.Filter):
    """fpdf2 logs which characters its font lacks, and they may be what a person typed (the
    name or label of a piece of evidence): the line says that some are missing, not which."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "missing the following glyphs" in str(record.msg):
            record.msg = "a PDF font lacks some characters (drawn as empty boxes; not named)"
            record.args = ()
        return True


logging.getLogger("fpdf.output").addFilter(_GlyphsUnnamed())


class Document(FPDF):
    """An A4 page set in DejaVu Sans, its texts from one template (``texts``: its ``title``,
    ``footer`` and whatever ``t`` names), with headings kept with what follows them."""

    def __init__(self, lang: str, texts: str = "pdf") -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.lang = lang
        self.texts = texts
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(messages.text(lang, texts, "title"))
        self.set_creator("qualiopi-bot")
        self.set_lang(lang)
        self._word_units: dict[str, dict[str, float]] = {}

    day: dt.date | None = None

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        text = messages.text(self.lang, self.texts, "footer", number=self.page_no(), day=self.day)
        self.cell(0, 5, text, align="C")

    # --- helpers ---

    def t(self, macro: str, **data: Any) -> str:
        return messages.text(self.lang, self.texts, macro, **data)

    def heading(self, text: str, size: float = 13) -> None:
        if self.will_page_break(34):  # keep a heading with what follows it
            self.add_page(same=True)
        self.ln(3)
        self.set_font(FONT, "B", size)
        self.set_text_color(*ACCENT)
        self._lines(text, self.l_margin, 7)
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
        self._lines(text, self.l_margin + indent, height)
        self.set_text_color(*INK)

    def grid(
        self,
        widths: Sequence[float],
        rows: Sequence[Sequence[str]],
        *,
        line_height: float,
        align: Sequence[str] = (),
        padding: float = 1,
    ) -> None:
        """A table in the current font, as wide as the page between its margins (``widths``
        are the columns' shares of it, as fpdf2's ``col_widths``): every border drawn, the
        first row in bold and at the top of every page the table runs onto, each cell's text
        wrapped and centred in its row (``align`` per column: ``L`` or ``C``), a row never cut
        by a page break and the heading never alone at the bottom of a page."""
        widths = [width * self.epw / sum(widths) for width in widths]
        laid = [
            self._row(cells, widths, line_height, padding, bold=index == 0)
            for index, cells in enumerate(rows)
        ]
        if len(laid) > 1:
            self._break_before(laid[0].height + laid[1].height)
        for index, row in enumerate(laid):
            if self._break_before(row.height) and index:
                self._draw(laid[0], widths, align, line_height, padding)
            self._draw(row, widths, align, line_height, padding)
        self.x = self.l_margin

    # --- laying out ---

    def width_of(self) -> Callable[[str], float]:
        """How wide a text is in the current font and size (as fpdf2 measures it: its glyphs'
        advance widths, no shaping, no character spacing), each word measured once."""
        font = self.current_font
        assert isinstance(font, TTFFont), "the document's fonts are the embedded DejaVu Sans"
        units = self._word_units.setdefault(font.fontkey, {})
        widths, scale = font.cw, self.font_size_pt * 0.001 / self.k

        def width(text: str) -> float:
            found = units.get(text)
            if found is None:
                found = units[text] = sum(widths[ord(c)] for c in text)
            return found * scale

        return width

    def _break_before(self, height: float) -> bool:
        """A new page (same orientation) when ``height`` more would cross the bottom margin."""
        if self.y + height > self.page_break_trigger and self.accept_page_break:
            self.add_page(same=True)
            return True
        return False

    def _baseline(self, top: float, height: float) -> float:
        """Where a line ``height`` high starting at ``top`` sits, as ``cell`` places it."""
        return top + 0.5 * height + 0.3 * self.font_size

    def _lines(self, text: str, x: float, height: float) -> None:
        """``text`` from ``x`` to the right margin, a line ``height`` high at a time (what
        ``multi_cell(0, height, text)`` prints, the cell margin inside on each side)."""
        width = self.width_of()
        for line in wrap(text, width, self.w - self.r_margin - x - 2 * self.c_margin):
            self._break_before(height)
            if line:
                self.text(x + self.c_margin, self._baseline(self.y, height), line)
            self.y += height
        self.x = self.l_margin

    def _row(
        self,
        cells: Sequence[str],
        widths: Sequence[float],
        line_height: float,
        padding: float,
        *,
        bold: bool,
    ) -> _Row:
        self.set_font(style="B" if bold else "")
        width = self.width_of()
        lines = [
            wrap(text, width, room - 2 * padding) if text else []
            for text, room in zip(cells, widths, strict=True)
        ]
        height = max(len(cell) for cell in lines) * line_height + 2 * padding
        return _Row(lines, height, bold)

    def _draw(
        self,
        row: _Row,
        widths: Sequence[float],
        align: Sequence[str],
        line_height: float,
        padding: float,
    ) -> None:
        self.set_font(style="B" if row.bold else "")
        width = self.width_of()
        x, y = self.l_margin, self.y
        for column, (lines, room) in enumerate(zip(row.cells, widths, strict=True)):
            self.rect(x, y + row.height, room, -row.height)  # from its bottom, as fpdf2's table
            top = y + (row.height - len(lines) * line_height) / 2
            centred = column < len(align) and align[column] == "C"
            for line in lines:
                shift = (room - 2 * padding - width(line)) / 2 if centred else 0
                self.text(x + padding + shift, self._baseline(top, line_height), line)
                top += line_height
            x += room
        self.y = y + row.height
        self.set_font(style="")


@dataclass(frozen=True, slots=True)
class _Row:
    """A table row laid out: each cell's lines, the row's height, whether it is the heading."""

    cells: list[list[str]]
    height: float
    bold: bool
