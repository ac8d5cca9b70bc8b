"""The conversation on Telegram: updates become events, the step is decided and committed in
the store, then the reply goes out through the port."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from telegram import (
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import messages
from bot import metrics
from bot.config import Settings
from bot.consultancy.followup import FollowUp
from bot.dispatch import Moment, decide
from bot.events import Event, Upload
from bot.evidence import MEDIA_REFUSED, Limits, on_indicator, refusal
from bot.outbox import Rows
from bot.plan import Plan
from bot.render.screens import Button
from bot.storage import (
    Change,
    DuplicateUpdate,
    Record,
    StorageError,
    Store,
)
from bot.telegram.bystanders import Bystanders, language_of, tell_storage_down
from bot.telegram.delivery import Delivery
from bot.telegram.logref import chat_ref
from bot.telegram.port import Port
from bot.telegram.results import ResultSender

LOGGER = logging.getLogger("qualiopi_bot")
COMMANDS = (
    "start",
    "back",
    "summary",
    "checklist",
    "restart",
    "language",
    "help",
    "evidence",
    "privacy",
    "delete",
)
"""The command menu; /stats and /export exist only in the consultancy's admin chats."""
ALIASES = {
    messages.text(lang, "bot", "command_name", name=name): name
    for lang in messages.LANGUAGES
    for name in (*COMMANDS, "advisor")
}
"""Each language's name of each command (``bot.command_name``: the menu shows them; every
name works in every language)."""
HANDLED_COMMANDS = (*COMMANDS, "advisor", *ALIASES, "stats", "export")


class QualiopiBot:
    """The conversation on Telegram: one flow step per update, committed before replying."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] | None = None,
    ):
        self.store = store
        self.settings = settings
        self.limits = Limits.of(settings)
        """What one person's dossier de preuves may hold."""
        self.today = today
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.follow = FollowUp(store, settings, self.now, outbox_of=_port_of)
        self.results = ResultSender(store, self.follow.brand, self.clock)
        self.delivery = Delivery(store, self.results, self.follow, today)
        self.lease = dt.timedelta(seconds=settings.reply_lease_seconds)
        """How long this worker holds the replies it is saying; past it, another worker (or
        this one, restarted) says them: longer than a step's replies take, even behind
        Telegram's flood waits (``REPLY_LEASE_SECONDS``)."""

    # helpers

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Adds the handlers to the application."""
        private = filters.ChatType.PRIVATE
        # Taps first: python-telegram-bot asks each handler in turn whether it takes the
        # update, and most updates are button presses, which no other handler takes.
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(CommandHandler(HANDLED_COMMANDS, self.on_command, filters=private))
        application.add_handler(
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.on_text)
        )
        application.add_handler(MessageHandler(private, self.on_other))
        bystanders = Bystanders(self.settings.default_language, self.store)
        application.add_handler(MessageHandler(filters.ChatType.GROUPS, bystanders.on_group))
        application.add_error_handler(bystanders.on_error)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs /start, /restart, /back, /help, /language or /summary."""
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        name = ALIASES.get(name, name)
        await self._handle(update, context, Event("command", name, tuple(context.args or ())))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Applies a button press (answer, toggle, confirm, back, edit, result, language)."""
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            await Port(context.application).toast(query)
            return
        await self._handle(update, context, Event("button", query.data or "", _seen(query)))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Takes a typed answer when it matches an option, else hints and asks again."""
        message = update.effective_message
        assert message is not None
        await self._handle(update, context, Event("text", message.text or ""))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Takes a shared contact; answers stickers, photos, voice… with the hint."""
        message = update.effective_message
        contact = message.contact if message is not None else None
        if contact is not None:
            owner = str(contact.user_id) if contact.user_id else ""
            await self._handle(update, context, Event("contact", contact.phone_number, (owner,)))
            return
        sent = _upload(message) if message is not None else None
        if sent is not None:  # a file: fetched first when it may join the dossier
            upload, file_id = sent
            upload = await self._fetch(context, update, upload, file_id)
            args = (upload.media, upload.name, str(upload.size), upload.mime, upload.caption)
            await self._handle(update, context, Event("file", upload.media, args), upload)
            return
        text = message.text if message is not None else None
        if text:  # a command we do not have: read as typed text (the hint and the question)
            await self._handle(update, context, Event("text", text))
            return
        await self._handle(update, context, Event("other", ""))

    # the core

    async def _fetch(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        update: Update,
        upload: Upload,
        file_id: str,
    ) -> Upload:
        """Downloads a file a person sent, before its step, when it can join their dossier
        (an indicator open, a kind and size the dossier takes); else returns it unfetched,
        and the step says why."""
        chat = update.effective_chat
        if chat is None or refusal(upload, self.limits) is not None:
            return upload
        try:
            record = await self.store.record(chat.id)
        except StorageError:
            return upload  # the step tells the person the database is away
        if on_indicator(record) is None:
            return upload
        content = await Port(context.application).download(file_id)
        return replace(upload, content=content)

    async def _handle(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        event: Event,
        upload: Upload | None = None,
    ) -> None:
        started = time.perf_counter()
        chat = update.effective_chat
        assert chat is not None
        port = Port(context.application)
        query = update.callback_query
        lang_guess = language_of(update, self.settings.default_language)
        shown = query.message if query is not None else None
        pressed = shown.message_id if isinstance(shown, Message) else None
        user = update.effective_user
        today, now = self.today(), self.now()

        at = Moment(
            chat.id,
            update.update_id,
            today,
            now,
            lang=lang_guess,
            user_id=user.id if user else None,
            pressed=pressed,
            keyboard=partial(_rows, shown) if isinstance(shown, Message) else tuple,
            upload=upload,
        )

        def decided(current: Record) -> tuple[Change | None, Plan]:
            # Runs inside the storage transaction, the chat locked: pure and quick.
            return decide(
                current, event, at, follow=self.follow, settings=self.settings, limits=self.limits
            )

        metrics.UPDATES.labels(event[0]).inc()
        step_started = time.perf_counter()
        try:
            outcome, owed = await self.store.step(chat.id, update.update_id, decided, self.lease)
        except StorageError as exc:
            metrics.STORAGE_DOWN.inc()
            port.acknowledge(update.update_id, committed=False)
            await tell_storage_down(port, chat.id, query, lang_guess, exc)
            return
        except DuplicateUpdate:  # another worker, or a redelivery, got there first
            port.acknowledge(update.update_id)
            LOGGER.info(
                "update %s for chat %s already handled", update.update_id, chat_ref(chat.id)
            )
            if query is not None:
                await port.toast(query)
            return
        metrics.STEP_SECONDS.observe(time.perf_counter() - step_started)
        # The step is committed: the webhook may now answer 200, with the button's answer.
        answered = query is not None and port.answered_in_response(query, outcome.toast)
        port.acknowledge(update.update_id)
        if query is None or answered:
            await self.delivery.say(port, chat.id, owed)
        else:  # the button's spinner and the new screen: two calls at once
            await asyncio.gather(
                self.delivery.say(port, chat.id, owed),
                port.answer_by_call(query, outcome.toast),
            )
        LOGGER.info(
            "update handled",
            extra={
                "chat": chat_ref(chat.id),
                "update": update.update_id,
                "event": event[0],
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    async def say_owed_replies(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Says the replies owed whose worker died or could not say them (a job, run soon
        after start too): each chat in its turn, so that they go out before anything newer."""
        try:
            owed = await self.store.claim_owed_replies(self.lease)
        except StorageError as exc:
            LOGGER.error("owed replies not checked: %s", exc)
            return
        port = _port_of(context)
        application: Any = getattr(context, "application", context)
        processor = application.update_processor
        for chat_id, rows in owed.items():
            LOGGER.info("saying %d owed replies to chat %s", len(rows), chat_ref(chat_id))
            metrics.JOB_ITEMS.labels("owed_replies", "sent").inc(len(rows))
            turn = getattr(processor, "turn", None)  # PerChatUpdateProcessor's chat turn
            if turn is None:
                await self.delivery.say(port, chat_id, rows)
                continue
            async with turn(chat_id):
                await self.delivery.say(port, chat_id, rows)

    def clock(self) -> dt.datetime:
        """The current time, read from ``now`` at each call (tests move it)."""
        return self.now()

    async def resend_owed_pdfs(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Sends the result PDFs still owed (a job; see ``ResultSender``)."""
        await self.results.resend_owed_pdfs(context)

    async def settle(self) -> None:
        """Waits until the background work (PDFs) is done."""
        await self.results.settle()


def _port_of(context: Any) -> Port:
    """The port of a job's context (or of the application itself)."""
    return Port(getattr(context, "application", context))


def _rows(message: Message) -> Rows:
    """The pressed message's keyboard, as the plans write keyboards."""
    markup = message.reply_markup
    return tuple(
        tuple(Button(b.text, str(b.callback_data or ""), b.url) for b in row)
        for row in (markup.inline_keyboard if markup else ())
    )


def _seen(query: CallbackQuery) -> tuple[str, ...]:
    """Returns how the pressed button looked ("ticked" or "unticked"), when it is known."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == query.data:
                return ("ticked",) if button.text.startswith("✅") else ("unticked",)
    return ()


def _upload(message: Message) -> tuple[Upload, str] | None:
    """What a person's file message holds, and its file id (None for anything else). A GIF
    comes with a document too: it is read as what it is."""
    caption = message.caption or ""
    for media in MEDIA_REFUSED:
        found = getattr(message, media, None)
        if found is not None:
            return Upload(media, "", found.file_size or 0, "", caption), found.file_id
    if message.document is not None:
        doc = message.document
        upload = Upload(
            "document", doc.file_name or "", doc.file_size or 0, doc.mime_type or "", caption
        )
        return upload, doc.file_id
    if message.photo:
        largest = message.photo[-1]
        return Upload("photo", "", largest.file_size or 0, "image/jpeg", caption), largest.file_id
    return None
