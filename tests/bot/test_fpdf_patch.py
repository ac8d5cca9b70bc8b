"""patches/fpdf2-running-line-width.patch: fpdf2 keeps a line's width as a running sum while
it breaks lines (instead of measuring the line again before every character). The pages must
be the same as with the width measured each time, which is what fpdf2 does without it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fpdf import FPDF, line_break
from fpdf.enums import WrapMode

import messages
from bot.render.pdf import build_pdf
from bot.render.report import build_report
from bot.render.screens import answers_view
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


class MeasuredLine(line_break.CurrentLine):
    """fpdf2's line as it is without the patch: its width measured whole at every read."""

    @property
    def width(self) -> float:
        return self._measured_width()


def same_but_dates(pdf: bytes) -> bytes:
    """The document without its creation date and the file identifier made from it."""
    pdf = re.sub(rb"/CreationDate \(D:\d+Z\)", b"", pdf)
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", pdf)


def both_ways(monkeypatch: pytest.MonkeyPatch, make: Any) -> tuple[bytes, bytes]:
    running = same_but_dates(make())
    with monkeypatch.context() as m:
        m.setattr(line_break, "CurrentLine", MeasuredLine)
        measured = same_but_dates(make())
    return running, measured


def test_the_patch_is_applied() -> None:
    assert hasattr(line_break.CurrentLine, "_measured_width"), (
        "patches/apply runs after the install (make, the Dockerfile); after an fpdf2 upgrade, "
        "check whether the patch is still needed and redo it"
    )


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_the_widest_checklist_is_the_same_document(
    monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    def make() -> bytes:
        ev = evaluate(canonical(WIDEST), dt.date(2026, 11, 27))
        return build_pdf(build_report(ev, lang), answers_view(WIDEST, lang), ev.date, None)

    running, measured = both_ways(monkeypatch, make)
    assert running == measured
    assert len(running) > 40_000, "a long document: many lines broken"


@pytest.mark.parametrize("wrapmode", [WrapMode.WORD, WrapMode.CHAR])
@pytest.mark.parametrize("align", ["L", "J", "R"])
def test_soft_hyphens_nbsp_styles_and_long_words_break_the_same(
    monkeypatch: pytest.MonkeyPatch, wrapmode: WrapMode, align: str
) -> None:
    """The cases where the running sum is reset: a break at a soft hyphen or a space, trailing
    spaces trimmed (character wrapping), an NBSP counted as a space, styles changing within
    a line, a word longer than the line, a character spacing."""
    from bot.render.pdfdoc import FONT, FONT_DIR

    text = (
        "Le dé\u00adcret n\u00b0\u00a02021-1851 du 28\u00a0décembre 2021 s'ap\u00adplique : "
        "**les indicateurs 1 à 32** sont __vérifiés__ lors de l'audit initial ; "
        "Anticonstitutionnellementquelquechosedetreslongquinetientpas sur une ligne.   "
        "Fin.\u00a0\u00a0Encore    des    espaces   "
    ) * 3

    def make() -> bytes:
        doc = FPDF()
        doc.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        doc.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        doc.add_font(FONT, "I", str(FONT_DIR / "DejaVuSans.ttf"))
        doc.add_page()
        for width, size, spacing in ((60, 10, 0), (35, 12, 0.6), (110, 9, 0)):
            doc.set_font(FONT, "", size)
            doc.set_char_spacing(spacing)
            doc.multi_cell(width, 5, text, align=align, wrapmode=wrapmode, markdown=True)
        return bytes(doc.output())

    running, measured = both_ways(monkeypatch, make)
    assert running == measured
