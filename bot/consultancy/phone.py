"""Phone numbers as a consultant in France reads and dials them.

A number shared with Telegram's contact button comes as digits, with or without "+"
("+33612345678", "33612345678"). In the chat it is shown in international form, grouped
("+33 6 12 34 56 78": Telegram makes it a link to call); in a spreadsheet as it is dialled
from France ("06 12 34 56 78", "0692 12 34 56" in Réunion, "00 44 20 7946 0958"): spaces
keep it text, so no spreadsheet drops a leading 0 or reads a "+" as a formula.
"""

from __future__ import annotations

import phonenumbers

HOME = "FR"
"""Where the consultancy calls from."""

NATIONAL_PLAN = frozenset({33, 262, 508, 590, 594, 596})
"""Country codes dialled from mainland France with a 0, as French numbers: metropolitan France
and the overseas departments (Réunion and Mayotte, Saint-Pierre-et-Miquelon, Guadeloupe and the
Northern islands, Guyane, Martinique)."""


def _parsed(phone: str) -> phonenumbers.PhoneNumber | None:
    digits = phone.strip()
    if digits[:1].isdigit() and not digits.startswith("0"):
        digits = "+" + digits  # Telegram sometimes leaves out the "+" of an international number
    try:
        number = phonenumbers.parse(digits, HOME)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def for_chat(phone: str) -> str:
    """The number in international form, grouped; as given if it is not a phone number."""
    number = _parsed(phone)
    if number is None:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def for_sheet(phone: str) -> str | None:
    """The number as dialled from France, grouped; None if it is not a phone number (the
    caller then writes it guarded, as any other text)."""
    number = _parsed(phone)
    if number is None:
        return None
    if number.country_code in NATIONAL_PLAN:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_out_of_country_calling_number(number, HOME)
