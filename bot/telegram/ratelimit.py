"""Sending: Telegram's flood limits kept, a 429 holding back only the chat it concerns, and
transient errors retried with a bound.

python-telegram-bot's ``AIORateLimiter`` answers a 429 by pausing every request of the bot
for ``retry_after``: after a storm of 429s on a few chats, every chat waited (measured in
``bench/storm.py``). Telegram's per-chat limits are what our requests hit (the overall rate is
kept under the bot's limit here), so a 429 for a chat pauses that chat only; a 429 on a request
that names no chat (``getUpdates``, the command menu…) pauses the bot. A button's answer is
the exception: it only stops a spinner that stops by itself, and is worth nothing late, so a
429 on it is neither retried nor allowed to hold anything back.

The overall budget counts what Telegram's FAQ counts: messages sent (``send*``: messages,
documents, photos), "no more than 30 messages per second" when "sending bulk notifications to
multiple users". Editing the message a person just tapped, clearing an old keyboard and
answering a button are replies inside one chat: not counted against the budget, but held to
the chat's own pace by Telegram, whose 429 for that chat is honoured as above.

Taps first: what answers a person's tap (their next screen) goes before background sends (a
PDF's upload, the offer after it, reminders, the consultancy's alerts, the jobs). Background
work runs inside ``background()``; its requests wait for the overall budget until no tap's
request is waiting for it, or ``BACKGROUND_PATIENCE`` seconds at most, so that a burst of taps
never queues behind uploads and background work is never starved.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot import metrics

LOGGER = logging.getLogger("qualiopi_bot")
RETRY_MARGIN = 0.1
"""Seconds added to ``retry_after`` (Telegram counts whole seconds)."""
NOT_WORTH_WAITING = "answerCallbackQuery"
"""The request a 429 drops instead of delaying (see the module's docstring)."""
GROUP_MESSAGES_PER_MINUTE = 20
"""Telegram's limit in a group (the consultancy's admin chats may be groups)."""
COUNTED = "send"
"""The requests the overall budget counts: messages, documents, photos sent to a chat."""
BACKGROUND_PATIENCE = 2.0
"""The longest a background request waits for the taps' requests to pass (seconds)."""
_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "qualiopi_background", default=False
)


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Marks the requests made inside (and by the tasks started inside) as background work."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def in_background() -> bool:
    """Tells whether the current work is background work (``background()``)."""
    return _BACKGROUND.get()


class RetryingRateLimiter(BaseRateLimiter[int]):
    """The overall rate (messages a second, for the chats' requests), 20 a minute in a group,
    429s honoured per chat, and bounded retries on network errors and 5xx."""

    def __init__(
        self,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
        overall_max_rate: float = 30,
    ):
        self.max_retries = max_retries
        self.network_retries = network_retries
        self.backoff = backoff
        self._overall = AsyncLimiter(overall_max_rate, 1) if overall_max_rate else None
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._paused: dict[int | str | None, float] = {}
        """Per chat (None: the bot), the loop time until which its requests wait (a 429)."""
        self._taps_waiting = 0
        """Foreground requests waiting for the overall budget."""
        self._taps_clear: asyncio.Event | None = None
        """Set while no foreground request waits (made in the running loop, on first use)."""

    def _clear_event(self) -> asyncio.Event:
        if self._taps_clear is None:
            self._taps_clear = asyncio.Event()
            self._taps_clear.set()
        return self._taps_clear

    @contextlib.asynccontextmanager
    async def _budget(self, limiter: AsyncLimiter) -> Any:
        """The overall budget, taps first: a background request lets waiting taps go ahead
        (for ``BACKGROUND_PATIENCE`` at most)."""
        clear = self._clear_event()
        if in_background():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(clear.wait(), BACKGROUND_PATIENCE)
            async with limiter:
                yield
            return
        self._taps_waiting += 1
        clear.clear()
        try:
            await limiter.acquire()
        finally:
            self._taps_waiting -= 1
            if not self._taps_waiting:
                clear.set()
        yield

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group(self, chat: int | str) -> AbstractAsyncContextManager[Any]:
        if not (isinstance(chat, str) or chat < 0):
            return nullcontext()
        if len(self._groups) > 512:  # forget the groups that are idle
            for key, limiter in list(self._groups.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._groups[key]
        if chat not in self._groups:
            self._groups[chat] = AsyncLimiter(GROUP_MESSAGES_PER_MINUTE, 60)
        return self._groups[chat]

    async def _wait_turn(self, chat: int | str | None) -> None:
        """Waits while the bot, or this chat, is held back by a 429."""
        loop = asyncio.get_running_loop()
        while True:
            until = max(self._paused.get(None, 0.0), self._paused.get(chat, 0.0))
            left = until - loop.time()
            if left <= 0:
                if chat is not None and chat in self._paused:
                    del self._paused[chat]
                return
            await asyncio.sleep(left)

    def _hold_back(self, chat: int | str | None, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds + RETRY_MARGIN
        self._paused[chat] = max(self._paused.get(chat, 0.0), until)
        metrics.FLOOD_WAITS.labels("bot" if chat is None else "chat").inc()

    async def process_request(  # noqa: PLR0917 (python-telegram-bot's signature)
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Sends when the chat's turn comes; retries a 429 after its wait (that chat only),
        network errors and 5xx a few times."""
        raw = data.get("chat_id")
        chat: int | str | None = raw if isinstance(raw, (int, str)) else None
        if isinstance(chat, str) and chat.lstrip("-").isdigit():
            chat = int(chat)
        limited = rate_limit_args if rate_limit_args is not None else self.max_retries
        if endpoint == NOT_WORTH_WAITING:
            limited = 0
        waits = failures = 0
        while True:
            await self._wait_turn(chat)
            counted = chat is not None and endpoint.startswith(COUNTED)
            overall: AbstractAsyncContextManager[Any] = (
                self._budget(self._overall) if counted and self._overall else nullcontext()
            )
            group = self._group(chat) if chat is not None else nullcontext()
            try:
                async with group, overall:
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if waits == limited:
                    raise
                waits += 1
                seconds = exc.retry_after
                wait = seconds if isinstance(seconds, (int, float)) else seconds.total_seconds()
                LOGGER.info("429 on %s: waiting %.1f s (that chat only)", endpoint, wait)
                self._hold_back(chat, wait)
            except BadRequest:
                raise  # our request is wrong: retrying will not help
            except NetworkError as exc:
                if failures == self.network_retries:
                    raise
                if isinstance(exc, TimedOut) and endpoint.startswith("send"):
                    # Sent but unanswered: Telegram may have delivered it, and a second try
                    # would show the person the same message twice. Edits and answers are
                    # safe to repeat; a new message is not.
                    raise
                LOGGER.warning("retrying %s after %s (attempt %d)", endpoint, exc, failures + 1)
                await asyncio.sleep(self.backoff * 2**failures)
                failures += 1
