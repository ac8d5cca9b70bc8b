"""The operator's gauges, refreshed by a job rather than per scrape: what is late in the
database (owed PDFs, lead alerts, replies; overdue reminders) and, in webhook mode, what
Telegram says of the webhook (``getWebhookInfo``: its backlog and its last delivery error)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from telegram.error import TelegramError

from bot import metrics
from bot.storage import StorageError, Store

LOGGER = logging.getLogger("qualiopi_bot")
LATE = dt.timedelta(minutes=10)
"""Owed work younger than this is in flight, not late (the jobs' grace and leases)."""
GAUGES_INTERVAL = 30
"""Seconds between two refreshes."""


class Gauges:
    """Refreshes the backlog gauges (every worker) and the webhook's (webhook mode)."""

    def __init__(self, store: Store, now: Callable[[], dt.datetime], webhook: bool) -> None:
        self.store = store
        self.now = now
        self.webhook = webhook
        self._last_error: str | None = None

    async def refresh(self, context: Any) -> None:
        """A job: reads the figures and sets the gauges (left as they were on a failure)."""
        now = self.now()
        try:
            backlog = await self.store.backlog(now - LATE, now.date())
        except StorageError as exc:
            LOGGER.warning("backlog gauges not refreshed: %s", exc)
        else:
            for kind, count in backlog.items():
                metrics.BACKLOG.labels(kind).set(count)
        if not self.webhook:
            return
        try:
            info = await context.bot.get_webhook_info()
        except TelegramError as exc:
            LOGGER.warning("getWebhookInfo failed: %s", exc)
            return
        metrics.WEBHOOK_PENDING.set(info.pending_update_count)
        when = info.last_error_date
        metrics.WEBHOOK_LAST_ERROR.set(when.timestamp() if when else 0)
        if info.last_error_message and info.last_error_message != self._last_error:
            LOGGER.warning(
                "Telegram could not deliver to the webhook: %s", info.last_error_message
            )
        self._last_error = info.last_error_message
