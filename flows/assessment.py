"""The self-assessment: where a provider stands on each indicator that concerns it, its
readiness per criterion, and the action plan before its audit.

Pure: statuses in, figures out. A status is ``done`` (in place), ``partial`` (partly) or
``todo`` (not yet); an indicator not assessed has no status. Only the indicators that concern
the provider count: a status kept from an earlier questionnaire for an indicator that no
longer applies is ignored (and dropped by ``kept_statuses``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flows.referential import Referential

STATUSES = ("done", "partial", "todo")
"""In place, partly in place, not yet."""

PLAN_MARGIN = dt.timedelta(days=14)
"""Actions are planned to be done this long before the audit (time to gather the evidence)."""
GAPS_REMINDER_BEFORE = dt.timedelta(days=30)
"""The reminder of what is not in place comes this long before the audit."""
CONTINUE_AFTER = dt.timedelta(days=7)
"""An unfinished assessment is nudged this long after the reminder was asked for."""


@dataclass(frozen=True, slots=True)
class CriterionScore:
    """One criterion's standing: how many of its indicators are in place, partly, assessed."""

    criterion: int
    total: int
    done: int
    partial: int
    assessed: int


@dataclass(frozen=True, slots=True)
class Action:
    """One indicator still to put in place, in the order to work on it."""

    number: int
    status: str
    major_only: bool
    """A gap here can only be a major non-conformity (to fix within 3 months)."""
    due: dt.date | None
    """The suggested date to have it done, when the audit date is known."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """The assessment's figures for one provider."""

    indicators: tuple[int, ...]
    statuses: Mapping[int, str]
    """Only the indicators that concern the provider."""
    criteria: tuple[CriterionScore, ...]
    plan: tuple[Action, ...]
    audit_on: dt.date | None

    @property
    def done(self) -> int:
        """How many indicators are in place."""
        return sum(1 for s in self.statuses.values() if s == "done")

    @property
    def partial(self) -> int:
        """How many indicators are partly in place."""
        return sum(1 for s in self.statuses.values() if s == "partial")

    @property
    def todo(self) -> int:
        """How many indicators are not in place yet."""
        return sum(1 for s in self.statuses.values() if s == "todo")

    @property
    def assessed(self) -> int:
        """How many indicators have a status."""
        return len(self.statuses)

    @property
    def finished(self) -> bool:
        """Every indicator that concerns the provider has a status."""
        return self.assessed == len(self.indicators)

    @property
    def percent(self) -> int:
        """The share of indicators in place, in percent (rounded down: never flattering)."""
        return self.done * 100 // len(self.indicators) if self.indicators else 0


def kept_statuses(statuses: Mapping[int, str], indicators: tuple[int, ...]) -> dict[int, str]:
    """Returns the statuses of the indicators that still concern the provider."""
    wanted = set(indicators)
    return {n: s for n, s in statuses.items() if n in wanted and s in STATUSES}


def next_unassessed(
    indicators: tuple[int, ...], statuses: Mapping[int, str], after: int | None = None
) -> int | None:
    """Returns the first indicator without a status after ``after`` (wrapping to the start),
    or None when every one has a status."""
    order = list(indicators)
    start = order.index(after) + 1 if after in order else 0
    for number in order[start:] + order[:start]:
        if number not in statuses:
            return number
    return None


def move(
    order: tuple[int, ...], statuses: Mapping[int, str], at: int, action: str
) -> tuple[dict[int, str], int | None]:
    """Applies a status, ``skip`` or ``back`` on indicator ``at``: the statuses, and the
    indicator to show next (None: the summary). A status moves on to the next indicator
    without one; skip to the next in order; back to the one before (the first stays)."""
    index = order.index(at)
    if action in STATUSES:
        statuses = {**statuses, at: action}
        return statuses, next_unassessed(order, statuses, after=at)
    if action == "skip":
        return dict(statuses), order[index + 1] if index + 1 < len(order) else None
    if action == "back":
        return dict(statuses), order[max(0, index - 1)]
    raise ValueError(action)


def plan_dates(count: int, today: dt.date, audit_on: dt.date | None) -> list[dt.date | None]:
    """Spreads ``count`` actions evenly between today and ``PLAN_MARGIN`` before the audit
    (the audit day itself when it is closer than that); no dates without an audit date."""
    if audit_on is None or audit_on <= today or count == 0:
        return [None] * count
    deadline = audit_on - PLAN_MARGIN
    if deadline <= today:
        deadline = audit_on
    span = (deadline - today).days
    return [today + dt.timedelta(days=max(1, span * (i + 1) // count)) for i in range(count)]


def readiness(
    ref: Referential,
    indicators: tuple[int, ...],
    statuses: Mapping[int, str],
    *,
    today: dt.date,
    audit_on: dt.date | None = None,
) -> Readiness:
    """Returns the readiness of a provider concerned by ``indicators`` of ``ref``.

    The action plan lists every assessed indicator not in place: first those where a gap can
    only be a major non-conformity, then the others, each group in the référentiel's order.
    """
    own = kept_statuses(statuses, indicators)
    by_criterion: dict[int, list[int]] = {}
    for number in indicators:
        by_criterion.setdefault(ref.indicator(number).criterion, []).append(number)
    criteria = tuple(
        CriterionScore(
            criterion=c,
            total=len(numbers),
            done=sum(1 for n in numbers if own.get(n) == "done"),
            partial=sum(1 for n in numbers if own.get(n) == "partial"),
            assessed=sum(1 for n in numbers if n in own),
        )
        for c, numbers in sorted(by_criterion.items())
    )
    gaps = [n for n in indicators if own.get(n) in ("partial", "todo")]
    gaps.sort(key=lambda n: (not ref.indicator(n).major_only, indicators.index(n)))
    dates = plan_dates(len(gaps), today, audit_on)
    plan = tuple(
        Action(n, own[n], bool(ref.indicator(n).major_only), due)
        for n, due in zip(gaps, dates, strict=True)
    )
    return Readiness(indicators, MappingProxyType(own), criteria, plan, audit_on)


def reminder_dates(
    today: dt.date, audit_on: dt.date | None, finished: bool
) -> list[tuple[dt.date, str]]:
    """When to remind a person who asked: to continue an unfinished assessment a week later
    (``assess_continue``), and before the audit of what is not in place (``assess_gaps``)."""
    due = [] if finished else [(today + CONTINUE_AFTER, "assess_continue")]
    if audit_on is not None:
        gaps_on = max(audit_on - GAPS_REMINDER_BEFORE, today + dt.timedelta(days=1))
        if gaps_on < audit_on:
            due.append((gaps_on, "assess_gaps"))
    return due


ASSESSMENT_REMINDERS = ("assess_continue", "assess_gaps")
"""The reminder kinds of the self-assessment (the audit's own are separate)."""
