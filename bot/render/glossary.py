"""Words explained: which terms a typed question names, which terms each question uses, and
the safe answer given for "I don't know" on a jargon question (flagged in the result)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from markupsafe import Markup

import messages
from bot.render.text import fold

KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "opco": ("opco",),
        "cpf": ("cpf", "mon compte formation", "compte personnel de formation"),
        "rncp": ("rncp",),
        "rs": ("rs", "repertoire specifique"),
        "nda": ("nda", "declaration d activite", "numero de declaration"),
        "bpf": ("bpf", "bilan pedagogique"),
        "dreets": ("dreets", "direccte"),
        "france_travail": ("france travail", "pole emploi"),
        "transitions_pro": ("transitions pro", "transition pro"),
        "agefiph": ("agefiph",),
        "faf": ("faf", "fif pl", "agefice", "vivea", "fonds d assurance formation"),
        "alternance": ("alternance", "contrat pro", "contrat de professionnalisation", "pro a"),
        "afest": ("afest",),
        "portage": ("portage",),
        "cfa": ("cfa", "centre de formation d apprentis"),
        "vae": ("vae", "validation des acquis"),
        "bilan": ("bilan de competences", "bilans de competences", "skills assessment"),
        "certificateur": ("certificateur", "certificateurs", "certifier", "certifiers"),
        "nouvel_entrant": ("nouvel entrant", "new entrant"),
        "positionnement": ("positionnement", "positioning"),
        "veille": ("veille", "watch"),
        "referent_handicap": ("referent handicap", "handicap", "disability", "disabilities"),
        "parties_prenantes": ("parties prenantes", "stakeholders", "stakeholder"),
    }
)
"""Per term, how people write it (folded: lower case, no accents, no punctuation)."""

QUESTION_TERMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "activities": ("vae", "bilan", "cfa"),
        "funders": ("opco", "cpf", "france_travail", "transitions_pro", "agefiph", "faf"),
        "cpf_subcontracting": ("cpf",),
        "certifying": ("rncp", "rs", "cpf"),
        "work_based": ("alternance", "afest"),
        "uses_subcontractors": ("portage",),
        "certified": ("certificateur",),
        "stage": ("nouvel_entrant", "nda"),
    }
)
"""The terms a question uses: its ℹ️ button explains them."""

SAFE_ANSWERS: Mapping[str, str] = MappingProxyType(
    {"certifying": "yes", "work_based": "alternance", "uses_subcontractors": "yes"}
)
"""For "I don't know" on a jargon question: the answer that leaves no indicator out (the
result says it was assumed)."""

DONT_KNOW = frozenset(
    {"je ne sais pas", "je sais pas", "sais pas", "aucune idee", "i don t know", "dont know",
     "no idea", "not sure"}
)  # fmt: skip
"""Typed "I don't know" (folded)."""

_PATTERNS = {
    term: re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b")
    for term, keys in KEYWORDS.items()
}


def terms_named(typed: str) -> tuple[str, ...]:
    """Returns the terms a typed text names ("c'est quoi un OPCO ?"), in glossary order."""
    folded = fold(typed[:500])
    return tuple(term for term, pattern in _PATTERNS.items() if pattern.search(folded))


def explanation_parts(lang: str, terms: tuple[str, ...]) -> list[Markup]:
    """The definitions of these terms (at most six: they stay one screen)."""
    return [messages.call(lang, "glossary", "definition", term=t) for t in terms[:6]]


def explanation(lang: str, terms: tuple[str, ...]) -> Markup:
    """Returns the message explaining these terms."""
    parts = [messages.call(lang, "glossary", "heading"), *explanation_parts(lang, terms)]
    return messages.join("\n\n", parts)
