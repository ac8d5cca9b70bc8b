"""The référentiels national qualité as versioned data, and the one in force on a date.

``rnq-2019``: annex of décret 2019-565 read with guide de lecture V9, until 2026-10-31.
``rnq-2026``: décret 2026-728 (reported, to confirm on Légifrance), from 2026-11-01; written
as a change set over ``rnq-2019`` plus indicator 33.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from flows.contract import CATEGORIES, LANGUAGES
from flows.sources import Source, indicator_source

Text = Mapping[str, str]
"""A text in every language, keyed by language code."""


class ReferentialError(ValueError):
    """The packaged referential data is inconsistent (a bug in the data, not user input)."""


class Condition(StrEnum):
    """When an indicator applies beyond its category columns (decree wording, guide V9)."""

    NONE = "none"
    CERTIFYING = "certifying"
    """Actions preparing an RNCP or RS certification (VAE and apprenticeship always do)."""
    ALTERNANCE = "alternance"
    """Training alternating centre and company (contrat pro, Pro-A, apprenticeship)."""
    WORK_BASED = "work_based"
    """Any period in a work situation: alternance, placements, AFEST."""
    SUBCONTRACTING = "subcontracting"
    """The provider uses subcontractors or trainers in portage salarial."""
    CFA_ONLY = "cfa_only"
    LONG_COURSES = "long_courses"
    """Guide V9: indicator 12 concerns trainings longer than 2 days."""


class SubcontractedAction(StrEnum):
    """Guide V9: how an indicator is treated for actions delivered as a subcontractor."""

    NOT_APPLICABLE = "not_applicable"
    PER_MISSIONS = "per_missions"
    APPLICABLE = "applicable"
    NOT_STATED = "not_stated"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of a référentiel."""

    number: int
    criterion: int
    short_title: Text
    requirement: Text
    applies_to: frozenset[str]
    condition: Condition
    new_entrant_deferred: bool
    nc_minor_possible: bool | None
    subcontracted_action: SubcontractedAction
    proofs: Mapping[str, tuple[str, ...]]
    """Examples of evidence per language (guide V9: examples, not a mandatory list)."""
    proof_tags: tuple[str | None, ...]
    """Per example, who it is for (``PROOF_TAGS``), None for everyone."""
    source: Source
    change: Text | None = None
    """What the newer text changed in this indicator, or that it is new (rnq-2026)."""
    expected: Text | None = None
    """What the auditor looks for, per the guide V9's "niveau attendu" (paraphrased); None
    for an indicator no reading guide covers yet."""

    @property
    def major_only(self) -> bool | None:
        """True when a gap can only be a major non-conformity; None while not graded."""
        return None if self.nc_minor_possible is None else not self.nc_minor_possible


PROOF_TAGS: frozenset[str] = frozenset({"vae", "staff", "funder"})
"""``vae``: providers with the VAE category; ``staff``: not sole traders; ``funder``: not
providers of bilans de compétences only."""

_TAG = re.compile(r"^\[([a-z]+)\] ")


def _proofs(
    raw: Mapping[str, Any],
) -> tuple[Mapping[str, tuple[str, ...]], tuple[str | None, ...]]:
    texts: dict[str, tuple[str, ...]] = {}
    tags: dict[str, tuple[str | None, ...]] = {}
    for lang in LANGUAGES:
        items = [str(p) for p in raw.get(f"proofs_{lang}", raw["proofs_en"])]
        found = [_TAG.match(p) for p in items]
        tags[lang] = tuple(m.group(1) if m else None for m in found)
        texts[lang] = tuple(p[m.end() :] if m else p for p, m in zip(items, found, strict=True))
    if len({tags[lang] for lang in LANGUAGES}) != 1:
        raise ReferentialError(f"indicator {raw['number']}: proof tags differ between languages")
    first = tags[LANGUAGES[0]]
    if not {t for t in first if t} <= PROOF_TAGS:
        raise ReferentialError(f"indicator {raw['number']}: unknown proof tag in {first}")
    return MappingProxyType(texts), first


@dataclass(frozen=True, slots=True, eq=False)
class Referential:
    """A version of the référentiel national qualité (one instance per version: hashed by id)."""

    id: str
    label: Text
    in_force_from: dt.date
    in_force_until: dt.date | None
    reported_only: bool
    """True while the text is known from secondary sources only (say so to the user)."""
    source: Source
    criteria: Mapping[int, Text]
    indicators: tuple[Indicator, ...]

    def indicator(self, number: int) -> Indicator:
        """Returns the indicator with that number."""
        return self.indicators[number - 1]

    @property
    def numbers(self) -> tuple[int, ...]:
        """Returns every indicator number, ascending."""
        return tuple(i.number for i in self.indicators)

    def is_in_force_on(self, day: dt.date) -> bool:
        """Tells whether this version applies on that day."""
        return self.in_force_from <= day and (
            self.in_force_until is None or day <= self.in_force_until
        )


def _in_every_language(texts: Mapping[str, Any]) -> Text:
    """A text keyed by language; one not translated yet reads the English."""
    return MappingProxyType({lang: str(texts.get(lang, texts["en"])) for lang in LANGUAGES})


def _text(raw: Mapping[str, Any], stem: str) -> Text:
    """The text in each language; one not translated yet reads the English."""
    return MappingProxyType(
        {lang: str(raw.get(f"{stem}_{lang}", raw[f"{stem}_en"])) for lang in LANGUAGES}
    )


def _source(raw: Mapping[str, Any], stem: str = "source") -> Source:
    return Source(str(raw[f"{stem}_fr"]), str(raw[f"{stem}_en"]))


def _indicator_source(raw: Mapping[str, Any]) -> Source:
    if "source_fr" in raw:
        return _source(raw)
    base = indicator_source(int(raw["number"]))
    return base & _source(raw, "source_note") if "source_note_fr" in raw else base


def _indicator(raw: Mapping[str, Any]) -> Indicator:
    try:
        applies_to = frozenset(raw["applies_to"])
        if not applies_to or not applies_to <= set(CATEGORIES):
            raise ReferentialError(f"indicator {raw['number']}: bad applies_to {applies_to}")
        proofs, proof_tags = _proofs(raw)
        return Indicator(
            number=int(raw["number"]),
            criterion=int(raw["criterion"]),
            short_title=_text(raw, "short_title"),
            requirement=_text(raw, "requirement"),
            applies_to=applies_to,
            condition=Condition(raw["condition"]),
            new_entrant_deferred=bool(raw["new_entrant_deferred"]),
            nc_minor_possible=raw.get("nc_minor_possible"),
            subcontracted_action=SubcontractedAction(raw["subcontracted_action"]),
            proofs=proofs,
            proof_tags=proof_tags,
            source=_indicator_source(raw),
            change=_text(raw, "change") if "change_fr" in raw else None,
            expected=_text(raw, "expected") if "expected_fr" in raw else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferentialError(f"indicator {raw.get('number', '?')}: {exc!r}") from exc


def _read(name: str) -> dict[str, Any]:
    path = resources.files("flows") / "referentials" / f"{name}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _build(raw: Mapping[str, Any], base: Referential | None) -> Referential:
    criteria: Mapping[int, Text]
    if base is None:
        criteria = MappingProxyType(
            {int(n): _in_every_language(t) for n, t in raw["criteria"].items()}
        )
        indicators = [_indicator(i) for i in raw["indicators"]]
    else:
        criteria = base.criteria
        changes = raw.get("changes", {})
        indicators = [
            replace(
                i,
                change=_in_every_language(changes[i.number]),
                source=i.source & _source(raw, "source_changed"),
            )
            if i.number in changes
            else replace(i, source=i.source & _source(raw, "source_unchanged"))
            for i in base.indicators
        ]
        indicators += [_indicator(i) for i in raw.get("added", [])]
    indicators.sort(key=lambda i: i.number)
    numbers = [i.number for i in indicators]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ReferentialError(f"{raw['id']}: indicator numbers are not 1..n: {numbers}")
    unknown = {i.criterion for i in indicators} - set(criteria)
    if unknown:
        raise ReferentialError(f"{raw['id']}: unknown criteria {unknown}")
    return Referential(
        id=str(raw["id"]),
        label=_text(raw, "label"),
        in_force_from=raw["in_force_from"],
        in_force_until=raw.get("in_force_until"),
        reported_only=bool(raw["reported_only"]),
        source=_source(raw),
        criteria=criteria,
        indicators=tuple(indicators),
    )


VERSION_IDS: tuple[str, ...] = ("rnq-2019", "rnq-2026")


@cache
def referentials() -> tuple[Referential, ...]:
    """Returns every known version, oldest first (loaded once)."""
    built: dict[str, Referential] = {}
    for name in VERSION_IDS:
        raw = _read(name)
        base_id = raw.get("based_on")
        built[name] = _build(raw, built[base_id] if base_id else None)
    return tuple(built.values())


def referential(version_id: str) -> Referential:
    """Returns the version with that id."""
    for ref in referentials():
        if ref.id == version_id:
            return ref
    raise KeyError(version_id)


class NoReferentialError(ValueError):
    """No référentiel applies on the date asked (before the obligation started)."""

    def __init__(self, day: dt.date, first: dt.date) -> None:
        super().__init__(f"no référentiel in force on {day.isoformat()}")
        self.day = day
        self.first = first


def referential_on(day: dt.date) -> Referential:
    """Returns the version in force on that day."""
    refs = referentials()
    for ref in refs:
        if ref.is_in_force_on(day):
            return ref
    raise NoReferentialError(day, refs[0].in_force_from)


@dataclass(frozen=True, slots=True)
class MicroCeiling:
    """The micro-entrepreneur turnover ceiling (services) for one period."""

    start: dt.date
    end: dt.date
    amount_eur: int
    confirmed: bool
    source: Source


@cache
def micro_ceilings() -> tuple[MicroCeiling, ...]:
    """Returns the known ceilings, oldest first (flows/referentials/micro-ceiling.yaml)."""
    raw = _read("micro-ceiling")
    return tuple(
        MicroCeiling(
            start=p["from"],
            end=p["until"],
            amount_eur=int(p["amount_eur"]),
            confirmed=bool(p["confirmed"]),
            source=_source(p),
        )
        for p in raw["periods"]
    )


def micro_ceiling_on(day: dt.date) -> MicroCeiling | None:
    """Returns the ceiling in force on that day, or None when no known period covers it."""
    return next((c for c in micro_ceilings() if c.start <= day <= c.end), None)
