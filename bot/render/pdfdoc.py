"""The PDF page both documents share (the checklist, the dossier's index): A4, DejaVu Sans
embedded (French accents, typographic apostrophes and the euro sign everywhere), the colours,
headings and paragraphs."""

from __future__ import annotations

import datetime as dt
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
