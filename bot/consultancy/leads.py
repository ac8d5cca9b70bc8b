"""Being contacted, only with consent: the steps from the offer to the stored lead.

Each step is pure (it runs inside the chat's storage transaction): from the follow-ups' stored
state and what the person did, it returns their new state, the replies, and whether the lead
is complete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import messages
from bot.chat.meta import FollowMeta
from bot.config import Settings
from bot.outbox import Out, rows
from bot.render.screens import evaluation_of
from bot.storage import Lead, Record
from flows.assessment import readiness
from flows.flow import is_snapshot
from flows.path import ContractError

EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,185}\.[A-Za-z]{2,24}$")

Step = tuple[FollowMeta, list[Out], bool]
"""The follow-ups' new state, the replies, and whether the lead is now complete."""


def _t(lang: str, macro: str, **data: Any) -> str:
    return messages.text(lang, "followup", macro, **data)


def _ask(lang: str, macro: str) -> Out:
    return Out(_t(lang, macro), rows(((_t(lang, "skip"), "lead:skip"),)))


DOSSIER_CHOICES = ("index", "files", "none")
"""What of their dossier de preuves a person may send with a lead (each its own consent)."""


def lead_button(
    data: str,
    follow: FollowMeta,
    lang: str,
    settings: Settings,
    certified: bool,
    *,
    result: Mapping[str, Any] | None = None,
    evidence: int = 0,
) -> Step:
    """Applies a button of the offer (contact or reminders), or the dossier's consent;
    ``result`` is the person's snapshot when its answers give a result (``resulting``; None
    during a questionnaire): a lead starts only from a result, and carries that one."""
    choice = data.removeprefix("lead:dossier:")
    if choice in DOSSIER_CHOICES and data.startswith("lead:dossier:"):
        if follow.lead != "dossier":
            return follow, [], False  # an older question: nothing changes
        draft = {**follow.lead_draft, "dossier": choice}
        return _thanks(follow.but(lead_draft=draft), lang, settings)
    starting = data == "lead:yes" or (data == "lead:agree" and follow.lead is None)
    if starting and result is None and settings.admin_chat_ids:
        # an offer, or its consent, left above after a restart: nothing to send yet
        return follow, [needs_result(lang, settings)], False
    if data == "lead:yes" and settings.admin_chat_ids:  # after a "no", only /conseiller has it
        consent = messages.call(
            lang,
            "followup",
            "consent",
            name=settings.consultancy_name,
            days=settings.data_retention_days,
        )
        agree = rows(((_t(lang, "agree"), "lead:agree"), (_t(lang, "offer_no"), "lead:no")))
        consenting = follow.but(lead="consent", lead_result=dict(result or {}))
        return consenting, [Out(consent, agree)], False
    if data == "lead:no":
        declined = follow.but(lead=None, lead_declined=True)
        return declined, [Out(_t(lang, "declined"), clear_keyboard=True)], False
    if data == "lead:agree" and (follow.lead == "consent" or _fresh(follow, settings)):
        # the consent of this result, or the same words left above from an earlier one
        asked = Out(_t(lang, "ask_contact"), ask_contact=_t(lang, "share_phone"))
        kept = follow.lead_result if follow.lead == "consent" else dict(result or {})
        return follow.but(lead="contact", lead_draft={}, lead_result=kept), [asked], False
    if data == "lead:skip" and follow.lead in ("name", "message"):
        return lead_text("", follow, lang, settings, skipped=True, evidence=evidence)
    if data == "remind:yes":
        asking = Out(_t(lang, "remind_ask", certified=certified))
        return follow.but(reminder="asking"), [asking], False
    return follow, [], False


def needs_result(lang: str, settings: Settings) -> Out:
    """What a person is told when a contact request has no result to carry: nothing sent, the
    offer comes again with their result."""
    return Out(_t(lang, "lead_needs_result", name=settings.consultancy_name))


def _fresh(follow: FollowMeta, settings: Settings) -> bool:
    """Whether a lead may start now: none under way or sent for this result, none refused."""
    return bool(settings.admin_chat_ids) and follow.lead is None and not follow.lead_declined


def lead_contact(
    phone: str, args: tuple[str, ...], user_id: int | None, follow: FollowMeta, lang: str
) -> tuple[FollowMeta, list[Out]]:
    """Takes a shared phone number: the person's own only."""
    if not args or user_id is None or args[0] != str(user_id):
        return follow, [Out(_t(lang, "not_own_contact"))]
    draft = {**follow.lead_draft, "phone": phone[:32]}
    return follow.but(lead_draft=draft, lead="name"), [_ask(lang, "ask_name")]


def _thanks(follow: FollowMeta, lang: str, settings: Settings) -> Step:
    """The lead is complete: thanks, and where to book."""
    thanks = _t(
        lang,
        "thanks",
        name=settings.consultancy_name,
        booking_url=settings.consultancy_booking_url,
    )
    return follow.but(lead="sent"), [Out(thanks, clear_keyboard=True)], True


def lead_text(
    typed: str,
    follow: FollowMeta,
    lang: str,
    settings: Settings,
    *,
    skipped: bool = False,
    evidence: int = 0,
) -> Step:
    """Takes what the person typed at a lead step: e-mail address, name, message; a person
    with evidence (``evidence`` pieces) is then asked what of their dossier to send."""
    draft = dict(follow.lead_draft)
    text = typed.strip()
    if follow.lead == "contact":
        if not EMAIL.match(text):
            return follow, [Out(_t(lang, "bad_email"))], False
        draft["email"] = text
        # the e-mail typed, the button that shares the phone number is of no more use: a
        # keyboard goes only with a message of its own (the next question has its buttons)
        noted = Out(_t(lang, "email_noted", email=text), clear_keyboard=True)
        return follow.but(lead="name", lead_draft=draft), [noted, _ask(lang, "ask_name")], False
    if follow.lead == "name":
        if text and not skipped:
            draft["name"] = text[:100]
        return follow.but(lead="message", lead_draft=draft), [_ask(lang, "ask_message")], False
    if follow.lead == "message":
        if text and not skipped:
            draft["message"] = text[:1000]
        if evidence:
            asked = messages.call(
                lang, "followup", "ask_dossier", name=settings.consultancy_name, count=evidence
            )
            choices = rows(
                ((_t(lang, "dossier_choice", choice="index"), "lead:dossier:index"),),
                ((_t(lang, "dossier_choice", choice="files"), "lead:dossier:files"),),
                ((_t(lang, "dossier_choice", choice="none"), "lead:dossier:none"),),
            )
            return follow.but(lead="dossier", lead_draft=draft), [Out(asked, choices)], False
        return _thanks(follow.but(lead_draft=draft), lang, settings)
    return follow, [], False


def resulting(snapshot: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The snapshot when its answers give a result (a lead can carry it), else None: a
    questionnaire under way, restarted, or its answers half changed."""
    if not snapshot or not is_snapshot(snapshot):
        return None
    try:
        evaluation_of(snapshot)
    except ContractError:
        return None
    return snapshot


FIRST_ACTIONS = 3
"""How many actions of the person's plan the lead carries."""


def completed_lead(
    chat_id: int,
    record: Record,
    follow: FollowMeta,
    lang: str,
    today: dt.date,
) -> Lead | None:
    """The lead a person has just completed (stored with the step that completes it), with
    their readiness and first actions when they assessed themselves: from the result they
    said "yes" at (``FollowMeta.lead_result``; for a lead begun before it was kept, the
    chat's snapshot). None when neither gives a result (nothing to send)."""
    snapshot = resulting(follow.lead_result) or resulting(record.snapshot)
    if snapshot is None:
        return None
    ev = evaluation_of(snapshot)
    draft = follow.lead_draft
    ready = (
        readiness(ev.referential, ev.indicators, record.statuses, today=today)
        if record.statuses
        else None
    )
    return Lead(
        chat_id=chat_id, language=lang, source=record.source, verdict=ev.verdict.value,
        indicator_count=len(ev.indicators), answers=dict(snapshot["answers"]),
        name=draft.get("name"), phone=draft.get("phone"), email=draft.get("email"),
        message=draft.get("message"),
        readiness=ready.percent if ready and ready.assessed else None,
        first_actions=tuple(a.number for a in ready.plan[:FIRST_ACTIONS]) if ready else (),
        dossier=draft.get("dossier") if draft.get("dossier") in ("index", "files") else None,
    )  # fmt: skip
