"""The Telegram bot: python-telegram-bot 22 wiring, the handlers, and the one port that sends.

Reads top to bottom: the update processor (one chat at a time, chats concurrently), the rate
limiter (429 honoured, network errors retried with a bound), the port (all output), the
handlers (load snapshot → one flow step → commit → reply), then ``build_application``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

# Opt in to python-telegram-bot's timedelta durations (retry_after…) now, as its deprecation
# warning asks: the bot then behaves the same under PTB 22 and the next major version.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import messages
from bot.config import Settings
from bot.followup import FollowPlan, FollowUp
from bot.screens import (
    Button,
    Screen,
    evaluation_of,
    hint_text,
    match_option,
    match_options,
    parse_button,
    result_buttons,
    result_screen,
    review_screen,
    screen_for,
)
from bot.storage import (
    DUPLICATE,
    Change,
    Completed,
    Record,
    StorageError,
    Store,
    Tally,
)
from bot.tracking import track
from bot.transport import AiohttpRequest
from bot.workers import render_pdf
from flows.contract import QUESTIONS
from flows.flow import MULTI, RESULT, REVIEW, Outcome, is_snapshot, new_snapshot, resume, step

LOGGER = logging.getLogger("qualiopi_bot")
COMMANDS = ("start", "back", "summary", "restart", "language", "help", "privacy", "delete")
"""The command menu; /stats and /export exist only in the consultancy's admin chats."""
HANDLED_COMMANDS = (*COMMANDS, "stats", "export")
BOT_API_CONNECTIONS = 8
"""Connections to the Bot API, kept alive (bench/load.py: more brings nothing on loopback)."""
PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PDF_GRACE = dt.timedelta(minutes=10)
"""How long a result's PDF may take before the owed-PDF job sends it (bursts queue PDFs)."""


def chat_ref(chat_id: int) -> str:
    """Returns an opaque reference to a chat for the logs (never the id itself)."""
    return hashlib.sha256(str(chat_id).encode()).hexdigest()[:12]


# --- Concurrency: one update per chat at a time, in order; chats run concurrently ---------------


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Serialises the updates of each chat (FIFO lock per chat) while chats run in parallel."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Runs the update's handlers once every earlier update of its chat is done."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] += 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:
                del self._users[chat.id]
                del self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class BotApplication(Application[Any, Any, Any, Any, Any, Any]):
    """python-telegram-bot's Application without one slow leak: with no persistence configured,
    PTB still adds every chat and user id it sees to two "to be persisted" sets that only a
    persistence ever empties (about 130 bytes per person, forever). This bot keeps its state in
    its own store, so nothing is marked."""

    qualiopi: QualiopiBot | None = None
    """The handlers (tests wait on their background work)."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


# --- Sending: 429 honoured, transient errors retried with a bound -------------------------------


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, ``retry_after``) plus bounded retries on network errors."""

    def __init__(
        self,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
        overall_max_rate: float = 30,
    ):
        super().__init__(max_retries=max_retries, overall_max_rate=overall_max_rate)
        self.network_retries = network_retries
        self.backoff = backoff

    async def process_request(  # noqa: PLR0917 (python-telegram-bot's signature)
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Any,
    ) -> Any:
        """Sends through the flood limiter; retries network errors and 5xx a few times."""
        for attempt in range(self.network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise  # our request is wrong: retrying will not help
            except NetworkError as exc:
                if attempt == self.network_retries:
                    raise
                if isinstance(exc, TimedOut) and endpoint.startswith("send"):
                    # Sent but unanswered: Telegram may have delivered it, and a second try
                    # would show the person the same message twice. Edits and answers are
                    # safe to repeat; a new message is not.
                    raise
                LOGGER.warning("retrying %s after %s (attempt %d)", endpoint, exc, attempt + 1)
                await asyncio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


# --- The port: every message the bot sends goes through here ------------------------------------


def keyboard(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Returns the inline keyboard of a screen."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


def _harmless(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "not modified" in text or "query is too old" in text or "query id is invalid" in text


class Port:
    """All output to Telegram, so that handlers only decide and tests see one surface."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.bot = application.bot

    async def send(
        self, chat_id: int, text: str, buttons: tuple[tuple[Button, ...], ...] = ()
    ) -> int | None:
        """Sends one message; returns its id (None: sent, but Telegram's answer was lost)."""
        try:
            message: Message = await self.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons)
            )
        except TimedOut:
            # Not sent twice (see RetryingRateLimiter): it has probably arrived; the next tap
            # is read against the saved step whichever message it comes from.
            LOGGER.warning("message to chat %s unconfirmed (timed out)", chat_ref(chat_id))
            return None
        return int(message.message_id)

    async def show(self, chat_id: int, screen: Screen, edit: int | None = None) -> int | None:
        """Shows a screen by editing ``edit`` in place, or in a new message; returns its id."""
        if edit is not None:
            try:
                await self.bot.edit_message_text(
                    screen.text,
                    chat_id=chat_id,
                    message_id=edit,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(screen.buttons),
                )
                return edit
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return edit
                LOGGER.info("edit failed (%s): sending a new message instead", exc)
        return await self.send(chat_id, screen.text, screen.buttons)

    async def clear_keyboard(self, chat_id: int, message_id: int | None) -> None:
        """Removes the buttons of an older message (best effort)."""
        if message_id is None:
            return
        with contextlib.suppress(BadRequest):  # gone, too old, or already without buttons
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)

    async def toast(self, query: CallbackQuery, text: str | None = None) -> None:
        """Answers a button press (quickly; an expired query is a normal outcome)."""
        try:
            await query.answer(text[:200] if text else None)
        except BadRequest as exc:
            if not _harmless(exc):
                raise

    async def send_document(
        self, chat_id: int, content: bytes, filename: str, caption: str
    ) -> None:
        """Sends a file (not twice: an unconfirmed one has probably arrived)."""
        try:
            await self.bot.send_document(chat_id, content, filename=filename, caption=caption)
        except TimedOut:
            LOGGER.warning("document to chat %s unconfirmed (timed out)", chat_ref(chat_id))


# --- The handlers -----------------------------------------------------------------------------


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
        self.follow = FollowUp(store, settings, self.now)
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
            stored = current.snapshot
            snapshot = resume(stored) if stored is not None and is_snapshot(stored) else None
            reply = _Reply()
            after, source = self._decide(snapshot, current, event, lang_guess, reply)
            meta, tallies, completed = self._track(chat.id, snapshot, after, current, source)
            saved = Record(after, current.live_message_id, source, update.update_id, meta)
            owes_pdf = after["state"] == RESULT and (reply.entered_result or reply.resend_result)
            return Change(saved, tallies, completed, pdf_due=owes_pdf), (saved, reply)

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
            try:
                await self.follow.act(update, context, outcome)
            except StorageError as exc:
                await self._storage_down(port, chat.id, query, lang_guess, exc)
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

    def _track(
        self,
        chat_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        record: Record,
        source: str | None,
    ) -> tuple[dict[str, Any], list[Tally], Completed | None]:
        """Returns the new meta, the anonymous tallies and, at a result, the questionnaire row."""
        verdict = None
        completed = None
        if after["state"] == RESULT and not record.meta.get("completed"):
            ev = evaluation_of(after)
            verdict = ev.verdict.value
            completed = Completed(
                chat_id=chat_id,
                language=after["lang"],
                source=source,
                verdict=verdict,
                indicator_count=len(ev.indicators),
                referential=ev.referential.id,
                answers=dict(after["answers"]),
            )
        meta, tallies = track(
            before, after, dict(record.meta), source, now=self.now(), verdict=verdict
        )
        if not any(t.kind == "completed" for t in tallies):
            completed = None
        return meta, tallies, completed

    def _decide(
        self,
        snapshot: dict[str, Any] | None,
        record: Record,
        event: tuple[str, str, tuple[str, ...]],
        lang: str,
        reply: _Reply,
    ) -> tuple[dict[str, Any], str | None]:
        """Applies the event to the snapshot; fills ``reply`` with what to say."""
        kind, value, args = event
        source = record.source
        if snapshot is None:
            snapshot = new_snapshot(lang)
            reply.intro = "welcome"
        if kind == "command":
            if value == "start" and args and PAYLOAD.match(args[0]):
                source = args[0]
            return self._command(snapshot, value, reply), source
        if kind == "button":
            return self._button(snapshot, value, reply, args), source
        if kind == "text":
            snapshot, understood = _typed(snapshot, value)
            if not understood:
                reply.hint = "use_buttons"
            return snapshot, source
        reply.hint = "use_buttons"
        return snapshot, source

    def _command(self, snapshot: dict[str, Any], name: str, reply: _Reply) -> dict[str, Any]:
        """Applies a command."""
        if name == "start":
            if snapshot["state"] == RESULT:
                snapshot = step(snapshot, "restart").snapshot
            reply.intro = "welcome"
        elif name == "restart":
            snapshot = step(snapshot, "restart").snapshot
        elif name == "back":
            done = step(snapshot, "back")
            snapshot = done.snapshot
            reply.hint = None if done.changed else done.outcome
        elif name == "help":
            reply.intro = "help"
        elif name == "language":
            snapshot = _switch_language(snapshot)
            reply.intro = "language_switched"
            reply.resend_result = snapshot["state"] == RESULT
        elif name == "summary":
            reply.summary = True
        else:  # a command that does not exist here (/stats outside an admin chat…)
            reply.hint = "use_buttons"
        return snapshot

    def _button(
        self, snapshot: dict[str, Any], data: str, reply: _Reply, seen: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Applies a button press; a forged one changes nothing.

        A multi-choice option does what the person saw it would do: tick an option shown
        unticked, untick one shown ticked. A double tap on a screen that has not refreshed yet
        therefore changes nothing the second time, instead of unticking again.
        """
        current_lang = snapshot["lang"]
        action = parse_button(data)
        if action is None:
            reply.toast = hint_text(current_lang, Outcome.STALE)
            reply.edit = snapshot["state"] != RESULT
            return snapshot
        trigger, action_args = action
        if trigger == "lang":
            if action_args[0] != current_lang:
                snapshot = _switch_language(snapshot)
            reply.edit = snapshot["state"] != RESULT
            reply.resend_result = snapshot["state"] == RESULT
            return snapshot
        if trigger == "result":
            trigger, action_args = "show_result", (self.today(),)
        if trigger == "toggle" and seen and snapshot["state"] == action_args[0]:
            wants_ticked = seen[0] == "unticked"
            if (action_args[1] in snapshot.get("pending", ())) == wants_ticked:
                reply.edit = True  # already as intended: show the screen as it is
                return snapshot
        was = snapshot["state"]
        done = step(snapshot, trigger, *action_args)
        snapshot = done.snapshot
        if not done.changed:
            reply.toast = hint_text(current_lang, done.outcome)
        reply.edit = was != RESULT and snapshot["state"] != RESULT
        reply.entered_result = snapshot["state"] == RESULT and was != RESULT
        return snapshot

    async def _reply(
        self,
        port: Port,
        chat_id: int,
        record: Record,
        reply: _Reply,
        query: CallbackQuery | None,
    ) -> int | None:
        """Sends what ``_decide`` chose; returns the id of the live message."""
        snapshot = record.snapshot
        assert snapshot is not None
        lang = snapshot["lang"]
        live = record.live_message_id
        if reply.intro:
            intro = str(messages.call(lang, "bot", reply.intro))
            brand = self.follow.brand_text(lang) if reply.intro == "welcome" else ""
            await port.send(chat_id, f"{intro}\n\n{brand}" if brand else intro)
        if reply.summary:
            await port.send(chat_id, _summary(snapshot))
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
        offer: tuple[str, Any] | None = None,
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
        offer: tuple[str, Any] | None,
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
                await self.bot_send(port, chat_id, *offer)
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

    async def bot_send(self, port: Port, chat_id: int, text: str, markup: Any) -> None:
        """Sends a follow-up offer (its own keyboard)."""
        await port.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup or None
        )

    async def _storage_down(
        self, port: Port, chat_id: int, query: CallbackQuery | None, lang: str, exc: Exception
    ) -> None:
        LOGGER.error("storage unavailable for chat %s: %s", chat_ref(chat_id), exc)
        text = messages.text(lang, "bot", "storage_unavailable")
        if query is not None:
            await port.toast(query, text)
        else:
            await port.send(chat_id, text)


class _Reply:
    """What to say after a step (filled by ``_decide``, used by ``_reply``)."""

    __slots__ = ("edit", "entered_result", "hint", "intro", "resend_result", "summary", "toast")

    def __init__(self) -> None:
        self.intro: str | None = None
        self.hint: str | None = None
        self.toast: str | None = None
        self.summary = False
        self.edit = False
        self.entered_result = False
        self.resend_result = False


def _seen(query: CallbackQuery) -> tuple[str, ...]:
    """Returns how the pressed button looked ("ticked" or "unticked"), when it is known."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == query.data:
                return ("ticked",) if button.text.startswith("✅") else ("unticked",)
    return ()


def _other(lang: str) -> str:
    return "en" if lang == "fr" else "fr"


def _switch_language(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {**snapshot, "lang": _other(snapshot["lang"])}


def _summary(snapshot: dict[str, Any]) -> str:
    lang = snapshot["lang"]
    if not snapshot["answers"]:
        return messages.text(lang, "bot", "summary_empty")
    return review_screen(snapshot).text.rsplit("\n\n", 1)[0]


def _typed(snapshot: dict[str, Any], typed: str) -> tuple[dict[str, Any], bool]:
    """Applies a typed answer to the current question; tells whether it was understood."""
    state = snapshot["state"]
    lang = snapshot["lang"]
    if state in (REVIEW, RESULT) or state not in QUESTIONS:
        return snapshot, False
    if state in MULTI:
        chosen = match_options(state, typed, lang)
        exclusive = QUESTIONS[state].exclusive
        if not chosen or (exclusive in chosen and len(chosen) > 1):
            return snapshot, False
        for option in list(snapshot.get("pending", [])):
            if option not in chosen:
                snapshot = step(snapshot, "toggle", state, option).snapshot
        for option in chosen:
            if option not in snapshot.get("pending", []):
                snapshot = step(snapshot, "toggle", state, option).snapshot
        return step(snapshot, "confirm", state).snapshot, True
    option = match_option(state, typed, lang)
    if option is None:
        return snapshot, False
    return step(snapshot, "answer", state, option).snapshot, True


# --- Wiring -----------------------------------------------------------------------------------


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Registers the command menu in French and in English (the default)."""
    for lang in messages.LANGUAGES:
        commands = [
            BotCommand(name, messages.text(lang, "bot", "command", name=name)) for name in COMMANDS
        ]
        await application.bot.set_my_commands(
            commands, language_code=lang if lang != "en" else None
        )


async def settle_background(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Finishes the background work (PDFs in hand) when the bot stops."""
    handlers = getattr(application, "qualiopi", None)
    if handlers is not None:
        await handlers.settle()


def build_application(
    settings: Settings,
    store: Store,
    *,
    request: Any = None,
    updates_request: Any = None,
    today: Callable[[], dt.date] = dt.date.today,
    rate_limiter: AIORateLimiter | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Builds the application: handlers, per-chat processor, rate limiter, command menu."""
    assert settings.token is not None
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .concurrent_updates(PerChatUpdateProcessor())
        .rate_limiter(
            rate_limiter or RetryingRateLimiter(overall_max_rate=settings.max_messages_per_second)
        )
        .post_init(set_commands)
        .post_stop(settle_background)
    )
    # aiohttp rather than python-telegram-bot's default httpx: a quarter of the CPU per Bot API
    # call (bot/transport.py); requests wait their turn for one of the pooled connections.
    builder = builder.request(
        request or AiohttpRequest(BOT_API_CONNECTIONS, pool_timeout=30)
    ).get_updates_request(updates_request or AiohttpRequest(1))
    application = builder.build()
    handlers: QualiopiBot = QualiopiBot(store, settings, today)
    handlers.register(application)
    if isinstance(application, BotApplication):
        application.qualiopi = handlers
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            handlers.follow.send_due_reminders, interval=3600, first=10, name="reminders"
        )
        application.job_queue.run_repeating(
            handlers.follow.purge, interval=86400, first=60, name="retention"
        )
        application.job_queue.run_repeating(
            handlers.resend_owed_pdfs, interval=60, first=30, name="owed-pdfs"
        )
    return application
