"""The self-assessment's figures: readiness per criterion, the plan's order and dates."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from flows.assessment import (
    PLAN_MARGIN,
    kept_statuses,
    next_unassessed,
    plan_dates,
    readiness,
    reminder_dates,
)
from flows.referential import referential

REF = referential("rnq-2026")
TODAY = dt.date(2026, 11, 27)
ALL = REF.numbers


def test_readiness_counts_in_place_per_criterion_and_rounds_down() -> None:
    statuses = {1: "done", 2: "done", 3: "partial", 4: "todo", 99: "done", 5: "maybe"}
    ready = readiness(REF, (1, 2, 3, 4, 5), statuses, today=TODAY)
    assert ready.statuses == {1: "done", 2: "done", 3: "partial", 4: "todo"}
    assert (ready.done, ready.partial, ready.todo, ready.assessed) == (2, 1, 1, 4)
    assert ready.percent == 40
    assert not ready.finished
    first, second = ready.criteria
    assert (first.criterion, first.done, first.partial, first.total) == (1, 2, 1, 3)
    assert (second.criterion, second.done, second.total, second.assessed) == (2, 0, 2, 1)


def test_the_plan_puts_major_only_gaps_first_then_the_referential_order() -> None:
    statuses = dict.fromkeys(ALL, "todo")
    ready = readiness(REF, ALL, statuses, today=TODAY)
    numbers = [a.number for a in ready.plan]
    majors = [n for n in numbers if REF.indicator(n).major_only]
    assert numbers[: len(majors)] == sorted(majors)
    assert numbers[len(majors) :] == sorted(set(ALL) - set(majors))
    assert all(a.due is None for a in ready.plan), "no audit date, no dates"


@given(st.integers(1, 40), st.integers(1, 400))
def test_plan_dates_are_spread_in_order_before_the_audit(count: int, days: int) -> None:
    audit = TODAY + dt.timedelta(days=days)
    dates = plan_dates(count, TODAY, audit)
    assert len(dates) == count
    assert all(d is not None and TODAY < d <= audit for d in dates)
    assert dates == sorted(dates)  # type: ignore[type-var]
    if days > PLAN_MARGIN.days:
        assert dates[-1] == audit - PLAN_MARGIN


def test_next_unassessed_wraps_around() -> None:
    order = (1, 2, 3, 4)
    assert next_unassessed(order, {}) == 1
    assert next_unassessed(order, {1: "done", 2: "todo"}, after=1) == 3
    assert next_unassessed(order, {2: "done", 3: "done", 4: "done"}, after=3) == 1
    assert next_unassessed(order, dict.fromkeys(order, "done"), after=2) is None


def test_statuses_of_indicators_no_longer_concerned_are_dropped() -> None:
    assert kept_statuses({1: "done", 3: "todo", 7: "partial"}, (1, 2, 7)) == {
        1: "done",
        7: "partial",
    }


def test_reminders_continue_after_a_week_and_come_a_month_before_the_audit() -> None:
    audit = dt.date(2027, 3, 15)
    assert reminder_dates(TODAY, audit, finished=False) == [
        (dt.date(2026, 12, 4), "assess_continue"),
        (dt.date(2027, 2, 13), "assess_gaps"),
    ]
    assert reminder_dates(TODAY, None, finished=True) == []
    assert reminder_dates(TODAY, TODAY + dt.timedelta(days=3), finished=True) == [
        (TODAY + dt.timedelta(days=1), "assess_gaps")
    ]
