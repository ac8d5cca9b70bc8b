"""A button's answer carried by the webhook's HTTP response instead of a call of its own.

Telegram lets a bot reply to a webhook request with one Bot API method in the response body
("Making requests when getting updates", Bot API documentation). A tap needs two methods: the
button's answer (which stops its spinner, with the toast's text) and the new screen. Here the
answer rides the response, so a tap costs one request to Telegram instead of two, and the
spinner stops as soon as the step is decided. Telegram does not say whether such a method
succeeded, which is acceptable for a spinner: an answer that fails leaves it to stop by itself,
as a lost call would.

The webhook waits at most ``WAIT`` seconds for the answer (a chat's earlier taps, or a slow
database, can hold the update longer); past that the response goes out empty and the answer
takes its own call, as in polling mode.
"""

from __future__ import annotations

import asyncio
from typing import Any

WAIT = 1.0
"""Seconds the webhook's response waits for the button's answer."""
TOAST_LIMIT = 200
"""Telegram's limit on the text of a button's answer, in characters."""


class WebhookAnswers:
    """The button answers awaited by webhook responses, by callback query id."""

    def __init__(self, wait: float = WAIT) -> None:
        self.wait = wait
        self._waiting: dict[str, asyncio.Future[str]] = {}

    def expect(self, query_id: str) -> asyncio.Future[str]:
        """Registers a webhook response waiting for this query's answer (before the update
        is queued, so that the answer cannot come first)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[query_id] = future
        return future

    def give(self, query_id: str, text: str | None) -> bool:
        """Hands the answer (its toast text, or None) to the waiting response; False when no
        response waits for it (polling mode, or past ``wait``): then it takes its own call."""
        future = self._waiting.pop(query_id, None)
        if future is None or future.done():
            return False
        future.set_result(text[:TOAST_LIMIT] if text else "")
        return True

    async def response(self, query_id: str, future: asyncio.Future[str]) -> dict[str, Any] | None:
        """The method for the webhook's response: the answer if given within ``wait``, else
        None (and the answer, given later, takes its own call)."""
        try:
            text = await asyncio.wait_for(asyncio.shield(future), self.wait)
        except TimeoutError:
            if not future.done():
                self.forget(query_id, future)
                return None
            text = future.result()
        except asyncio.CancelledError:  # the request went away: the answer takes its call
            self.forget(query_id, future)
            raise
        method: dict[str, Any] = {"method": "answerCallbackQuery", "callback_query_id": query_id}
        if text:
            method["text"] = text
        return method

    def forget(self, query_id: str, future: asyncio.Future[str]) -> None:
        """Stops waiting with this future (not another one registered since for the same query:
        Telegram delivering an update twice)."""
        if self._waiting.get(query_id) is future:
            del self._waiting[query_id]

    def release(self, query_id: str) -> None:
        """The update is handled: a response still waiting answers the button without text
        (an update that ends without an answer would otherwise keep its spinner turning)."""
        self.give(query_id, None)


COMMIT_WAIT = 50.0
"""Seconds the webhook's response waits for its update's step to commit (Telegram gives up
on a webhook request after about a minute and delivers the update again)."""


class WebhookAcks:
    """The webhook responses waiting for their update's step to be committed, by update id.

    A response is 200 only once the step is committed (or the update needed no step): a
    worker killed before that leaves the request unanswered, and Telegram delivers the
    update again; the store applies an update once, whoever receives it twice.
    """

    def __init__(self, wait: float = COMMIT_WAIT) -> None:
        self.wait = wait
        self._waiting: dict[int, asyncio.Future[bool]] = {}

    def expect(self, update_id: int) -> asyncio.Future[bool]:
        """Registers a response waiting for this update (before the update is queued)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[update_id] = future
        return future

    def settle(self, update_id: int, committed: bool = True) -> None:
        """The step is committed (True), or could not be (False: the response asks Telegram
        to deliver the update again)."""
        future = self._waiting.pop(update_id, None)
        if future is not None and not future.done():
            future.set_result(committed)

    async def committed(self, update_id: int, future: asyncio.Future[bool]) -> bool:
        """Waits for the step; False when it failed or took longer than ``wait``."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.wait)
        except TimeoutError:
            return False
        finally:
            if self._waiting.get(update_id) is future:
                del self._waiting[update_id]

    def release(self, update_id: int) -> None:
        """The update is done: a response still waiting (an update no step was taken for,
        a group's message, an error already answered) is acknowledged."""
        self.settle(update_id, True)
