"""After the result: being contacted (only with consent), audit reminders, data rights, and the
consultancy's own commands (/stats, /export) in its admin chats.

``decide`` is pure and runs inside the chat's storage transaction; ``act`` carries out what was
committed, through an ``Outbox`` (it never talks to Telegram itself).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import messages
from bot.chat.meta import LEAD_STEPS, FollowMeta
from bot.config import Settings
from bot.consultancy.admin import ADMIN_COMMANDS, run_admin_command
from bot.consultancy.jobs import FollowUpJobs
from bot.consultancy.leads import (
    completed_lead,
    lead_button,
    lead_contact,
    lead_text,
    needs_result,
    resulting,
)
from bot.consultancy.offer import advisor_message, brand_of, has_advisor
from bot.consultancy.reminders import (
    reminder_date_step,
    reminder_date_typed,
)
from bot.events import Event
from bot.outbox import Out, Outbox, Rows, rows
from bot.plan import Action, Clear, Follow, Send
from bot.reading.days import day_in
from bot.render.screens import answers_view
from bot.storage import Change, Record, Store, Tally
from flows.flow import is_snapshot
from flows.snapshot import as_snapshot

LOGGER = logging.getLogger("qualiopi_bot")
PERSON_COMMANDS = ("privacy", "delete")
"""The data-rights commands."""
FOLLOW_BUTTONS = ("lead", "remind", "del")
"""Button data prefixes of the follow-ups."""


class FollowUp(FollowUpJobs):
    """Everything after the questionnaire, for people and for the consultancy."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        now: Callable[[], dt.datetime] | None = None,
        outbox_of: Callable[[Any], Outbox] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.outbox_of: Callable[[Any], Outbox] = outbox_of or (lambda outbox: outbox)
        """Turns what a job is given (the front end's context) into the outbox it writes to."""

    def is_admin(self, chat_id: int) -> bool:
        """Tells whether the chat is one of the consultancy's admin chats."""
        return chat_id in self.settings.admin_chat_ids

    @property
    def leads_enabled(self) -> bool:
        """Leads are offered only when somebody receives them."""
        return bool(self.settings.admin_chat_ids)

    def accepts(self, event: Event, record: Record, chat_id: int) -> bool:
        """Tells whether this module handles the event."""
        kind, value, _ = event
        follow = FollowMeta.from_meta(record.meta)
        if kind == "command":
            if value == "advisor":
                return has_advisor(self.settings)
            admin = value in (*ADMIN_COMMANDS, "help") and self.is_admin(chat_id)
            return value in PERSON_COMMANDS or admin
        if kind == "button":
            return value.split(":", 1)[0] in FOLLOW_BUTTONS
        if kind == "contact":
            return follow.lead == "contact"
        if kind == "text":
            return follow.lead in LEAD_STEPS or follow.reminder == "asking"
        return False

    # --- handling ---

    def brand(self) -> dict[str, str | None] | None:
        """Returns the branding for the PDF, or None."""
        return brand_of(self.settings)

    def decide(
        self,
        event: Event,
        record: Record,
        chat_id: int,
        *,
        user_id: int | None,
        lang_guess: str,
        pressed: tuple[int, Rows] | None = None,
    ) -> tuple[Change | None, tuple[Action, ...]]:
        """Decides a follow-up step from the stored record: pure, so that it runs inside the
        chat's storage transaction (the chat locked across workers). Returns what to commit
        (the record, and any lead or reminders, in the same commit) and what to say, in order
        (``pressed``: the message whose button was pressed, and its rows)."""
        kind, value, args = event
        snapshot = record.snapshot or {}
        lang = snapshot.get("lang") or lang_guess
        said = self._said(event, record, lang)
        if said is not None:  # a reply alone
            return None, (Send.of(said),)
        if kind == "command" and value in ADMIN_COMMANDS:
            return None, (Follow("admin", lang, (value, *args)),)
        if kind == "command" and value == "privacy":
            return None, (Follow("privacy", lang),)
        if value == "del:yes":
            return None, (Follow("erase", lang),)
        follow = FollowMeta.from_meta(record.meta)
        due = None
        lead_done = False
        reply: list[Out] = []
        certified = is_snapshot(snapshot) and (
            as_snapshot(snapshot).answers.get("certified") == "yes"
        )
        confirmed = day_in(value, "remind:day:") if kind == "button" else None
        if confirmed is not None:
            if follow.reminder == "asking":  # else an older read-back: nothing changes
                follow, reply, due = reminder_date_step(confirmed, follow, lang, self.now().date())
        elif kind == "button":
            follow, reply, lead_done = lead_button(
                value,
                follow,
                lang,
                self.settings,
                certified,
                result=resulting(snapshot) if value.startswith("lead:") else None,
                evidence=len(record.evidence),
            )
        elif kind == "contact":
            follow, reply = lead_contact(value, args, user_id, follow, lang)
        elif follow.reminder == "asking":
            reply = [reminder_date_typed(value, lang, self.now().date(), certified)]
        else:
            follow, reply, lead_done = lead_text(
                value, follow, lang, self.settings, evidence=len(record.evidence)
            )
        lead = (
            completed_lead(chat_id, record, follow, lang, self.now().date()) if lead_done else None
        )
        if lead_done:  # the result it came from goes with it (or, without one, it ends here)
            follow = follow.but(lead_result={})
            if lead is None:
                follow = follow.but(lead=None, lead_draft={})
                reply = [needs_result(lang, self.settings)]
        meta = follow.into(record.meta)
        change = Change(
            Record(snapshot or None, record.live_message_id, record.source, None, meta),
            tallies=[Tally("lead", "", record.source or "")] if lead else (),
            lead=lead,
            reminders=(lang, due) if due is not None else None,
        )
        actions: list[Action] = []
        if kind == "button" and pressed is not None:  # the offer's used row goes
            message_id, rows = pressed
            prefix = value.split(":", 1)[0] + ":"
            kept = tuple(r for r in rows if not any(b.data.startswith(prefix) for b in r))
            actions.append(Clear(message_id, kept))
        if lead is not None:  # the consultancy first, as decided; then the person
            actions.append(Follow("lead", lang))
        actions += [Send.of(out) for out in reply]
        return change, tuple(actions)

    def _said(self, event: Event, record: Record, lang: str) -> Out | None:
        """The reply of a follow-up that only speaks (decided from the record and the
        settings alone): the admin's /help, /conseiller, /supprimer's question, its "no"."""
        kind, value, _ = event
        if kind == "command" and value == "help":  # an admin chat: its own commands first
            return Out(messages.text(lang, "stats", "admin_help"))
        if kind == "command" and value == "advisor":
            at_result = (record.snapshot or {}).get("state") == "result"
            follow = FollowMeta.from_meta(record.meta)
            return advisor_message(self.settings, lang, follow, at_result)
        if kind == "command" and value == "delete":
            return _delete_question(lang, self.settings)
        if kind == "button" and value == "del:no":
            return Out(messages.text(lang, "followup", "delete_cancelled"), html=False)
        return None

    async def carry_out(self, action: Follow, chat_id: int, outbox: Outbox) -> None:
        """Says a follow-up that reads the store, once its step is committed (``Follow``)."""
        lang = action.lang
        if action.what == "admin":
            command, *args = action.args
            await run_admin_command(
                outbox,
                self.store,
                today=self.now().date(),
                chat_id=chat_id,
                command=command,
                args=tuple(args),
                lang=lang,
                zone=self.settings.timezone,
            )
        elif action.what == "privacy":
            record = await self.store.record(chat_id)
            text = await self._privacy(chat_id, record.snapshot or {}, lang)
            await outbox.deliver(chat_id, Out(text))
        elif action.what == "erase":
            await self._delete(outbox, chat_id, lang)
        elif action.what == "lead":
            await self.alert(outbox, chat_id)

    async def _privacy(self, chat_id: int, snapshot: dict[str, Any], lang: str) -> str:
        held = await self.store.dump_chat(chat_id)
        details = [
            messages.text(lang, "pdf", "answer_line", **item)
            for item in answers_view(snapshot.get("answers", {}), lang)
        ]
        details += [
            " · ".join(str(lead[k]) for k in ("name", "phone", "email") if lead[k])
            for lead in held["leads"]
        ]
        details += [
            messages.text(lang, "followup", "held_reminder",
                          day=dt.date.fromisoformat(r["due_on"]), kind=r["kind"])
            for r in held["reminders"] if not r["sent_at"]
        ]  # fmt: skip
        statuses = held["assessments"]
        if statuses:
            done = sum(1 for r in statuses if r["status"] == "done")
            details.append(
                messages.text(
                    lang, "followup", "held_assessment", assessed=len(statuses), done=done
                )
            )
        details += [
            messages.text(lang, "followup", "held_evidence", indicator=e["indicator"],
                          name=e["name"], size=e["size"], kind=e["kind"])
            for e in held["evidence"]
        ]  # fmt: skip
        return messages.call(
        lang, "followup", "privacy", name=self.settings.consultancy_name,
        days=self.settings.data_retention_days, leads_enabled=self.leads_enabled,
        answers=len(snapshot.get("answers", {})), leads=len(held["leads"]),
        reminders=len(held["reminders"]), details=details,
        assessed=len(held["assessments"]), evidence=len(held["evidence"]),
    )  # fmt: skip

    async def _delete(self, outbox: Outbox, chat_id: int, lang: str) -> None:
        counts = await self.store.delete_person(chat_id)
        LOGGER.info("erased on request: %s", counts)
        name = self.settings.consultancy_name
        text = messages.text(lang, "followup", "deleted", counts=counts, name=name)
        await outbox.deliver(chat_id, Out(text, html=False, clear_keyboard=True))


def _delete_question(lang: str, settings: Settings) -> Out:
    def t(macro: str, **data: Any) -> str:
        return messages.text(lang, "followup", macro, **data)

    confirm = rows(((t("delete_yes"), "del:yes"), (t("delete_no"), "del:no")))
    leads = bool(settings.admin_chat_ids)
    text = t("delete_confirm", name=settings.consultancy_name, leads_enabled=leads)
    return Out(text, confirm, html=False)
