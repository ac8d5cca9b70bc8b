"""The printable checklist of a result, as the PDF workers make it: one document per distinct
result (answers, day, language, branding, self-assessment), built once and kept."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bot.render.assessment import assessment_report
from bot.render.report import build_report
from bot.render.screens import answers_view
from flows.advice import evaluate
from flows.contract import canonical
from flows.snapshot import Stored, as_snapshot


def result_pdf(
    stored: Stored,
    brand: Mapping[str, Any] | None = None,
    assessment: Mapping[str, Any] | None = None,
) -> bytes:
    """Returns the printable checklist of a finished conversation (with the consultancy's
    details when it has configured them, and the person's self-assessment when there is one:
    ``{"statuses": {indicator: status}, "today": iso day, "audit_on": iso day or None}``)."""
    snapshot = as_snapshot(stored)
    key = json.dumps(
        [snapshot.lang, snapshot.date, dict(snapshot.answers), brand, assessment],
        sort_keys=True,
        default=list,
    )
    return _pdf_for(key)


@lru_cache(maxsize=256)
def _pdf_for(key: str) -> bytes:
    """Builds a PDF once per distinct result: the same answers, day, language and branding
    always give the same document, and laying one out costs tenths of a second of CPU (the
    widest checklist, 33 indicators, about 0.3 s on the 2-core test machine)."""
    from bot.render.pdf import build_pdf  # fpdf2 loads only when a PDF is asked for

    lang, day, answers, brand, assessment = json.loads(key)
    ev = evaluate(canonical(answers), dt.date.fromisoformat(day) if day else dt.date.today())
    report = build_report(ev, lang)
    if assessment and assessment.get("statuses"):
        report["assessment"] = assessment_report(ev, assessment, lang)
    return build_pdf(report, answers_view(answers, lang), ev.date, brand)
