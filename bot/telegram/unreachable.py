"""A chat Telegram refuses to write to (403: the person blocked the bot, or their account is
gone): an expected outcome, logged at INFO, counted, and what was owed to it dropped, so that
no job retries it. What the chat does next (unblocking, then writing) is answered as usual."""

from __future__ import annotations

import logging

from bot import metrics
from bot.storage import StorageError, Store
from bot.telegram.logref import chat_ref

LOGGER = logging.getLogger("qualiopi_bot")


async def drop_owed(store: Store, chat_id: int) -> None:
    """Records the chat unreachable: its owed replies and result PDF go."""
    LOGGER.info("chat %s blocked the bot: what was owed to it is dropped", chat_ref(chat_id))
    metrics.UNREACHABLE.inc()
    try:
        await store.unreachable(chat_id)
    except StorageError as exc:  # its owed work is tried again later, and refused again
        LOGGER.warning("chat %s not recorded unreachable: %s", chat_ref(chat_id), exc)
