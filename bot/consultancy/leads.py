"""Being contacted, only with consent: the steps from the offer to the stored lead.

Each step is pure (it runs inside the chat's storage transaction): from the stored meta and
what the person did, it returns the new meta, the replies, and whether the lead is complete.
"""

from __future__ import annotations

import re
from typing import Any

import messages
from bot.config import Settings
from bot.outbox import Out, rows
from bot.render.screens import evaluation_of
from bot.storage import Lead

EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,185}\.[A-Za-z]{2,24}$")
LEAD_STEPS = ("contact", "name", "message")

Step = tuple[dict[str, Any], list[Out], bool]
"""The new meta, the replies, and whether the lead is now complete."""


def _t(lang: str, macro: str, **data: Any) -> str:
    return messages.text(lang, "followup", macro, **data)


def _ask(lang: str, macro: str) -> Out:
    return Out(_t(lang, macro), rows(((_t(lang, "skip"), "lead:skip"),)))


def lead_button(
    data: str, meta: dict[str, Any], lang: str, settings: Settings, certified: bool
) -> Step:
    """Applies a button of the offer (contact or reminders)."""
    if data == "lead:yes" and settings.admin_chat_ids and not meta.get("lead_declined"):
        meta["lead"] = "consent"
        consent = str(
            messages.call(
                lang,
                "followup",
                "consent",
                name=settings.consultancy_name,
                days=settings.data_retention_days,
            )
        )
        agree = rows(((_t(lang, "agree"), "lead:agree"), (_t(lang, "offer_no"), "lead:no")))
        return meta, [Out(consent, agree)], False
    if data == "lead:no":
        meta["lead"] = None
        meta["lead_declined"] = True
        return meta, [Out(_t(lang, "declined"), clear_keyboard=True)], False
    if data == "lead:agree" and meta.get("lead") == "consent":
        meta["lead"] = "contact"
        meta["lead_draft"] = {}
        return meta, [Out(_t(lang, "ask_contact"), ask_contact=_t(lang, "share_phone"))], False
    if data == "lead:skip" and meta.get("lead") in ("name", "message"):
        return lead_text("", meta, lang, settings, skipped=True)
    if data == "remind:yes":
        meta["reminder"] = "asking"
        return meta, [Out(_t(lang, "remind_ask", certified=certified))], False
    return meta, [], False


def lead_contact(
    phone: str, args: tuple[str, ...], user_id: int | None, meta: dict[str, Any], lang: str
) -> tuple[dict[str, Any], list[Out]]:
    """Takes a shared phone number: the person's own only."""
    if not args or user_id is None or args[0] != str(user_id):
        return meta, [Out(_t(lang, "not_own_contact"))]
    meta["lead_draft"] = {**meta.get("lead_draft", {}), "phone": phone[:32]}
    meta["lead"] = "name"
    return meta, [_ask(lang, "ask_name")]


def lead_text(
    typed: str, meta: dict[str, Any], lang: str, settings: Settings, skipped: bool = False
) -> Step:
    """Takes what the person typed at a lead step: e-mail address, name, message."""
    step = meta.get("lead")
    draft = dict(meta.get("lead_draft", {}))
    text = typed.strip()
    if step == "contact":
        if not EMAIL.match(text):
            return meta, [Out(_t(lang, "bad_email"))], False
        draft["email"] = text
        meta.update(lead="name", lead_draft=draft)
        return meta, [_ask(lang, "ask_name")], False
    if step == "name":
        if text and not skipped:
            draft["name"] = text[:100]
        meta.update(lead="message", lead_draft=draft)
        return meta, [_ask(lang, "ask_message")], False
    if step == "message":
        if text and not skipped:
            draft["message"] = text[:1000]
        meta.update(lead="sent", lead_draft=draft)
        thanks = _t(
            lang,
            "thanks",
            name=settings.consultancy_name,
            booking_url=settings.consultancy_booking_url,
        )
        return meta, [Out(thanks, clear_keyboard=True)], True
    return meta, [], False


def completed_lead(
    chat_id: int, snapshot: dict[str, Any], source: str | None, meta: dict[str, Any], lang: str
) -> Lead:
    """The lead a person has just completed (stored with the step that completes it)."""
    ev = evaluation_of(snapshot)
    draft = meta.get("lead_draft", {})
    return Lead(
        chat_id=chat_id, language=lang, source=source, verdict=ev.verdict.value,
        indicator_count=len(ev.indicators), answers=dict(snapshot["answers"]),
        name=draft.get("name"), phone=draft.get("phone"), email=draft.get("email"),
        message=draft.get("message"),
    )  # fmt: skip
