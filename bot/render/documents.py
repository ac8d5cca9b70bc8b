"""The printable checklist of a result, as the PDF workers make it: one document per distinct
result (answers, day, language, branding, self-assessment), built once and kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.render.assessment import assessment_report
from bot.render.report import build_report
from bot.render.screens import answers_view, evaluated
from flows.contract import Answer, as_json, canonical
from flows.snapshot import Stored, as_snapshot


@dataclass(frozen=True, slots=True)
class Checklist:
    """Everything a result's checklist PDF depends on, as one hashable value: what the PDF
    worker is given and what its cache is keyed on (the same value, the same document)."""

    lang: str
    day: dt.date
    """The result's day: it picks the référentiel."""
    answers: tuple[tuple[str, Answer], ...]
    """The canonical answers, sorted by question."""
    brand: tuple[tuple[str, Any], ...] = ()
    """The consultancy's details shown in the header (``offer.brand_of``), sorted."""
    statuses: tuple[tuple[str, str], ...] = ()
    """The self-assessment, indicator by indicator (none: no self-assessment in it)."""
    assessed_on: str | None = None
    audit_on: str | None = None

    @classmethod
    def of(
        cls,
        stored: Stored,
        today: dt.date | None,
        brand: Mapping[str, Any] | None = None,
        assessment: Mapping[str, Any] | None = None,
    ) -> Checklist:
        """The checklist of a finished conversation (``today`` for a result stored without
        its day), with the consultancy's details and the self-assessment
        (``bot.assessment.pdf_part``) when there are."""
        snapshot = as_snapshot(stored)
        day = dt.date.fromisoformat(snapshot.date) if snapshot.date else today
        if day is None:
            raise ValueError("a result without its day needs today's")
        own = assessment or {}
        return cls(
            snapshot.lang,
            day,
            tuple(sorted(canonical(snapshot.answers).items())),
            tuple(sorted((brand or {}).items())),
            tuple(sorted((str(n), str(s)) for n, s in (own.get("statuses") or {}).items())),
            own.get("today"),
            own.get("audit_on"),
        )

    @property
    def assessment(self) -> dict[str, Any] | None:
        """The self-assessment as ``assessment_report`` reads it, or None."""
        if not self.statuses:
            return None
        return {"statuses": dict(self.statuses), "today": self.assessed_on,
                "audit_on": self.audit_on}  # fmt: skip


def result_pdf(
    stored: Stored,
    brand: Mapping[str, Any] | None = None,
    assessment: Mapping[str, Any] | None = None,
    *,
    today: dt.date | None = None,
) -> bytes:
    """Returns the printable checklist of a finished conversation (see ``Checklist.of``;
    ``today`` is needed only for a result stored without its day)."""
    return checklist_pdf(Checklist.of(stored, today, brand, assessment))


@lru_cache(maxsize=256)
def checklist_pdf(order: Checklist) -> bytes:
    """Builds a PDF once per distinct checklist: laying one out costs tenths of a second of
    CPU (the widest, 33 indicators, about 0.3 s on the 2-core test machine)."""
    from bot.render.pdf import build_pdf  # fpdf2 loads only when a PDF is asked for

    ev = evaluated(order.answers, order.day)
    answers = as_json(dict(order.answers))
    report = build_report(ev, order.lang)
    if order.assessment is not None:
        report["assessment"] = assessment_report(ev, order.assessment, order.lang)
    brand = dict(order.brand) or None
    return build_pdf(report, answers_view(answers, order.lang), ev.date, brand)
