"""Screens: buttons within Telegram's limits, forged data refused, typed answers understood."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import messages
from bot.reading.buttons import parse_button
from bot.reading.typed import match_option, match_options
from bot.render.screens import (
    MAX_CALLBACK_BYTES,
    question_screen,
    result_screen,
    review_screen,
    screen_for,
)
from flows.contract import QUESTIONS
from flows.flow import new_snapshot, step
from tests.messages.test_templates import check_telegram_html
from tests.strategies import valid_answers

from .test_pdf import CFA_EVERYTHING


@pytest.mark.parametrize("lang", messages.LANGUAGES)
@pytest.mark.parametrize("question", list(QUESTIONS))
def test_every_question_screen_is_valid_and_its_buttons_fit(lang: str, question: str) -> None:
    snapshot = new_snapshot(lang) | {"state": question}
    screen = question_screen(snapshot)
    check_telegram_html(screen.text)
    assert messages.telegram_length(screen.text) <= messages.TELEGRAM_LIMIT
    for row in screen.buttons:
        assert len(row) <= 8
        for button in row:
            assert 0 < len(button.data.encode()) <= MAX_CALLBACK_BYTES
            assert parse_button(button.data) is not None
            assert button.label.strip()


@settings(max_examples=100, deadline=None)
@given(raw=valid_answers(), lang=st.sampled_from(messages.LANGUAGES))
def test_review_screens_are_valid(raw: dict[str, Any], lang: str) -> None:
    snapshot = {"v": 1, "state": "review", "lang": lang, "answers": raw}
    screen = review_screen(snapshot)
    check_telegram_html(screen.text)
    for row in screen.buttons:
        for button in row:
            assert len(button.data.encode()) <= MAX_CALLBACK_BYTES
            assert parse_button(button.data) is not None


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_the_largest_result_is_split_into_valid_telegram_messages(lang: str) -> None:
    snapshot = {
        "v": 1,
        "state": "result",
        "lang": lang,
        "date": "2026-11-26",
        "answers": CFA_EVERYTHING,
    }
    screen, ev, _ = result_screen(snapshot)
    assert len(ev.indicators) == 33
    assert messages.telegram_length(screen.text) > messages.TELEGRAM_LIMIT, "needs splitting"
    assert len(screen.parts) >= 2
    for part in screen.parts:
        assert messages.telegram_length(part) <= messages.TELEGRAM_LIMIT
        check_telegram_html(part)
    joined = "\n".join(screen.parts)
    for number in ev.indicators:
        assert f"☐ <b>{number}. " in joined


@pytest.mark.parametrize(
    "data",
    [
        "ans:role:king",
        "ans:nope:yes",
        "ans:role",
        "ok:role",
        "edit:nothing",
        "lang:de",
        "back:now",
        "",
        "x" * 65,
        "ans:" + "é" * 40,
        "DROP TABLE",
    ],
)
def test_forged_button_data_is_refused(data: str) -> None:
    assert parse_button(data) is None


def test_button_data_is_read_back() -> None:
    assert parse_button("ans:role:independent") == ("answer", ("role", "independent"))
    assert parse_button("ans:funders:opco") == ("toggle", ("funders", "opco"))
    assert parse_button("ok:funders") == ("confirm", ("funders",))
    assert parse_button("edit:stage") == ("edit", ("stage",))
    assert parse_button("lang:en") == ("lang", ("en",))
    assert parse_button("result") == ("result", ())


@pytest.mark.parametrize(
    ("question", "typed", "option"),
    [
        ("role", "1", "independent"),
        ("role", " 3 ", "employed_trainer"),
        ("role", "independent", "independent"),
        ("role", "EMPLOYED TRAINER", "employed_trainer"),
        ("role", "Enseignement superieur", "higher_education"),
        ("role", "enseignement supérieur", "higher_education"),
        ("selling", "les deux", "both"),
        ("selling", "Both", "both"),
        ("certifying", "oui", "yes"),
        ("certifying", "No", "no"),
        ("role", "9", None),
        ("role", "0", None),
        ("role", "", None),
        ("role", "🙂", None),
        ("role", "x" * 5000, None),
    ],
)
def test_typed_answers_match_numbers_ids_and_labels(
    question: str, typed: str, option: str | None
) -> None:
    assert match_option(question, typed, "fr") == option


def test_typed_multi_answers() -> None:
    assert match_options("funders", "1 2", "fr") == ["opco", "cpf"]
    assert match_options("funders", "opco, cpf", "en") == ["opco", "cpf"]
    assert match_options("funders", "Aucun pour l’instant", "fr") == ["none_yet"]
    assert match_options("funders", "1 99", "fr") is None


def test_a_stale_hint_is_shown_with_the_current_question() -> None:
    snapshot = new_snapshot("en")
    screen = screen_for(snapshot, "stale")
    assert "earlier step" in screen.text
    moved = step(snapshot, "answer", "role", "independent").snapshot
    assert "Which services" in screen_for(moved).text
    assert dt.date.today()  # screens need no network, no clock beyond today


@pytest.mark.parametrize(
    ("question", "typed", "expected"),
    [
        ("role", "indépendant", "independent"),
        ("role", "Je suis salariée", "employed_trainer"),
        ("role", "freelance", "independent"),
        ("role", "formateur", None),  # independent or employed: ambiguous, so asked again
        ("selling", "en direct", "direct"),
        ("selling", "sous traitance", "subcontractor_only"),
        ("certifying", "non", "no"),
        ("certifying", "Oui", "yes"),
        ("long_courses", "nope", "no"),
        ("work_based", "contrat pro", "alternance"),
        ("funders", "pôle emploi", "france_travail"),
        ("certified", "pas encore", "no"),
        ("role", "n", None),
    ],
)
def test_everyday_typed_answers_are_understood(
    question: str, typed: str, expected: str | None
) -> None:
    assert match_option(question, typed, "fr") == expected


def test_several_options_can_be_typed_in_words() -> None:
    assert match_options("activities", "formation et bilans", "fr") == [
        "training",
        "skills_assessment",
    ]
    assert match_options("funders", "Mon Compte Formation", "fr") == ["cpf"]
    assert match_options("funders", "opco, cpf", "en") == ["opco", "cpf"]


def test_every_option_button_fits_a_phone_and_pairs_only_when_both_fit() -> None:
    """A 360-px phone shows about 36 characters of a button alone on its row, 20 when two share
    it: no option's button is cut, whatever is ticked, and ticking never moves a button."""
    from bot.render.screens import HALF_ROW, _question_screen

    for lang in ("fr", "en"):
        for question, spec in QUESTIONS.items():
            options = tuple(spec.options)
            layouts = []
            for chosen in ((), options):
                screen = _question_screen(
                    lang, question, False, (1, 10), chosen, None, True, options
                )
                rows = [
                    [b.label.removeprefix("✅ ") for b in row]
                    for row in screen.buttons
                    if all(b.data.startswith("ans:") for b in row)
                ]
                for row in rows:
                    limit = HALF_ROW if len(row) == 2 else 36
                    assert all(len(text) <= limit for text in row), (lang, question, row)
                layouts.append([len(row) for row in rows])
            assert layouts[0] == layouts[1], (lang, question, "ticking moved the buttons")
