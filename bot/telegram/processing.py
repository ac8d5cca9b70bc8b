"""Concurrency: one update per chat at a time, in order; chats run concurrently."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

from telegram import (
    Update,
)
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
)

from bot.telegram.answers import WebhookAcks, WebhookAnswers

if TYPE_CHECKING:
    from bot.telegram.handlers import QualiopiBot


WIDE = 1_000_000
"""python-telegram-bot's own bound on updates in hand (its slot comes before a chat's turn)."""


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Serialises the updates of each chat (FIFO lock per chat) while chats run in parallel."""

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        answers: WebhookAnswers | None = None,
        acks: WebhookAcks | None = None,
    ) -> None:
        # python-telegram-bot takes its slot before ``do_process_update``, that is before the
        # chat's turn: its own limit is left wide, and the real one is taken in turn below.
        super().__init__(WIDE)
        self.answers = answers
        self.acks = acks
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Waits for every earlier update of its chat, then for one of the update slots: a
        chat's backlog waits outside the slots, so it never holds more than one of them and
        other chats go on meanwhile."""
        query = update.callback_query if isinstance(update, Update) else None
        try:
            await self._in_turn(update, coroutine)
        finally:
            if query is not None and self.answers is not None:
                self.answers.release(query.id)
            if isinstance(update, Update) and self.acks is not None:
                self.acks.release(update.update_id)

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        async with self.turn(chat.id):
            await coroutine

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Holds the chat's turn and an update slot (a job saying a chat's owed replies takes
        it too, so that they go out before the chat's next update is handled)."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] += 1
        try:
            async with lock, self._slots:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id]
                del self._locks[chat_id]

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
    webhook_answers: WebhookAnswers | None = None
    """Button answers awaited by webhook responses (``bot.telegram.answers``)."""
    webhook_acks: WebhookAcks | None = None
    """Commits awaited by webhook responses (``bot.telegram.answers``)."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)
