"""The result on a phone, for every answers object the contract allows: a summary that fits,
screens that fit, every indicator reachable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import messages
from bot.reading.buttons import parse_button, parse_chk
from bot.render.result_views import SUMMARY_LIMIT, result_view
from bot.render.screens import evaluation_of
from flows.contract import as_json
from flows.path import validate
from tests.strategies import valid_answers

DAY = "2026-11-27"


def at_result(raw: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "v": 1,
        "state": "result",
        "answers": as_json(validate(raw)),
        "lang": lang,
        "date": DAY,
    }


@settings(max_examples=60, deadline=None)
@given(raw=valid_answers(dt.date(2026, 11, 27)), lang=st.sampled_from(messages.LANGUAGES))
def test_every_result_fits_a_phone_and_every_indicator_is_one_tap_away(
    raw: dict[str, Any], lang: str
) -> None:
    snapshot = at_result(raw, lang)
    summary = result_view(snapshot)
    assert messages.telegram_length(summary.text) <= SUMMARY_LIMIT
    reached: set[int] = set()
    for row in summary.buttons:
        for button in row:
            action = parse_button(button.data)
            assert action is not None or parse_chk(button.data) is not None, button.data
            if action is None or action[0] != "view":
                continue
            view, page = action[1]
            while True:
                screen = result_view(snapshot, view, page)
                assert messages.telegram_length(screen.text) <= messages.TELEGRAM_LIMIT
                reached |= {
                    n for n in evaluation_of(snapshot).indicators if f"<b>{n}. " in screen.text
                }
                more = [
                    b.data for r in screen.buttons for b in r if b.data.startswith(f"res:{view}:")
                ]
                if not more:
                    break
                page += 1
    assert reached == set(evaluation_of(snapshot).indicators)


def test_an_unknown_view_or_page_gives_the_summary() -> None:
    raw = {
        "role": "employed_trainer",
    }
    snapshot = at_result(raw, "fr")
    assert result_view(snapshot, "5").text == result_view(snapshot).text  # no criterion 5 here
    assert parse_button("res:8") is None
    assert parse_button("res:steps:x") is None
    assert parse_button("res:why:3") == ("view", ("why", 3))
    assert result_view(snapshot, "why", 3).text == result_view(snapshot).text
