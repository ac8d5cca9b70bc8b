"""Reading what people type: one folding for answers and for the words of the glossary, and
typed dates."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata


def fold(text: str) -> str:
    """Lower-cases and strips accents and punctuation, for matching typed answers."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")


def parse_day(text: str) -> dt.date | None:
    """Reads a typed date (DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY or YYYY-MM-DD)."""
    cleaned = text.strip()[:20]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None
