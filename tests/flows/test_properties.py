"""Properties over every answers object the contract allows (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.advice import evaluate
from flows.path import validate
from flows.rules import CERTIFICATION_PATH, Verdict
from tests.strategies import valid_answers

NO_DEFERRAL = {Verdict.NOT_REQUIRED, Verdict.DEEMED_COMPLIANT, Verdict.NOT_APPLICABLE}
days = st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2030, 12, 31))


@settings(max_examples=500, deadline=None)
@given(day=days, data=st.data())
def test_evaluation_never_fails_and_stays_consistent(day: dt.date, data: st.DataObject) -> None:
    raw = data.draw(valid_answers(day))
    result = evaluate(validate(raw, day), day)
    numbers = set(result.referential.numbers)
    assert set(result.indicators) <= numbers
    assert list(result.indicators) == sorted(set(result.indicators))
    assert set(result.deferred_for_new_entrant) <= set(result.indicators)
    if result.verdict in NO_DEFERRAL:
        assert result.deferred_for_new_entrant == ()
    assert ("certified" in raw) == (result.verdict in CERTIFICATION_PATH)
    assert (result.next_audit is None) == (result.verdict not in CERTIFICATION_PATH)
    assert set(result.changed_at_next_audit) <= set(result.indicators)
    assert result.reasons, "every verdict has at least one reason"
    assert result.next_steps, "every verdict has at least one next step"
    assert result.referential.is_in_force_on(day)


@settings(max_examples=200, deadline=None)
@given(raw=valid_answers())
def test_validation_is_idempotent_and_json_round_trips(raw: dict[str, Any]) -> None:
    canonical = validate(raw)
    as_json = json.loads(
        json.dumps({k: v if isinstance(v, str) else list(v) for k, v in canonical.items()})
    )
    assert validate(as_json) == canonical
