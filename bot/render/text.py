"""One folding of text (lower case, no accents, no punctuation), for typed answers and for
the words of the glossary alike."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-cases and strips accents and punctuation, for matching typed answers."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())
