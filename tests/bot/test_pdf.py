"""The printable checklist: read back, every expected indicator and the verdict are in it."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

import messages
from bot.cli import main
from bot.render.documents import result_pdf
from bot.render.screens import evaluation_of

CFA_EVERYTHING: dict[str, Any] = {
    "role": "organisation",
    "activities": ["training", "skills_assessment", "vae", "apprenticeship"],
    "selling": "both",
    "funders": ["opco", "cpf", "companies_own_budget"],
    "cpf_subcontracting": "yes",
    "micro_enterprise": "no",
    "certifying": "yes",
    "long_courses": "yes",
    "work_based": "alternance",
    "uses_subcontractors": "yes",
    "certified": "no",
    "stage": "new_entrant",
    "sites": "several",
}


def read(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
@pytest.mark.parametrize("day", ["2026-10-31", "2026-11-26"])
def test_the_pdf_holds_the_verdict_and_every_indicator(lang: str, day: str) -> None:
    snapshot = {"v": 1, "state": "result", "lang": lang, "date": day, "answers": CFA_EVERYTHING}
    pdf = result_pdf(snapshot)
    assert pdf.startswith(b"%PDF-")
    text, pages = read(pdf)
    flat = " ".join(text.split())
    ev = evaluation_of(snapshot)
    headline = messages.text(lang, "labels", "headline", verdict=ev.verdict.value)
    assert " ".join(headline.split()) in flat
    for number in ev.indicators:
        title = messages.typography(lang, ev.referential.indicator(number).short_title[lang])
        assert f"{number}. {title}" in flat, number
    assert ("Critère 3" if lang == "fr" else "Criterion 3") in text, "accents survive the font"
    assert pages >= 3
    page_word = "sur" if lang == "fr" else "of"
    assert re.search(rf"Page {pages} {page_word} {pages}", text), "numbered pages"


def test_evaluate_writes_a_pdf(tmp_path: Path) -> None:
    out = tmp_path / "checklist.pdf"
    status = main(
        ["evaluate", "--format", "pdf", "--out", str(out), "--lang", "en"],
        stdin=io.StringIO(json.dumps(CFA_EVERYTHING)),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert status == 0
    text, _ = read(out.read_bytes())
    assert "Yes: Qualiopi certification is compulsory for you." in " ".join(text.split())


def test_evaluate_pdf_needs_a_target_and_writes_nothing_on_bad_answers(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["evaluate", "--format", "pdf"], io.StringIO("{}"), io.StringIO(), err) == 2
    out = tmp_path / "x.pdf"
    status = main(
        ["evaluate", "--format", "pdf", "--out", str(out)],
        io.StringIO('{"role": "x"}'),
        io.StringIO(),
        io.StringIO(),
    )
    assert status == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_day_is_kept_in_the_pdf() -> None:
    snapshot = {
        "v": 1,
        "state": "result",
        "lang": "fr",
        "date": "2026-10-31",
        "answers": CFA_EVERYTHING,
    }
    text, _ = read(result_pdf(snapshot))
    assert "31 octobre 2026" in text
    assert evaluation_of(snapshot).date == dt.date(2026, 10, 31)


async def test_a_dead_pdf_worker_is_replaced_and_the_pdf_still_comes() -> None:
    """A worker process killed (out of memory, an operator) broke every later PDF: the pool
    is now rebuilt and the PDF tried again."""
    import os
    import signal

    from bot.render import workers
    from bot.render.documents import Checklist

    snapshot = {"v": 1, "state": "result", "lang": "fr", "date": "2026-11-26",
                "answers": CFA_EVERYTHING}  # fmt: skip
    day = dt.date(2026, 11, 26)
    assert (await workers.render_pdf(Checklist.of(snapshot, day))).startswith(b"%PDF-")
    pool = workers._executor()
    for process in list(pool._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join(5)
    content = await workers.render_pdf(Checklist.of({**snapshot, "lang": "en"}, day))
    assert content.startswith(b"%PDF-")
    assert workers.pdf_workers_ok()
    assert workers._executor() is not pool


def test_pdf_workers_yield_the_cpu_to_the_bot() -> None:
    """A PDF is background work: its workers run at a lower priority than the process that
    answers taps, so that on a busy machine taps are served first."""
    import os

    from bot.render import workers

    expected = min(19, os.nice(0) + workers.PDF_NICENESS)
    assert workers._executor().submit(os.nice, 0).result(timeout=30) == expected


def _loaded_in_this_process() -> tuple[bool, int]:
    """Whether fpdf2 is loaded here, and how many templates are compiled (run in a worker)."""
    import sys

    return "fpdf" in sys.modules, len(messages._ENV.cache or {})


def test_the_first_pdf_worker_starts_with_the_bot_and_is_ready_before_any_pdf() -> None:
    """The first result after a start waited 0.85–1.1 s for its PDF (a process started, fpdf2
    imported, the templates compiled), 60–130 ms once warm: the bot starts one worker as it
    starts, and a worker loads all that before it is given anything."""
    from bot.render import workers

    workers._discard_pool()
    workers.start()
    pool = workers._executor()
    assert len(pool._processes) == 1  # started before any PDF was asked for
    loaded, compiled = pool.submit(_loaded_in_this_process).result(timeout=60)
    assert loaded
    assert compiled == messages.warm_up()  # every template, compiled in the worker


async def test_a_worker_that_cannot_start_ahead_does_not_stop_the_bot(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Starting the first worker ahead is a head start, not a condition: when no process can
    be started then (a container's process limit), the bot still starts, and the first PDF
    starts its worker itself."""
    import concurrent.futures

    from bot.render import workers
    from bot.render.documents import Checklist

    workers._discard_pool()

    def refused(*_: Any) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(concurrent.futures.ProcessPoolExecutor, "submit", refused)
        with caplog.at_level(logging.WARNING, logger="qualiopi_bot"):
            workers.start()  # no exception
    assert "could not start ahead" in caplog.text
    snapshot = {"v": 1, "state": "result", "lang": "fr", "date": "2026-11-26",
                "answers": CFA_EVERYTHING}  # fmt: skip
    pdf = await workers.render_pdf(Checklist.of(snapshot, dt.date(2026, 11, 26)))
    assert pdf.startswith(b"%PDF-")


def test_the_pdf_is_a_document_to_prepare_the_audit_with() -> None:
    """Branding with clickable links and fields for the organisation; a summary first; per
    criterion a table with a box per example of evidence and columns to fill; the 2026
    changes in an annex; the date in every footer."""
    certified = {**{k: v for k, v in CFA_EVERYTHING.items() if k != "stage"},
                 "certified": "yes", "audit_cycle": "surveillance_window",
                 "scope": "covers_all"}  # fmt: skip
    snapshot = {"v": 1, "state": "result", "lang": "fr", "date": "2026-11-26",
                "answers": certified}  # fmt: skip
    brand = {"name": "Cabinet Atelier Qualité", "presentation": "Conseil Qualiopi",
             "contact_url": "https://atelier.example/contact",
             "booking_url": "https://atelier.example/rdv"}  # fmt: skip
    pdf = result_pdf(snapshot, brand)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    first = " ".join(pages[0].split())
    assert "Cabinet Atelier Qualité" in first
    assert "N° de déclaration d’activité" in first
    assert "Date de l’audit" in first
    assert "Oui : la certification Qualiopi est obligatoire" in first.replace("\u00a0", " ")
    assert "Comment l’audit juge" in first
    links = {
        a.get_object()["/A"]["/URI"]
        for page in reader.pages
        for a in page.get("/Annots", []) or []
        if "/A" in a.get_object()
    }
    assert {"https://atelier.example/contact", "https://atelier.example/rdv"} <= links
    whole = " ".join(" ".join(pages).split())
    for column in ("Statut", "Responsable", "Échéance", "Où est la preuve"):
        assert column in whole
    assert whole.count("☐") >= 3 * 20, "one box per example of evidence"
    assert "Annexe : ce que le texte de 2026 change" in whole
    assert all("établie le 26 novembre 2026" in " ".join(p.split()) for p in pages)
    landscape = [p for p in reader.pages if p.mediabox.width > p.mediabox.height]
    assert landscape, "the tables are on landscape pages"


def test_a_person_no_audit_concerns_gets_one_page_saying_what_it_means() -> None:
    snapshot = {"v": 1, "state": "result", "lang": "fr", "date": "2026-11-26",
                "answers": {"role": "employed_trainer"}}  # fmt: skip
    reader = PdfReader(io.BytesIO(result_pdf(snapshot)))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Ce que cela veut dire pour vous" in text
    assert "Statut" not in text
    assert "Organisme :" not in text


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_the_shipped_font_has_a_glyph_for_every_character_a_pdf_prints(
    lang: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The fonts are a subset of DejaVu Sans (bot/render/fonts/README.md): the widest document
    (every category, a self-assessment, a brand with accents) leaves no character without its
    glyph, which fpdf2 would draw as an empty box."""
    snapshot = {"v": 1, "state": "result", "lang": lang, "date": "2026-11-26",
                "answers": CFA_EVERYTHING}  # fmt: skip
    brand = {"name": "Cabinet Élan — Qualité & Conseil",
             "presentation": "Conseil « Qualiopi » 2 € ✓",
             "contact_url": "https://elan.example/contact"}  # fmt: skip
    indicators = evaluation_of(snapshot).indicators
    statuses = dict(zip(indicators, itertools.cycle(("done", "partial", "todo")), strict=False))
    assessment = {"statuses": {str(n): s for n, s in statuses.items()},
                  "today": "2026-11-26", "audit_on": "2027-03-15"}  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = result_pdf(snapshot, brand, assessment)
    assert "missing the following glyphs" not in caplog.text
    text, _ = read(pdf)
    assert "Élan" in text
    assert "‼" in text or "☐" in text


def test_a_checklist_is_one_hashable_value_the_pdf_is_made_once_for() -> None:
    """What the PDF worker is given: answers in any order, the same checklist and the same
    document; another day, language, branding or self-assessment, another one."""
    from bot.render.documents import Checklist, checklist_pdf

    day = dt.date(2026, 11, 26)
    snapshot = {"v": 1, "state": "result", "lang": "fr", "date": "2026-11-26",
                "answers": CFA_EVERYTHING}  # fmt: skip
    shuffled = {**snapshot, "answers": dict(reversed(list(CFA_EVERYTHING.items())))}
    order = Checklist.of(snapshot, day)
    assert Checklist.of(shuffled, day) == order
    assert hash(Checklist.of(shuffled, day)) == hash(order)
    assessment = {"statuses": {"1": "done"}, "today": "2026-11-26", "audit_on": None}
    others = [
        Checklist.of({**snapshot, "lang": "en"}, day),
        Checklist.of({**snapshot, "date": "2027-01-04"}, day),
        Checklist.of(snapshot, day, {"name": "Cabinet Dupont"}),
        Checklist.of(snapshot, day, None, assessment),
    ]
    assert len({order, *others}) == 5
    checklist_pdf.cache_clear()
    first = checklist_pdf(order)
    assert checklist_pdf(Checklist.of(shuffled, day)) is first, "made once"
    assert checklist_pdf.cache_info().misses == 1
    without_day = {k: v for k, v in snapshot.items() if k != "date"}
    assert Checklist.of(without_day, dt.date(2026, 12, 1)).day == dt.date(2026, 12, 1)
    with pytest.raises(ValueError, match="without its day"):
        result_pdf(without_day)
