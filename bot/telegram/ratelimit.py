"""Sending: Telegram's flood limits and 429 honoured, transient errors retried with a bound."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
)

LOGGER = logging.getLogger("qualiopi_bot")


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
