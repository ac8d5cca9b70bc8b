"""What is not a conversation step: groups (asked to write privately), errors (logged without
secrets, the person told what to do), and an unavailable database."""

from __future__ import annotations

import contextlib
import logging

from telegram import (
    CallbackQuery,
    Update,
)
from telegram.constants import ChatType
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    ContextTypes,
)

import messages
from bot import metrics
from bot.outbox import Unreachable
from bot.storage import Store
from bot.telegram.logref import chat_ref
from bot.telegram.port import Port
from bot.telegram.unreachable import drop_owed

LOGGER = logging.getLogger("qualiopi_bot")


def language_of(update: Update, default: str) -> str:
    """The person's language as Telegram reports it, else the deployment's default."""
    user = update.effective_user
    return messages.language_or_default(user.language_code if user else None, default)


class Bystanders:
    """Handlers for updates that are not a private conversation's step."""

    def __init__(self, default_language: str, store: Store) -> None:
        self.default_language = default_language
        self.store = store

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Asks to be contacted privately; does nothing else in groups."""
        chat = update.effective_chat
        message = update.effective_message
        if chat is None or message is None or update.edited_message is not None:
            return
        if message.migrate_to_chat_id:  # an admin group became a supergroup: follow it
            Port(context.application).moved[chat.id] = int(message.migrate_to_chat_id)
            LOGGER.warning(
                "group %s became supergroup %s: followed; put the new id in ADMIN_CHAT_IDS",
                chat.id,
                message.migrate_to_chat_id,
            )
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
        text = messages.call(
            language_of(update, self.default_language), "bot", "private_only", link=link
        )
        await Port(context.application).send(chat.id, str(text))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Logs an unexpected error (no secrets) and tells the person what to do."""
        error = context.error
        if update is None and isinstance(error, NetworkError):
            # Polling could not reach Telegram: python-telegram-bot retries by itself.
            LOGGER.warning("Telegram unreachable for now: %s", error)
            return
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(error, Unreachable):  # blocked: nothing to answer, nobody to tell
            await drop_owed(self.store, error.chat_id)
            return
        metrics.ERRORS.inc()
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
                chat.id, messages.text(language_of(update, self.default_language), "bot", "error")
            )
        except TelegramError:
            LOGGER.warning("could not tell chat %s about the error", chat_ref(chat.id))


async def tell_storage_down(
    port: Port, chat_id: int, query: CallbackQuery | None, lang: str, exc: Exception
) -> None:
    LOGGER.error("storage unavailable for chat %s: %s", chat_ref(chat_id), exc)
    text = messages.text(lang, "bot", "storage_unavailable")
    if query is not None:  # by a call: the webhook's response is an error, to be redelivered
        await port.answer_by_call(query, text)
    else:
        await port.send(chat_id, text)
