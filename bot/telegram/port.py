"""The one way out: every message, edit, button answer and file goes through the ``Port``."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
)
from telegram.warnings import PTBUserWarning

import messages
from bot import metrics
from bot.outbox import Out, Rows, Unreachable
from bot.render.screens import (
    Button,
    Screen,
)
from bot.telegram.answers import TOAST_LIMIT, WebhookAcks, WebhookAnswers
from bot.telegram.logref import chat_ref

LOGGER = logging.getLogger("qualiopi_bot")
T = TypeVar("T")


@lru_cache(maxsize=1024)
def keyboard(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Returns the inline keyboard of a screen (made once per distinct keyboard: they recur,
    and python-telegram-bot's objects are immutable)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in buttons
        ]
    )


@lru_cache(maxsize=1024)
def keyboard_json(buttons: tuple[tuple[Button, ...], ...]) -> dict[str, str]:
    """The inline keyboard of a screen as the Bot API reads it, serialized once per distinct
    keyboard (python-telegram-bot serializing its objects on every call was an eighth of a
    tap's CPU, profiled): ``api_kwargs`` for a send or an edit; empty without buttons."""
    markup = keyboard(buttons)
    if markup is None:
        return {}
    return {"reply_markup": json.dumps(markup.to_dict(), ensure_ascii=False)}


RAW_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
"""The calls made through ``Bot.do_api_request``, whose answer is read as Telegram's JSON:
python-telegram-bot turning each answer into a ``Message`` (with its keyboard) was a sixth of a
tap's CPU, profiled, for a message id. python-telegram-bot warns that these methods have
methods of their own; that is known here, and only that warning is silenced."""
warnings.filterwarnings(
    "ignore", message=rf"Please use 'Bot\.({'|'.join(RAW_METHODS)})'", category=PTBUserWarning
)


def _harmless(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "not modified" in text or "query is too old" in text or "query id is invalid" in text


class Port:
    """All output to Telegram, so that handlers only decide and tests see one surface."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.bot = application.bot
        self.answers: WebhookAnswers | None = getattr(application, "webhook_answers", None)
        self.acks: WebhookAcks | None = getattr(application, "webhook_acks", None)
        self.moved: dict[int, int] = application.bot_data.setdefault("moved_chats", {})
        """Groups that became supergroups (a new id), followed for the process's life."""

    async def _to_chat(self, chat_id: int, call: Callable[[int], Awaitable[T]]) -> T:
        """Makes a call naming a chat, following a group that became a supergroup (Telegram
        answers with its new id) and turning a 403 into ``Unreachable``."""
        target = self.moved.get(chat_id, chat_id)
        try:
            return await call(target)
        except ChatMigrated as exc:
            self.moved[chat_id] = target = int(exc.new_chat_id)
            LOGGER.warning(
                "group %s became supergroup %s: followed; put the new id in ADMIN_CHAT_IDS",
                chat_id,
                target,
            )
            return await call(target)
        except Forbidden as exc:
            raise Unreachable(chat_id) from exc

    def acknowledge(self, update_id: int, *, committed: bool = True) -> None:
        """Lets the webhook answer the update: 200 once its step is committed; an error when
        it could not be (Telegram then delivers it again)."""
        if self.acks is not None:
            self.acks.settle(update_id, committed)

    async def send(
        self, chat_id: int, text: str, buttons: tuple[tuple[Button, ...], ...] = ()
    ) -> int | None:
        """Sends one message; returns its id (None: sent, but Telegram's answer was lost)."""
        try:
            message = await self._raw(
                "sendMessage",
                chat_id=chat_id,
                text=messages.safe(text),
                parse_mode=ParseMode.HTML,
                **keyboard_json(buttons),
            )
        except Forbidden as exc:
            raise Unreachable(chat_id) from exc
        except TimedOut:
            # Not sent twice (see RetryingRateLimiter): it has probably arrived; the next tap
            # is read against the saved step whichever message it comes from.
            LOGGER.warning("message to chat %s unconfirmed (timed out)", chat_ref(chat_id))
            return None
        return int(message["message_id"])

    async def _raw(self, method: str, **params: Any) -> Any:
        """Calls one of ``RAW_METHODS``: Telegram's answer as JSON (a message as a dict, or
        True), through the same request, rate limiter and errors as python-telegram-bot's
        own methods."""
        return await self.bot.do_api_request(method, api_kwargs=params)

    async def show(self, chat_id: int, screen: Screen, edit: int | None = None) -> int | None:
        """Shows a screen by editing ``edit`` in place, or in a new message; returns its id."""
        if edit is not None:
            try:
                await self._raw(
                    "editMessageText",
                    chat_id=chat_id,
                    message_id=edit,
                    text=screen.text,
                    parse_mode=ParseMode.HTML,
                    **keyboard_json(screen.buttons),
                )
                return edit
            except Forbidden as exc:
                raise Unreachable(chat_id) from exc
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return edit
                LOGGER.info("edit failed (%s): sending a new message instead", exc)
        return await self.send(chat_id, screen.text, screen.buttons)

    async def clear_keyboard(
        self, chat_id: int, message_id: int | None, keep: Rows = (), text: str | None = None
    ) -> None:
        """Removes the buttons of an older message, all but the rows ``keep``; with ``text``
        (Telegram HTML), its text is replaced in the same request (best effort)."""
        if message_id is None:
            return
        try:
            if text is None:
                await self._raw(
                    "editMessageReplyMarkup",
                    chat_id=chat_id,
                    message_id=message_id,
                    **keyboard_json(keep),
                )
            else:
                await self._raw(
                    "editMessageText",
                    chat_id=chat_id,
                    message_id=message_id,
                    text=text,
                    parse_mode=ParseMode.HTML,
                    **keyboard_json(keep),
                )
        except Forbidden as exc:
            raise Unreachable(chat_id) from exc
        except BadRequest:  # gone, too old, or already without buttons
            pass
        except (RetryAfter, NetworkError) as exc:
            # Past the retries: its buttons stay, and a tap on them is read as a stale one.
            LOGGER.info("old keyboard not cleared (%s)", type(exc).__name__)

    def answered_in_response(self, query: CallbackQuery, text: str | None) -> bool:
        """Answers a button press in the webhook's response if one waits for it (at once,
        without a call); False otherwise."""
        if self.answers is None or not self.answers.give(query.id, text):
            return False
        metrics.BUTTON_ANSWERS.labels("response").inc()
        return True

    async def toast(self, query: CallbackQuery, text: str | None = None) -> None:
        """Answers a button press: in the webhook's response when it waits for it, else by a
        call (quickly; an expired query is a normal outcome)."""
        if not self.answered_in_response(query, text):
            await self.answer_by_call(query, text)

    async def answer_by_call(self, query: CallbackQuery, text: str | None = None) -> None:
        """Answers a button press by a call of its own (best effort, see ``toast``)."""
        metrics.BUTTON_ANSWERS.labels("call").inc()
        try:
            await query.answer(text[:TOAST_LIMIT] if text else None)
        except BadRequest as exc:
            if not _harmless(exc):
                raise
        except (RetryAfter, NetworkError) as exc:
            # Past the retries: the spinner stops by itself, and the new screen, sent beside
            # this answer, is what the person needs; nothing to tell them.
            LOGGER.info("button answer not delivered (%s)", type(exc).__name__)

    async def send_document(
        self,
        chat_id: int,
        content: bytes,
        filename: str,
        caption: str | None = None,
        buttons: tuple[tuple[Button, ...], ...] = (),
        *,
        html: bool = False,
    ) -> None:
        """Sends a file (not twice: an unconfirmed one has probably arrived), its caption plain
        text unless ``html``, with ``buttons`` under it."""
        try:
            await self._to_chat(
                chat_id,
                lambda to: self.bot.send_document(
                    to,
                    content,
                    filename=filename,
                    caption=caption,
                    parse_mode=ParseMode.HTML if html else None,
                    reply_markup=keyboard(buttons),
                ),
            )
        except TimedOut:
            LOGGER.warning("document to chat %s unconfirmed (timed out)", chat_ref(chat_id))

    async def download(self, file_id: str) -> bytes | None:
        """A file a person sent (``getFile``, then its content), or None when Telegram would
        not give it (too large for a bot, gone, the network)."""
        try:
            found = await self.bot.get_file(file_id)
            return bytes(await found.download_as_bytearray())
        except TelegramError as exc:
            LOGGER.warning("a file could not be fetched (%s)", type(exc).__name__)
            return None

    async def send_photo(self, chat_id: int, content: bytes, caption: str | None = None) -> None:
        """Sends a picture (not twice: an unconfirmed one has probably arrived)."""
        try:
            await self._to_chat(
                chat_id, lambda to: self.bot.send_photo(to, content, caption=caption)
            )
        except TimedOut:
            LOGGER.warning("picture to chat %s unconfirmed (timed out)", chat_ref(chat_id))

    async def deliver(self, chat_id: int, out: Out) -> int | None:
        """Sends a message decided elsewhere, with its inline buttons or reply keyboard."""
        markup: Any = keyboard(out.buttons)
        if out.ask_contact is not None:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(out.ask_contact, request_contact=True)]],
                one_time_keyboard=True,
                resize_keyboard=True,
            )
        elif out.clear_keyboard:
            markup = ReplyKeyboardRemove()
        try:
            message = await self._to_chat(
                chat_id,
                lambda to: self._raw(
                    "sendMessage",
                    chat_id=to,
                    text=out.text,
                    parse_mode=ParseMode.HTML if out.html else None,
                    reply_markup=markup,
                ),
            )
        except TimedOut:
            LOGGER.warning("message to chat %s unconfirmed (timed out)", chat_ref(chat_id))
            return None
        return int(message["message_id"])

    async def drop_buttons(self, message: Message, prefix: str) -> None:
        """Removes, from an offer, the row of the feature just used, keeping the others."""
        markup = message.reply_markup
        kept = [
            list(row)
            for row in (markup.inline_keyboard if markup else ())
            if not any(str(b.callback_data or "").startswith(prefix) for b in row)
        ]
        try:
            await message.edit_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
        except TelegramError:  # best effort: an old message may be gone
            LOGGER.debug("could not update an offer's buttons")


# --- The handlers -----------------------------------------------------------------------------
