"""After the result: being contacted (only with consent), audit reminders, data rights, and the
consultancy's own commands (/stats, /export) in its admin chats.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

import messages
from bot.config import Settings
from bot.consultancy import stats as stats_module
from bot.consultancy.export import export_all
from bot.render.screens import answers_view, evaluation_of
from bot.render.workers import render_pdf
from bot.storage import Change, Lead, Record, StorageError, Store, Tally
from flows.rules import Verdict

LOGGER = logging.getLogger("qualiopi_bot")
EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,185}\.[A-Za-z]{2,24}$")
DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
LEAD_STEPS = ("contact", "name", "message")
ADMIN_COMMANDS = ("stats", "export")
PERSON_COMMANDS = ("privacy", "delete")
REMINDER_VERDICTS = (Verdict.REQUIRED.value, Verdict.RECOMMENDED.value)

Event = tuple[str, str, tuple[str, ...]]


@dataclass
class FollowPlan:
    """What a follow-up step does once committed (decided inside the transaction)."""

    event: Event
    lang: str
    record: Record
    reply: list[tuple[str, Any]] = field(default_factory=list)
    lead: Lead | None = None


def add_months(day: dt.date, months: int) -> dt.date:
    """Returns the same day ``months`` later (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def reminder_dates(certified: dt.date) -> list[tuple[dt.date, str]]:
    """Returns when to remind: the surveillance window opening (14th month, arrêté du 6 juin
    2019 as amended) and the time to book the renewal audit, 8 months before the certificate's
    third anniversary (28th month; certifiers' practice)."""
    return [(add_months(certified, 14), "surveillance"), (add_months(certified, 28), "renewal")]


def parse_day(text: str) -> dt.date | None:
    """Reads a typed date (DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY or YYYY-MM-DD)."""
    cleaned = text.strip()[:20]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


class FollowUp:
    """Everything after the questionnaire, for people and for the consultancy."""

    def __init__(self, store: Store, settings: Settings, now: Any = None) -> None:
        self.store = store
        self.settings = settings
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    # --- which events are ours ---

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
        meta = record.meta
        if kind == "command":
            return value in PERSON_COMMANDS or (value in ADMIN_COMMANDS and self.is_admin(chat_id))
        if kind == "button":
            return value.split(":", 1)[0] in ("lead", "remind", "del")
        if kind == "contact":
            return meta.get("lead") == "contact"
        if kind == "text":
            return meta.get("lead") in LEAD_STEPS or meta.get("reminder") == "asking"
        return False

    # --- after the result ---

    def brand_text(self, lang: str) -> str:
        """Returns the consultancy's block (empty when nothing is configured)."""
        s = self.settings
        return str(
            messages.call(
                lang,
                "followup",
                "brand",
                name=s.consultancy_name,
                presentation=s.consultancy_presentation,
                contact_url=s.consultancy_contact_url,
                booking_url=s.consultancy_booking_url,
            )
        ).strip()

    def brand(self) -> dict[str, str | None] | None:
        """Returns the branding for the PDF, or None."""
        s = self.settings
        if not (s.consultancy_name or s.consultancy_contact_url or s.consultancy_booking_url):
            return None
        return {
            "name": s.consultancy_name,
            "presentation": s.consultancy_presentation,
            "contact_url": s.consultancy_contact_url,
            "booking_url": s.consultancy_booking_url,
        }

    def offers(
        self, lang: str, verdict: str, meta: dict[str, Any], next_audit: str | None = None
    ) -> tuple[str, InlineKeyboardMarkup | None] | None:
        """Returns the message offering contact and reminders after a result, if any; the
        reminder offer names the person's next audit when it is known."""
        rows: list[list[tuple[str, str]]] = []
        text_parts = []
        brand = self.brand_text(lang)
        if brand:
            text_parts.append(brand)
        if self.leads_enabled and not meta.get("lead_declined") and meta.get("lead") != "sent":
            text_parts.append(
                messages.text(lang, "followup", "offer", name=self.settings.consultancy_name)
            )
            rows.append(
                [
                    (messages.text(lang, "followup", "offer_yes"), "lead:yes"),
                    (messages.text(lang, "followup", "offer_no"), "lead:no"),
                ]
            )
        if verdict in REMINDER_VERDICTS:
            text_parts.append(
                messages.text(lang, "followup", "remind_question", next_audit=next_audit)
            )
            rows.append([(messages.text(lang, "followup", "remind_offer"), "remind:yes")])
        if not text_parts:
            return None
        return "\n\n".join(text_parts), _kb(rows) if rows else None

    # --- handling ---

    def decide(
        self, event: Event, record: Record, chat_id: int, user_id: int | None, lang_guess: str
    ) -> tuple[Change | None, FollowPlan]:
        """Decides a follow-up step from the stored record: pure, so that it runs inside the
        chat's storage transaction (the chat locked across workers). Returns what to commit
        (the record, and any lead or reminders, in the same commit) and what to do after."""
        kind, value, args = event
        snapshot = record.snapshot or {}
        plan = FollowPlan(event, snapshot.get("lang") or lang_guess, record)
        if kind == "command" or value.startswith("del:"):
            return None, plan  # data rights and admin commands write nothing here
        lang, meta = plan.lang, dict(record.meta)
        due = None
        if kind == "button":
            certified = snapshot.get("answers", {}).get("certified") == "yes"
            meta, plan.reply, lead_done = self._button(value, meta, lang, certified)
        elif kind == "contact":
            meta, plan.reply = self._contact(value, args, user_id, meta, lang)
            lead_done = False
        elif meta.get("reminder") == "asking":
            meta, plan.reply, due = self._reminder_date(value, meta, lang)
            lead_done = False
        else:
            meta, plan.reply, lead_done = self._lead_text(value, meta, lang)
        if lead_done:
            plan.lead = self._lead(chat_id, snapshot, record.source, meta, lang)
        change = Change(
            Record(snapshot or None, record.live_message_id, record.source, None, meta),
            tallies=[Tally("lead", "", record.source or "")] if plan.lead else (),
            lead=plan.lead,
            reminders=(lang, due) if due is not None else None,
        )
        return change, plan

    async def act(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, plan: FollowPlan
    ) -> None:
        """Does what a follow-up step decided, once it is committed: replies, notifications,
        and the data-rights and admin commands."""
        chat = update.effective_chat
        assert chat is not None
        kind, value, args = plan.event
        lang = plan.lang
        snapshot = plan.record.snapshot or {}
        bot = context.bot
        query = update.callback_query
        if query is not None:
            await _answer(query)
        if kind == "command" and value in ADMIN_COMMANDS:
            await self._admin(context.application, chat.id, value, args, lang)
            return
        if kind == "command" and value == "privacy":
            held = await self.store.dump_chat(chat.id)
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
            text = messages.call(
                lang, "followup", "privacy", name=self.settings.consultancy_name,
                days=self.settings.data_retention_days, leads_enabled=self.leads_enabled,
                answers=len(snapshot.get("answers", {})), leads=len(held["leads"]),
                reminders=len(held["reminders"]), details=details,
            )  # fmt: skip
            await bot.send_message(chat.id, str(text), parse_mode=ParseMode.HTML)
            return
        if kind == "command" and value == "delete":
            await bot.send_message(
                chat.id,
                messages.text(lang, "followup", "delete_confirm"),
                reply_markup=_kb(
                    [
                        [
                            (messages.text(lang, "followup", "delete_yes"), "del:yes"),
                            (messages.text(lang, "followup", "delete_no"), "del:no"),
                        ]
                    ]
                ),
            )
            return
        if kind == "button" and value.startswith("del:"):
            await self._delete(update, chat.id, value == "del:yes", lang)
            return
        if plan.lead is not None:
            await self._notify_admins(context.application, plan.lead, snapshot)
        if query is not None and isinstance(query.message, Message) and kind == "button":
            await _drop_pressed_row(query.message, value)
        for line, markup in plan.reply:
            await bot.send_message(chat.id, line, parse_mode=ParseMode.HTML, reply_markup=markup)

    def _button(
        self, data: str, meta: dict[str, Any], lang: str, certified: bool
    ) -> tuple[dict[str, Any], list[tuple[str, Any]], bool]:
        def t(macro: str, **data: Any) -> str:
            return messages.text(lang, "followup", macro, **data)

        if data == "lead:yes" and self.leads_enabled and not meta.get("lead_declined"):
            meta["lead"] = "consent"
            consent = str(
                messages.call(
                    lang,
                    "followup",
                    "consent",
                    name=self.settings.consultancy_name,
                    days=self.settings.data_retention_days,
                )
            )
            keyboard = _kb([[(t("agree"), "lead:agree"), (t("offer_no"), "lead:no")]])
            return meta, [(consent, keyboard)], False
        if data == "lead:no":
            meta["lead"] = None
            meta["lead_declined"] = True
            return meta, [(t("declined"), ReplyKeyboardRemove())], False
        if data == "lead:agree" and meta.get("lead") == "consent":
            meta["lead"] = "contact"
            meta["lead_draft"] = {}
            share = ReplyKeyboardMarkup(
                [[KeyboardButton(t("share_phone"), request_contact=True)]],
                one_time_keyboard=True,
                resize_keyboard=True,
            )
            return meta, [(t("ask_contact"), share)], False
        if data == "lead:skip" and meta.get("lead") in ("name", "message"):
            return self._lead_text("", meta, lang, skipped=True)
        if data == "remind:yes":
            meta["reminder"] = "asking"
            return meta, [(t("remind_ask", certified=certified), None)], False
        return meta, [], False

    def _contact(
        self,
        phone: str,
        args: tuple[str, ...],
        user_id: int | None,
        meta: dict[str, Any],
        lang: str,
    ) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
        if not args or user_id is None or args[0] != str(user_id):
            return meta, [(messages.text(lang, "followup", "not_own_contact"), None)]
        meta["lead_draft"] = {**meta.get("lead_draft", {}), "phone": phone[:32]}
        meta["lead"] = "name"
        return meta, [self._ask(lang, "ask_name")]

    def _ask(self, lang: str, macro: str) -> tuple[str, Any]:
        skip = _kb([[(messages.text(lang, "followup", "skip"), "lead:skip")]])
        return messages.text(lang, "followup", macro), skip

    def _lead_text(
        self, typed: str, meta: dict[str, Any], lang: str, skipped: bool = False
    ) -> tuple[dict[str, Any], list[tuple[str, Any]], bool]:
        step = meta.get("lead")
        draft = dict(meta.get("lead_draft", {}))
        text = typed.strip()
        if step == "contact":
            if not EMAIL.match(text):
                return meta, [(messages.text(lang, "followup", "bad_email"), None)], False
            draft["email"] = text
            meta.update(lead="name", lead_draft=draft)
            return meta, [self._ask(lang, "ask_name")], False
        if step == "name":
            if text and not skipped:
                draft["name"] = text[:100]
            meta.update(lead="message", lead_draft=draft)
            return meta, [self._ask(lang, "ask_message")], False
        if step == "message":
            if text and not skipped:
                draft["message"] = text[:1000]
            meta.update(lead="sent", lead_draft=draft)
            thanks = messages.text(
                lang,
                "followup",
                "thanks",
                name=self.settings.consultancy_name,
                booking_url=self.settings.consultancy_booking_url,
            )
            return meta, [(thanks, ReplyKeyboardRemove())], True
        return meta, [], False

    def _reminder_date(
        self, typed: str, meta: dict[str, Any], lang: str
    ) -> tuple[dict[str, Any], list[tuple[str, Any]], list[tuple[dt.date, str]] | None]:
        day = parse_day(typed)
        if day is None:
            return meta, [(messages.text(lang, "followup", "remind_bad_date"), None)], None
        today = self.now().date()
        due = [(d, kind) for d, kind in reminder_dates(day) if d >= today]
        meta["reminder"] = "set"
        items = [
            {
                "date": messages.text(lang, "labels", "date", day=d),
                "what": messages.text(lang, "followup", "remind_what", kind=k),
            }
            for d, k in due
        ]
        return meta, [(messages.text(lang, "followup", "remind_set", items=items), None)], due

    def _lead(
        self,
        chat_id: int,
        snapshot: dict[str, Any],
        source: str | None,
        meta: dict[str, Any],
        lang: str,
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

    async def _notify_admins(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        lead: Lead,
        snapshot: dict[str, Any],
    ) -> None:
        """Notifies every admin chat of a stored lead: its summary and the PDF."""
        ev = evaluation_of(snapshot)
        admin_lang = self.settings.default_language
        summary = str(messages.call(
            admin_lang, "followup", "admin_lead", lead=lead,
            verdict=messages.text(admin_lang, "stats", "verdict", verdict=lead.verdict),
            count=lead.indicator_count, total=len(ev.referential.indicators),
        ))  # fmt: skip
        pdf = await render_pdf({**snapshot, "lang": admin_lang}, self.brand())
        for admin in sorted(self.settings.admin_chat_ids):
            try:
                await application.bot.send_message(admin, summary, parse_mode=ParseMode.HTML)
                await application.bot.send_document(
                    admin, pdf, filename=messages.text(admin_lang, "bot", "pdf_filename")
                )
            except Exception as exc:
                LOGGER.error("could not notify admin chat: %s", exc)

    async def _delete(self, update: Update, chat_id: int, confirmed: bool, lang: str) -> None:
        bot = update.get_bot()
        if not confirmed:
            await bot.send_message(chat_id, messages.text(lang, "followup", "delete_cancelled"))
            return
        counts = await self.store.delete_person(chat_id)
        LOGGER.info("erased on request: %s", counts)
        await bot.send_message(
            chat_id, messages.text(lang, "followup", "deleted"), reply_markup=ReplyKeyboardRemove()
        )

    async def _admin(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int,
        command: str,
        args: tuple[str, ...],
        lang: str,
    ) -> None:
        bot = application.bot
        if command == "stats":
            try:
                since, until = stats_module.period(args[0] if args else None, self.now().date())
            except ValueError:
                await bot.send_message(
                    chat_id, messages.text(lang, "stats", "bad_period", given=" ".join(args)[:50])
                )
                return
            figures = stats_module.compute(await self.store.tallies(since, until), since, until)
            await bot.send_message(
                chat_id, stats_module.text(figures, lang), parse_mode=ParseMode.HTML
            )
            png = await asyncio.to_thread(stats_module.chart_png, figures, lang)
            await bot.send_photo(chat_id, png)
            return
        for name, (content, count) in (await export_all(self.store)).items():
            await bot.send_document(
                chat_id, content, filename=f"qualiopi-{name}.csv",
                caption=messages.text(lang, "stats", "export_caption", kind=name, count=count),
            )  # fmt: skip

    # --- jobs ---

    async def send_due_reminders(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Sends every reminder that is due (a job; safe to run again after a restart)."""
        try:
            due = await self.store.due_reminders(self.now().date())
        except StorageError as exc:
            LOGGER.error("reminders not checked: %s", exc)
            return
        for reminder in due:
            try:
                await context.bot.send_message(
                    reminder.chat_id,
                    messages.text(
                        reminder.language, "followup", "remind_message", kind=reminder.kind
                    ),
                )
            except Exception as exc:
                LOGGER.warning("reminder %s not sent: %s", reminder.id, exc)
                continue
            await self.store.mark_sent(reminder.id)

    async def purge(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Erases personal data older than the retention setting (a daily job)."""
        cutoff = self.now() - dt.timedelta(days=self.settings.data_retention_days)
        try:
            counts = await self.store.purge_before(cutoff)
        except StorageError as exc:
            LOGGER.error("retention purge failed: %s", exc)
            return
        LOGGER.info("retention purge: %s", counts)


async def _drop_pressed_row(message: Message, data: str) -> None:
    """Removes the buttons of the feature just used from an offer, keeping the others."""
    prefix = data.split(":", 1)[0] + ":"
    markup = message.reply_markup
    rows = [
        list(row)
        for row in (markup.inline_keyboard if markup else ())
        if not any(str(b.callback_data or "").startswith(prefix) for b in row)
    ]
    try:
        await message.edit_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    except TelegramError:  # best effort: an old message may be gone
        LOGGER.debug("could not update an offer's buttons")


async def _answer(query: Any) -> None:
    try:
        await query.answer()
    except Exception:
        LOGGER.debug("callback query already expired")
