"""The consultancy's block (name, presentation, links) and the offer after a result."""

from __future__ import annotations

from markupsafe import Markup

import messages
from bot.chat.meta import FollowMeta
from bot.config import Settings
from bot.outbox import Out, Rows, rows
from bot.render.screens import Button
from flows.contract import Verdict

REMINDER_VERDICTS = (Verdict.REQUIRED.value, Verdict.RECOMMENDED.value)


BUTTON_SCHEMES = ("https://", "http://", "tg://")
"""Addresses Telegram opens from a button (a mailto: link stays in the text)."""


def _buttonable(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(BUTTON_SCHEMES)


def brand_text(settings: Settings, lang: str) -> Markup:
    """Returns the consultancy's block in a chat: name and presentation, line by line, and
    the links a button cannot carry (``brand_buttons`` has the others); empty when nothing
    is configured."""
    s = settings
    contact, booking = s.consultancy_contact_url, s.consultancy_booking_url
    return messages.call(
        lang,
        "followup",
        "brand",
        name=s.consultancy_name,
        presentation=presentation(s, lang),
        contact_url=None if _buttonable(contact) else contact,
        booking_url=None if _buttonable(booking) else booking,
    )


def presentation(settings: Settings, lang: str) -> str | None:
    """The consultancy's presentation in the person's language (else the one for all)."""
    return dict(settings.consultancy_presentations).get(lang) or settings.consultancy_presentation


def brand_buttons(settings: Settings, lang: str) -> Rows:
    """Returns the consultancy's contact and booking links as buttons that open them."""
    found = [
        Button(messages.text(lang, "followup", macro), "", url)
        for macro, url in (
            ("contact_button", settings.consultancy_contact_url),
            ("booking_button", settings.consultancy_booking_url),
        )
        if url and _buttonable(url)
    ]
    return (tuple(found),) if found else ()


def brand_of(settings: Settings) -> dict[str, str | None] | None:
    """Returns the branding for the PDF, or None (``presentation_<lang>``: in a language)."""
    s = settings
    if not (s.consultancy_name or s.consultancy_contact_url or s.consultancy_booking_url):
        return None
    return {
        "name": s.consultancy_name,
        "presentation": s.consultancy_presentation,
        **{f"presentation_{lang}": text for lang, text in s.consultancy_presentations},
        "contact_url": s.consultancy_contact_url,
        "booking_url": s.consultancy_booking_url,
    }


def has_advisor(settings: Settings) -> bool:
    """Tells whether a person can reach the consultancy (a link, or leads to its chats)."""
    return bool(
        settings.admin_chat_ids
        or settings.consultancy_contact_url
        or settings.consultancy_booking_url
    )


def advisor_message(settings: Settings, lang: str, follow: FollowMeta, at_result: bool) -> Out:
    """What /conseiller (/advisor) shows at any point: who the consultancy is, its links, and
    once the result is known, the offer to be contacted."""
    lines: list[tuple[tuple[str, str], ...]] = []
    # asked for by the person: offered even after a "no" to the offer (never offered unasked)
    if at_result and settings.admin_chat_ids and follow.lead != "sent":
        lines.append(((messages.text(lang, "followup", "offer_yes"), "lead:yes"),))
    buttons = (*rows(*lines), *brand_buttons(settings, lang))
    # without a button (no link configured, only the consultancy's chats): say what comes
    macro = (
        "advisor" if buttons
        else "advisor_at_result" if not at_result
        else "advisor_sent"
    )  # fmt: skip
    intro = messages.text(lang, "followup", macro, name=settings.consultancy_name)
    brand = brand_text(settings, lang)
    text = messages.join("\n\n", (brand, intro)) if brand else intro
    return Out(text, buttons)


def offer_after_result(
    settings: Settings,
    lang: str,
    verdict: str,
    follow: FollowMeta,
    next_audit: str | None = None,
) -> Out | None:
    """Returns the message offering contact and reminders after a result, if any; the
    reminder offer names the person's next audit when it is known."""
    lines: list[tuple[tuple[str, str], ...]] = []
    text_parts: list[str] = []
    brand = brand_text(settings, lang)
    if brand:
        text_parts.append(brand)
    leads_enabled = bool(settings.admin_chat_ids)
    if leads_enabled and not follow.lead_declined and follow.lead != "sent":
        text_parts.append(messages.text(lang, "followup", "offer", name=settings.consultancy_name))
        lines.append(
            (
                (messages.text(lang, "followup", "offer_yes"), "lead:yes"),
                (messages.text(lang, "followup", "offer_no"), "lead:no"),
            )
        )
    if verdict in REMINDER_VERDICTS:
        text_parts.append(
            messages.text(lang, "followup", "remind_question", next_audit=next_audit)
        )
        lines.append(((messages.text(lang, "followup", "remind_offer"), "remind:yes"),))
    if not text_parts:
        return None
    return Out(messages.join("\n\n", text_parts), (*rows(*lines), *brand_buttons(settings, lang)))
