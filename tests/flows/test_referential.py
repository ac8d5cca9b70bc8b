"""The referentials as data: complete, consistent, and chosen by date."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
import yaml

from flows.contract import CATEGORIES
from flows.referential import (
    LANGUAGES,
    NoReferentialError,
    Referential,
    referential,
    referential_on,
    referentials,
)

ALL = referentials()
NEW_ENTRANT_V9 = {2, 3, 11, 13, 14, 19, 22, 24, 25, 26, 32}
CHANGED_IN_2026 = {1, 2, 3, 7, 12, 14, 15, 19, 20, 27, 30, 32}


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (dt.date(2022, 1, 1), "rnq-2019"),
        (dt.date(2026, 10, 31), "rnq-2019"),
        (dt.date(2026, 11, 1), "rnq-2026"),
        (dt.date(2031, 1, 1), "rnq-2026"),
    ],
)
def test_the_referential_in_force_is_chosen_by_date(day: dt.date, version: str) -> None:
    assert referential_on(day).id == version


def test_no_referential_before_the_obligation_started() -> None:
    with pytest.raises(NoReferentialError):
        referential_on(dt.date(2021, 12, 31))


def test_versions_follow_each_other_without_gap_or_overlap() -> None:
    for older, newer in itertools.pairwise(ALL):
        assert older.in_force_until is not None
        assert newer.in_force_from == older.in_force_until + dt.timedelta(days=1)
    assert ALL[-1].in_force_until is None


@pytest.mark.parametrize("ref", ALL, ids=lambda r: r.id)
def test_numbers_are_unique_and_complete(ref: Referential) -> None:
    expected = 32 if ref.id == "rnq-2019" else 33
    assert ref.numbers == tuple(range(1, expected + 1))


@pytest.mark.parametrize("ref", ALL, ids=lambda r: r.id)
def test_every_indicator_is_fully_described(ref: Referential) -> None:
    assert set(ref.criteria) == set(range(1, 8))
    for criterion in ref.criteria.values():
        assert all(criterion[lang].strip() for lang in LANGUAGES)
    for ind in ref.indicators:
        assert ind.criterion in ref.criteria
        assert ind.applies_to <= set(CATEGORIES)
        for lang in LANGUAGES:
            assert ind.short_title[lang].strip()
            assert len(ind.short_title[lang]) <= 60, "short titles fit a button or a line"
            assert ind.requirement[lang].strip()
            assert 2 <= len(ind.proofs[lang]) <= 4
            assert all(p.strip() for p in ind.proofs[lang])
        assert len(ind.proofs["fr"]) == len(ind.proofs["en"])
        assert "écret" in ind.source.fr
        assert "écret" in ind.source.en


@pytest.mark.parametrize("ref", ALL, ids=lambda r: r.id)
def test_new_entrant_deferral_is_the_guide_v9_list(ref: Referential) -> None:
    assert {i.number for i in ref.indicators if i.new_entrant_deferred} == NEW_ENTRANT_V9


def test_the_2026_text_changes_twelve_indicators_and_adds_33_for_cfa_only() -> None:
    new = referential("rnq-2026")
    assert new.reported_only
    assert {i.number for i in new.indicators if i.change} == CHANGED_IN_2026 | {33}
    for i in new.indicators:
        if i.change:
            assert all(i.change[lang].strip() for lang in LANGUAGES)
            assert "2026-728" in i.source.fr
            assert "2026-728" in i.source.en
    assert new.indicator(33).applies_to == {"CFA"}
    assert new.indicator(33).criterion == 7
    old = referential("rnq-2019")
    assert not old.reported_only
    assert not any(i.change for i in old.indicators)
    for number in old.numbers:  # category applicability is reported unchanged
        assert new.indicator(number).applies_to == old.indicator(number).applies_to
        assert new.indicator(number).condition == old.indicator(number).condition


SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "indicators.yaml"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared domain reference is not beside us")
def test_our_copy_agrees_with_the_domain_reference() -> None:
    """Our YAML is a copy of the shared reference's facts: check it has not drifted.

    Reading ../shared here is deliberate: it is the domain owner's source of truth, and the
    product itself never reads it at run time.
    """
    shared = {i["id"]: i for i in yaml.safe_load(SHARED.read_text("utf-8"))["indicators"]}
    ours = referential("rnq-2026")
    assert set(shared) == set(ours.numbers)
    for number, raw in shared.items():
        ind = ours.indicator(number)
        assert ind.applies_to == set(raw["applies_to"]), number
        assert ind.criterion == raw["criterion"], number
        assert ind.new_entrant_deferred == raw["new_entrant_deferred"], number
        changed = bool(raw.get("change_2026")) or number not in referential("rnq-2019").numbers
        assert (ind.change is not None) == changed, number
