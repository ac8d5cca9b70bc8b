"""The conversation on Telegram: updates become events, the step is decided and committed in
the store, then the reply goes out through the port."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import (
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import messages
from bot.config import Settings
from bot.consultancy.followup import FollowPlan, FollowUp
from bot.conversation import Reply, decide_conversation, summary_text
from bot.outbox import Out
from bot.render.screens import (
    Screen,
    evaluation_of,
    result_buttons,
    result_screen,
    screen_for,
)
from bot.render.workers import render_pdf
from bot.storage import (
    DUPLICATE,
    Change,
    Record,
    StorageError,
    Store,
)
from bot.telegram.logref import chat_ref
from bot.telegram.port import Port
from flows.flow import RESULT

LOGGER = logging.getLogger("qualiopi_bot")
COMMANDS = ("start", "back", "summary", "restart", "language", "help", "privacy", "delete")
"""The command menu; /stats and /export exist only in the consultancy's admin chats."""
HANDLED_COMMANDS = (*COMMANDS, "stats", "export")
PDF_GRACE = dt.timedelta(minutes=10)
"""How long a result's PDF may take before the owed-PDF job sends it (bursts queue PDFs)."""


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
        self.today = today
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.follow = FollowUp(store, settings, self.now, outbox_of=_port_of)
        self._background: set[asyncio.Task[Any]] = set()
        self._pdf_in_flight: set[int] = set()

    # helpers

    def _language(self, update: Update) -> str:
        user = update.effective_user
        return messages.language_or_default(
            user.language_code if user else None, self.settings.default_language
        )

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Adds the handlers to the application."""
        private = filters.ChatType.PRIVATE
        for name in HANDLED_COMMANDS:
            application.add_handler(CommandHandler(name, self.on_command, filters=private))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.on_text)
        )
        application.add_handler(MessageHandler(private, self.on_other))
        application.add_handler(MessageHandler(filters.ChatType.GROUPS, self.on_group))
        application.add_error_handler(self.on_error)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs /start, /restart, /back, /help, /language or /summary."""
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        await self._handle(update, context, ("command", name, tuple(context.args or ())))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Applies a button press (answer, toggle, confirm, back, edit, result, language)."""
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            await Port(context.application).toast(query)
            return
        await self._handle(update, context, ("button", query.data or "", _seen(query)))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Takes a typed answer when it matches an option, else hints and asks again."""
        message = update.effective_message
        assert message is not None
        await self._handle(update, context, ("text", message.text or "", ()))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Takes a shared contact; answers stickers, photos, voice… with the hint."""
        message = update.effective_message
        contact = message.contact if message is not None else None
        if contact is not None:
            owner = str(contact.user_id) if contact.user_id else ""
            await self._handle(update, context, ("contact", contact.phone_number, (owner,)))
            return
        await self._handle(update, context, ("other", "", ()))

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Asks to be contacted privately; does nothing else in groups."""
        chat = update.effective_chat
        message = update.effective_message
        if chat is None or message is None or update.edited_message is not None:
            return
        text = message.text or ""
        username = context.bot.username
        addressed = text.startswith("/") or (username and f"@{username}".lower() in text.lower())
        if not addressed and not (
            message.reply_to_message
            and message.reply_to_message.from_user
            and message.reply_to_message.from_user.id == context.bot.id
        ):
            return
        link = f"https://t.me/{username}"
        text = messages.call(self._language(update), "bot", "private_only", link=link)
        await Port(context.application).send(chat.id, str(text))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Logs an unexpected error (no secrets) and tells the person what to do."""
        error = context.error
        if update is None and isinstance(error, NetworkError):
            # Polling could not reach Telegram: python-telegram-bot retries by itself.
            LOGGER.warning("Telegram unreachable for now: %s", error)
            return
        chat = update.effective_chat if isinstance(update, Update) else None
        LOGGER.error(
            "unhandled error for chat %s: %s",
            chat_ref(chat.id) if chat else "-",
            error,
            exc_info=error,
        )
        if chat is None or chat.type != ChatType.PRIVATE or not isinstance(update, Update):
            return
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        try:
            await Port(context.application).send(
                chat.id, messages.text(self._language(update), "bot", "error")
            )
        except TelegramError:
            LOGGER.warning("could not tell chat %s about the error", chat_ref(chat.id))

    # the core

    async def _handle(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        event: tuple[str, str, tuple[str, ...]],
    ) -> None:
        started = time.perf_counter()
        chat = update.effective_chat
        assert chat is not None
        port = Port(context.application)
        query = update.callback_query
        lang_guess = self._language(update)

        def decide(current: Record) -> tuple[Change | None, Any]:
            # Runs inside the storage transaction, the chat locked: pure and quick. A follow-up
            # event (lead, reminder, data rights) is decided here too, and acted on after.
            if self.follow.accepts(event, current, chat.id):
                user = update.effective_user
                return self.follow.decide(
                    event, current, chat.id, user.id if user else None, lang_guess
                )
            return decide_conversation(
                current,
                event,
                lang=lang_guess,
                chat_id=chat.id,
                update_id=update.update_id,
                today=self.today(),
                now=self.now(),
            )

        try:
            outcome = await self.store.update(chat.id, update.update_id, decide)
        except StorageError as exc:
            await self._storage_down(port, chat.id, query, lang_guess, exc)
            return
        if outcome is DUPLICATE:  # another worker, or a redelivery, got there first
            LOGGER.info(
                "update %s for chat %s already handled", update.update_id, chat_ref(chat.id)
            )
            if query is not None:
                await port.toast(query)
            return
        if isinstance(outcome, FollowPlan):
            await self._follow_up(port, chat.id, query, outcome, lang_guess)
            return
        saved, reply = outcome
        try:
            if query is None:
                live = await self._reply(port, chat.id, saved, reply, query)
            else:  # the button's spinner and the new screen: one round trip to Telegram, not two
                live, _ = await asyncio.gather(
                    self._reply(port, chat.id, saved, reply, query), port.toast(query, reply.toast)
                )
        except TimedOut:
            # The step is saved; the reply may or may not have arrived (it is not sent twice).
            # Whatever the person taps next is read against the saved step.
            LOGGER.warning("reply to chat %s unconfirmed (timed out)", chat_ref(chat.id))
            return
        LOGGER.info(
            "update handled",
            extra={
                "chat": chat_ref(chat.id),
                "update": update.update_id,
                "event": event[0],
                "state": saved.snapshot["state"] if saved.snapshot else None,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        if live != saved.live_message_id:
            try:
                await self.store.set_live_message(chat.id, live)
            except StorageError:
                LOGGER.warning("could not record the live message of chat %s", chat_ref(chat.id))

    async def _reply(
        self,
        port: Port,
        chat_id: int,
        record: Record,
        reply: Reply,
        query: CallbackQuery | None,
    ) -> int | None:
        """Sends what the step decided; returns the id of the live message."""
        snapshot = record.snapshot
        assert snapshot is not None
        lang = snapshot["lang"]
        live = record.live_message_id
        if reply.intro:
            intro = str(messages.call(lang, "bot", reply.intro))
            brand = self.follow.brand_text(lang) if reply.intro == "welcome" else ""
            await port.send(chat_id, f"{intro}\n\n{brand}" if brand else intro)
        if reply.summary:
            await port.send(chat_id, summary_text(snapshot))
        pressed = (
            query.message.message_id if query and isinstance(query.message, Message) else None
        )
        if snapshot["state"] == RESULT and (reply.entered_result or reply.resend_result):
            if pressed is not None:
                await port.clear_keyboard(chat_id, pressed)
            if live is not None and live != pressed:
                await port.clear_keyboard(chat_id, live)
            ev = evaluation_of(snapshot)
            offer = self.follow.offers(lang, ev.verdict.value, record.meta, ev.next_audit)
            return await self._send_result(port, chat_id, snapshot, offer)
        screen = (
            Screen(messages.text(lang, "bot", "result_menu"), result_buttons(lang))
            if snapshot["state"] == RESULT
            else screen_for(snapshot, reply.hint)
        )
        if reply.edit and pressed is not None:
            shown = await port.show(chat_id, screen, edit=pressed)
            if live is not None and live != shown:
                await port.clear_keyboard(chat_id, live)
            return shown
        if pressed is not None:
            await port.clear_keyboard(chat_id, pressed)
        shown = await port.show(chat_id, screen)
        if live is not None and live not in (shown, pressed):
            await port.clear_keyboard(chat_id, live)
        return shown

    async def _send_result(
        self,
        port: Port,
        chat_id: int,
        snapshot: dict[str, Any],
        offer: Out | None = None,
    ) -> int | None:
        """Sends the result in Telegram-sized parts, the last with its buttons; then, in the
        background, the PDF and the consultancy's offer (contact, reminders) if any."""
        screen, _, _ = result_screen(snapshot)
        last: int | None = None
        for index, part in enumerate(screen.parts):
            buttons = screen.buttons if index == len(screen.parts) - 1 else ()
            last = await port.send(chat_id, part, buttons)
        self._in_background(self._send_pdf(port, chat_id, snapshot, offer))
        return last

    async def _send_pdf(
        self,
        port: Port,
        chat_id: int,
        snapshot: dict[str, Any],
        offer: Out | None,
    ) -> None:
        """Builds the checklist PDF (in the worker process) and sends it, then the offer."""
        lang = snapshot["lang"]
        self._pdf_in_flight.add(chat_id)
        try:
            content = await render_pdf(snapshot, self.follow.brand())
            await port.send_document(
                chat_id,
                content,
                messages.text(lang, "bot", "pdf_filename"),
                messages.text(lang, "bot", "pdf_caption"),
            )
            await self.store.pdf_sent(chat_id)
            if offer is not None:
                await port.deliver(chat_id, offer)
        except Exception as exc:  # a background task: nobody else would see it
            LOGGER.error("PDF for chat %s not sent: %s", chat_ref(chat_id), exc, exc_info=exc)
        finally:
            self._pdf_in_flight.discard(chat_id)

    async def resend_owed_pdfs(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Sends the result PDFs still owed (a job): the process stopped or was killed between
        a result and its PDF, or Telegram refused the file. Waits ``PDF_GRACE`` first, so that
        a PDF queued behind a burst of results is not sent twice."""
        try:
            due = await self.store.pdfs_due(self.now() - PDF_GRACE)
        except StorageError as exc:
            LOGGER.error("owed PDFs not checked: %s", exc)
            return
        port = Port(context.application)
        for chat_id, snapshot in due:
            if chat_id in self._pdf_in_flight:
                continue
            if snapshot.get("state") != RESULT:  # started again since: nothing is owed
                await self.store.pdf_sent(chat_id)
                continue
            LOGGER.info("sending an owed PDF to chat %s", chat_ref(chat_id))
            await self._send_pdf(port, chat_id, snapshot, None)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs work after the update is done, so that it holds none of the update slots.

        The PDF takes ~120 ms of CPU in the worker process: when many people reach their
        result at once, waiting for it inside the update filled every slot, and everybody else's
        taps queued behind PDFs (measured: 5,000 trainers, the bot idle 70 % of the time).
        A clean stop waits for these tasks (``settle_background``, run after the application
        stops and before it shuts down), so the PDFs in hand still go out.
        """
        task = asyncio.get_running_loop().create_task(work, name="qualiopi-background")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Waits until the background work (PDFs) is done."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _follow_up(
        self,
        port: Port,
        chat_id: int,
        query: CallbackQuery | None,
        plan: FollowPlan,
        lang: str,
    ) -> None:
        """Carries out a committed follow-up step: the button answered, the used row of the
        offer removed, then what the step decided, through the port."""
        if query is not None:
            await port.toast(query)
            data = query.data or ""
            if isinstance(query.message, Message) and not data.startswith("del:"):
                await port.drop_buttons(query.message, data.split(":", 1)[0] + ":")
        try:
            await self.follow.act(plan, chat_id, port)
        except StorageError as exc:
            await self._storage_down(port, chat_id, query, lang, exc)

    async def _storage_down(
        self, port: Port, chat_id: int, query: CallbackQuery | None, lang: str, exc: Exception
    ) -> None:
        LOGGER.error("storage unavailable for chat %s: %s", chat_ref(chat_id), exc)
        text = messages.text(lang, "bot", "storage_unavailable")
        if query is not None:
            await port.toast(query, text)
        else:
            await port.send(chat_id, text)


def _port_of(context: Any) -> Port:
    """The port of a job's context (or of the application itself)."""
    return Port(getattr(context, "application", context))


def _seen(query: CallbackQuery) -> tuple[str, ...]:
    """Returns how the pressed button looked ("ticked" or "unticked"), when it is known."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == query.data:
                return ("ticked",) if button.text.startswith("✅") else ("unticked",)
    return ()
