"""Templates: French and English in step, every finding worded, Telegram-safe output."""

from __future__ import annotations

import ast
import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from jinja2 import Environment

import messages
from bot.render.report import build_report, render_result_html, render_result_text
from flows import advice, rules, steps
from flows.advice import evaluate
from flows.path import validate
from tests.answers import INDEPENDENT_OPCO
from tests.strategies import valid_answers

ROOT = Path(messages.__file__).parent
TEMPLATES = sorted(p.name.removesuffix(".html.j2") for p in (ROOT / "fr").glob("*.html.j2"))
MACRO_TEMPLATES = ["reasons", "notes", "steps", "errors", "labels"]
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "blockquote", "tg-spoiler", "span", "tg-emoji"}  # fmt: skip


def test_every_template_exists_in_both_languages() -> None:
    fr = {p.name for p in (ROOT / "fr").iterdir()}
    en = {p.name for p in (ROOT / "en").iterdir()}
    assert fr == en


@pytest.mark.parametrize("name", MACRO_TEMPLATES)
def test_every_macro_exists_in_both_languages(name: str) -> None:
    assert messages.macro_names("fr", name) == messages.macro_names("en", name)


def _codes_in_rules() -> set[str]:
    """Every finding code flows.rules, flows.advice and flows.steps can emit, read from their
    source."""
    trees = [ast.parse(Path(m.__file__).read_text("utf-8")) for m in (rules, advice, steps)]
    codes = {
        node.args[0].value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) in ("Finding", "rule")
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    codes |= {r.code for r in rules.OBLIGATION_RULES}
    codes |= {f"future_public_{k}" for k in rules.OUTLOOK}
    return codes


def test_every_finding_code_has_wording_in_both_languages() -> None:
    codes = _codes_in_rules()
    assert len(codes) > 40
    for lang in messages.LANGUAGES:
        worded = set().union(
            *(messages.macro_names(lang, t) for t in ("reasons", "notes", "steps"))
        )
        assert codes <= worded, codes - worded


def _tags(html: str) -> list[str]:
    return re.findall(r"</?([a-z-]+)", html)


def check_telegram_html(html: str) -> None:
    assert set(_tags(html)) <= TELEGRAM_TAGS
    depth = 0
    for match in re.finditer(r"<(/?)([a-z-]+)[^>]*>", html):
        depth += -1 if match.group(1) else 1
        assert depth >= 0
    assert depth == 0
    assert re.search(r"&(?!amp;|lt;|gt;|quot;|#\d+;)", html) is None, "bare & in HTML"


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(raw=valid_answers())
def test_every_result_renders_in_both_languages_with_telegram_html(raw: dict[str, Any]) -> None:
    ev = evaluate(validate(raw), dt.date(2026, 11, 26))
    for lang in messages.LANGUAGES:
        html = render_result_html(ev, lang)
        check_telegram_html(html)
        text = render_result_text(ev, lang)
        assert "<" not in text.replace("<=", "")
        assert build_report(ev, lang)["headline"] in text


def test_user_supplied_text_is_escaped() -> None:
    assert messages.call("en", "errors", "unknown_question", question="<b>&", allowed=["x"]) == (
        "Unknown question “&lt;b&gt;&amp;”; the questions are: x."
    )
    assert messages.text("en", "errors", "unknown_question", question="<b>&", allowed=["x"]) == (
        "Unknown question “<b>&”; the questions are: x."
    )


@pytest.mark.parametrize(
    ("tag", "lang"),
    [("fr-FR", "fr"), ("fr", "fr"), ("FR-ca", "fr"), ("en-GB", "en"), ("de", "en"), (None, "fr")],
)
def test_language_comes_from_the_telegram_tag(tag: str | None, lang: str) -> None:
    assert messages.language_or_default(tag) == lang


def test_templates_list_is_not_empty() -> None:
    assert {"reasons", "notes", "steps", "errors", "labels", "result"} <= set(TEMPLATES)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_every_question_option_verdict_and_category_is_worded(lang: str) -> None:
    from flows.contract import CATEGORIES, QUESTIONS, VERDICTS

    for question, spec in QUESTIONS.items():
        assert messages.text(lang, "questions", question).strip()
        assert messages.text(lang, "questions", "help", question=question).strip()
        assert messages.text(lang, "questions", "short", question=question).strip()
        for option in spec.options:
            assert messages.text(lang, "questions", "option", question=question, option=option)
    for verdict in VERDICTS:
        assert messages.text(lang, "labels", "headline", verdict=verdict).strip()
    for category in CATEGORIES:
        assert messages.text(lang, "labels", "category", code=category).strip()


BRAND = {
    "name": "Cabinet Atelier Qualité",
    "presentation": "Nous accompagnons les organismes de formation.\nDepuis 2015, à Lyon.",
    "contact_url": "https://atelier.example/contact",
    "booking_url": "https://atelier.example/rdv",
}


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_the_consultancys_block_keeps_its_lines_everywhere(lang: str) -> None:
    """Each value on its own line: a link never runs into the next words (which would make
    the link point to a wrong address), a multi-line presentation stays multi-line."""
    block = messages.text(lang, "followup", "brand", **BRAND).splitlines()
    assert block[:3] == [
        "Cabinet Atelier Qualité",
        "Nous accompagnons les organismes de formation.",
        "Depuis 2015, à Lyon.",
    ]
    assert block[3].endswith(" https://atelier.example/contact")
    assert block[4].endswith(" https://atelier.example/rdv")
    no_links = {**BRAND, "contact_url": None, "booking_url": None}
    in_chat = messages.text(lang, "followup", "brand", **no_links).splitlines()
    assert in_chat == block[:3], "in a chat the links are buttons"
    thanks = messages.text(
        lang, "followup", "thanks", name=BRAND["name"], booking_url=BRAND["booking_url"]
    )
    assert thanks.splitlines()[-1].endswith(" https://atelier.example/rdv")
    privacy = messages.text(
        lang, "followup", "privacy", name=BRAND["name"], days=365, leads_enabled=True,
        answers=3, leads=0, reminders=1, details=["Situation x", "Rappel y"],
    ).splitlines()  # fmt: skip
    assert privacy[-3:-1] == ["• Situation x", "• Rappel y"]
    assert privacy[-1].endswith("/supprimer" if lang == "fr" else "/delete")


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_every_glossary_word_is_explained_with_its_source(lang: str) -> None:
    from bot.render.glossary import KEYWORDS, QUESTION_TERMS

    for term in KEYWORDS:
        said = messages.text(lang, "glossary", "definition", term=term)
        body, source = said.rsplit("\n", 1)
        assert 2 <= body.count(".") <= 5, term  # two or three sentences
        assert source.startswith("Source"), term
    assert {t for terms in QUESTION_TERMS.values() for t in terms} <= set(KEYWORDS)


def test_a_language_being_added_speaks_english_where_its_texts_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third language is templates and data: its folder of templates, its code in the
    list. A template or a macro it has not written yet is taken from English; a Telegram tag
    of that language picks it; the language switch takes it in turn."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    import messages

    for lang, body in {
        "en": "{% macro hello() %}Hello{% endmacro %}{% macro bye() %}Bye{% endmacro %}",
        "de": "{% macro hello() %}Hallo{% endmacro %}",
    }.items():
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "greet.html.j2").write_text(body)
    (tmp_path / "en" / "only.html.j2").write_text("{% macro it() %}English only{% endmacro %}")
    env = Environment(loader=FileSystemLoader(tmp_path), undefined=StrictUndefined)
    monkeypatch.setattr(messages, "_ENV", env)
    monkeypatch.setattr(messages, "TEMPLATE_DIR", tmp_path)
    monkeypatch.setattr(messages, "LANGUAGES", ("fr", "en", "de"))
    messages._module.cache_clear()
    messages._template.cache_clear()
    try:
        assert messages.text("de", "greet", "hello") == "Hallo"
        assert messages.text("de", "greet", "bye") == "Bye", "a macro not written yet"
        assert messages.text("de", "only", "it") == "English only", "a template not written yet"
        with pytest.raises(KeyError):
            messages.text("de", "greet", "nothing")
        assert messages.language_or_default("de-AT") == "de"
        assert messages.language_or_default("pt-BR") == "en"
        assert [messages.next_language(x) for x in ("fr", "en", "de")] == ["en", "de", "fr"]
    finally:
        messages._module.cache_clear()
        messages._template.cache_clear()


def test_after_the_warm_up_no_text_waits_on_the_template_compiler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bot compiles every template at its start: a person's first result is then rendered
    without reading or compiling one (a loader that refuses changes nothing)."""
    monkeypatch.setattr(messages, "_module", functools.cache(messages._module.__wrapped__))
    monkeypatch.setattr(messages, "_template", functools.cache(messages._template.__wrapped__))
    messages._ENV.cache.clear()  # type: ignore[union-attr]
    files = list(messages.TEMPLATE_DIR.glob("*/*.html.j2"))
    assert messages.warm_up() == len(files) > 0

    def refuse(environment: Environment, template: str) -> None:
        raise AssertionError(f"{template} compiled after the warm-up")

    monkeypatch.setattr(messages._ENV.loader, "get_source", refuse)
    ev = evaluate(validate(INDEPENDENT_OPCO), dt.date(2026, 11, 26))
    for lang in messages.LANGUAGES:
        assert build_report(ev, lang)["headline"] in render_result_text(ev, lang)


def test_a_text_without_data_is_the_same_every_time_it_is_asked() -> None:
    """Texts without data are rendered once and kept (a button's "Retour", an option's label):
    that holds only while templates read nothing but what they are given, so the environment
    has no globals, filters or tests of the product's own."""
    plain = Environment()
    assert set(messages._ENV.globals) == set(plain.globals)
    assert set(messages._ENV.filters) == set(plain.filters)
    assert set(messages._ENV.tests) == set(plain.tests)
    for lang in messages.LANGUAGES:
        first = messages.text(lang, "ui", "back")
        assert first == messages.text(lang, "ui", "back")
        assert first == messages.to_plain(messages.call(lang, "ui", "back"))
