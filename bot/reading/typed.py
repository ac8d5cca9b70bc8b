"""Typed answers read as the buttons they stand for: an option by its number, name or an
everyday word, several options, a confirmation, "valider", an indicator's status."""

from __future__ import annotations

import re
from functools import lru_cache

import messages
from bot.reading.buttons import Action
from bot.render.screens import button_label, label
from bot.render.text import fold
from flows.assessment import STATUSES
from flows.contract import QUESTIONS
from flows.flow import CONFIRMED, CONFIRMED_ANSWERS


def confirmation_action(question: str, option: str, typed: str) -> Action | None:
    """Reads a typed reply to a confirmation: 1 or yes confirms, 2 or no gives the answer
    meant instead (either language)."""
    folded = fold(typed)
    yes = no = False
    for language in messages.LANGUAGES:
        words = messages.text(language, "questions", "words", question="", option="yes")
        yes = yes or folded in {fold(w) for w in words.split(",")}
        words = messages.text(language, "questions", "words", question="", option="no")
        no = no or folded in {fold(w) for w in words.split(",")}
    if folded == "1" or yes:
        return ("answer", (question, option, CONFIRMED))
    alternative = CONFIRMED_ANSWERS.get((question, option))
    if (folded == "2" or no) and alternative is not None:
        return ("answer", (question, alternative))
    return None


@lru_cache(maxsize=64)
def _names(question: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Per option, every way of naming it: id, labels and everyday words, in both languages."""
    named = []
    for option in QUESTIONS[question].options:
        names = {fold(option), fold(option.replace("_", " "))}
        for language in messages.LANGUAGES:
            names.add(fold(label(language, question, option)))
            names.add(fold(button_label(language, question, option)))
            words = messages.text(language, "questions", "words", question=question, option=option)
            names |= {fold(w) for w in words.split(",") if fold(w)}
        named.append((option, frozenset(names)))
    return tuple(named)


FILLER = frozenset(
    [
        "je",
        "j",
        "suis",
        "ai",
        "nous",
        "sommes",
        "c",
        "est",
        "i",
        "m",
        "am",
        "we",
        "are",
        "our",
        "my",
        "mon",
        "ma",
        "mes",
        "fais",
        "faisons",
        "propose",
        "proposons",
        "des",
        "de",
        "du",
        "la",
        "le",
        "les",
        "un",
        "une",
        "do",
        "offer",
        "some",
        "a",
    ]
)
"""Words around an answer ("je suis salariée") that say nothing about which option it is."""


def _partly_names(typed: str, name: str) -> bool:
    """Every typed word begins a word of the name ("indep" in "consultant independant")."""
    words = name.split()
    return all(any(w.startswith(t) for w in words) for t in typed.split())


def match_option(question: str, typed: str, lang: str) -> str | None:
    """Returns the option a typed answer means: its number, id, label or an everyday word for
    it (accents and case aside), or a part of one when only one option fits."""
    options = QUESTIONS[question].options
    folded = fold(typed)
    if not folded or len(typed) > 200:
        return None
    if folded.isdigit():
        index = int(folded) - 1
        return options[index] if 0 <= index < len(options) else None
    named = _names(question)
    exact = [option for option, names in named if folded in names]
    if exact:
        return exact[0] if len(exact) == 1 else None
    meaningful = " ".join(w for w in folded.split() if w not in FILLER)
    if len(meaningful) < 3:
        return None
    if meaningful != folded:  # "je fais des formations": the words that name an option
        exact = [option for option, names in named if meaningful in names]
        if len(exact) == 1:
            return exact[0]
    # A part of a word never picks the option that excludes the others: "non" is not "None
    # of these" (a trainer would be told in one minute that nothing applies to them).
    exclusive = QUESTIONS[question].exclusive
    partial = [
        o
        for o, names in named
        if o != exclusive and any(_partly_names(meaningful, n) for n in names)
    ]
    return partial[0] if len(partial) == 1 else None


def means_confirm(typed: str) -> bool:
    """Tells whether a typed text validates the options ticked ("valider", "c'est bon")."""
    folded = fold(typed)
    return any(
        folded in {fold(w) for w in messages.text(lang, "ui", "confirm_words").split(",")}
        for lang in messages.LANGUAGES
    )


def match_options(question: str, typed: str, lang: str) -> list[str] | None:
    """Returns the options of a typed multi-choice answer ("1 3", "opco, cpf", "formation et
    bilans"), or None: pieces between commas or "et"/"and" first, then single words."""
    limit = len(QUESTIONS[question].options)
    for separators in (r"[,;/+]+|\bet\b|\band\b", r"[,;/+\s]+"):
        pieces = [p for p in re.split(separators, typed.strip()) if p.strip()]
        if not pieces or len(pieces) > limit:
            continue
        chosen = [match_option(question, piece, lang) for piece in pieces]
        if all(chosen):
            return list(dict.fromkeys(o for o in chosen if o))
    whole = match_option(question, typed, lang)
    return [whole] if whole else None


def _status_text(lang: str, macro: str, code: str) -> str:
    return messages.text(lang, "assessment", macro, code=code)


@lru_cache(maxsize=4)
def _words(lang: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Per status (and skip, back), every way of saying it, in this language and the others."""
    named = []
    for code in (*STATUSES, "skip", "back"):
        said = set()
        for language in (lang, *messages.LANGUAGES):
            words = _status_text(language, "words", code).split(",")
            said |= {fold(w) for w in words if fold(w)}
        if code in STATUSES:
            said |= {fold(_status_text(x, "status", code)) for x in messages.LANGUAGES}
        named.append((code, frozenset(said)))
    return tuple(named)


def typed_status(typed: str, lang: str) -> str | None:
    """Reads a typed answer to an indicator ("oui", "en partie", "pas encore", "passer")."""
    folded = fold(typed[:80])
    for code, said in _words(lang):
        if folded in said:
            return code
    return None
