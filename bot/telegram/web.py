"""The bot's one web server (aiohttp): Telegram's webhook, ``/health`` and ``/metrics`` on one
port, in polling mode too (without the webhook); and the application's life around it.

python-telegram-bot's own webhook server (tornado) is not used: updates posted here go to the
application's queue, the same queue polling fills, so the per-chat processing is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.config import Settings
from bot.render.workers import pdf_workers_ok
from bot.storage import StorageError, Store

LOGGER = logging.getLogger("qualiopi_bot")
MAX_UPDATE_BYTES = 1024 * 1024
"""A Telegram update is a few kilobytes; anything past a megabyte is not one."""
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONNECTIONS = 100
"""Webhook requests Telegram may have in flight at once (its maximum)."""

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class WebServer:
    """Routes: ``POST <webhook path>`` (webhook mode), ``GET /health``, ``GET /metrics``."""

    def __init__(self, application: AnyApplication, store: Store, settings: Settings) -> None:
        self.application = application
        self.store = store
        self.settings = settings
        self.runner: web.AppRunner | None = None

    @property
    def webhook_path(self) -> str | None:
        """The path Telegram posts to, or None in polling mode."""
        if not self.settings.uses_webhook:
            return None
        return "/" + urlsplit(self.settings.webhook_url or "").path.lstrip("/")

    def app(self) -> web.Application:
        """The aiohttp application (its routes)."""
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_get("/health", self.health)
        app.router.add_get("/metrics", self.metrics)
        if self.webhook_path is not None:
            app.router.add_post(self.webhook_path, self.webhook)
        return app

    async def webhook(self, request: web.Request) -> web.Response:
        """Takes one update from Telegram: checks the secret, queues the update, and answers
        200 once its step is committed (503 if it could not be: Telegram delivers it again);
        a button's answer goes back in the response (``bot.telegram.answers``)."""
        secret = self.settings.webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json(loads=json.loads)
            update = Update.de_json(data, self.application.bot)
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        except (ValueError, TypeError, KeyError, AttributeError):
            LOGGER.warning("a webhook request that is not an update was refused")
            return web.Response(status=400)
        query = update.callback_query
        answers = getattr(self.application, "webhook_answers", None)
        acks = getattr(self.application, "webhook_acks", None)
        waiting = answers.expect(query.id) if query is not None and answers is not None else None
        committed = acks.expect(update.update_id) if acks is not None else None
        await self.application.update_queue.put(update)
        if (
            acks is not None
            and committed is not None
            and not await acks.committed(update.update_id, committed)
        ):
            # Not committed: Telegram delivers the update again (applied once).
            if answers is not None and query is not None and waiting is not None:
                answers.forget(query.id, waiting)
            return web.Response(status=503)
        if query is None or answers is None or waiting is None:
            return web.Response()
        method = await answers.response(query.id, waiting)
        return web.Response() if method is None else web.json_response(method)

    async def status(self) -> tuple[int, dict[str, Any]]:
        """What /health says: 200 while the database answers and PDFs can be made."""
        try:
            version = await self.store.schema_version()
        except StorageError:
            metrics.HEALTHY.set(0)
            return 503, {"status": "database unavailable"}
        if not pdf_workers_ok():
            metrics.HEALTHY.set(0)
            return 503, {"status": "degraded", "pdf": "unavailable", "schema": version}
        metrics.HEALTHY.set(1)
        return 200, {"status": "ok", "schema": version}

    async def health(self, _: web.Request) -> web.Response:
        """``GET /health``: for a load balancer or a container's health check."""
        code, body = await self.status()
        return web.json_response(body, status=code)

    async def metrics(self, _: web.Request) -> web.Response:
        """``GET /metrics``: Prometheus' text format."""
        await self.status()
        body, content_type = metrics.exposition()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    async def start(self, listen: str, port: int) -> None:
        """Starts serving on ``listen:port``."""
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, listen, port).start()
        LOGGER.info("web server on %s:%s (webhook: %s)", listen, port, self.webhook_path or "no")

    async def stop(self) -> None:
        """Stops serving (requests in flight finish first)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


async def _call(hook: Callable[[AnyApplication], Awaitable[None]] | None, app: Any) -> None:
    if hook is not None:
        await hook(app)


async def serve(
    application: AnyApplication,
    store: Store,
    settings: Settings,
    stop: asyncio.Event | None = None,
) -> None:
    """Runs the bot until SIGINT or SIGTERM (or ``stop``): the application, then the updates
    (webhook registered with Telegram, or polling), then the web server; stops in reverse,
    finishing the updates in hand and the PDFs owed before closing."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    server = WebServer(application, store, settings)
    port = settings.web_port
    await application.initialize()
    try:
        await _call(application.post_init, application)
        await application.start()
        if settings.uses_webhook:
            await application.bot.set_webhook(
                url=settings.webhook_url or "",
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
                # Telegram's most (40 by default): a button's request is held until its answer
                # is decided (a few milliseconds; bot.telegram.answers), so more requests in
                # flight keep the intake above what the bot can handle.
                max_connections=WEBHOOK_CONNECTIONS,
            )
            LOGGER.info("webhook mode")
        else:
            assert application.updater is not None
            await application.updater.start_polling(drop_pending_updates=False)
            LOGGER.info("polling mode")
        if port:
            await server.start(settings.webhook_listen, port)
        await stop.wait()
    finally:
        await server.stop()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            await _call(application.post_stop, application)
        await application.shutdown()
        await _call(application.post_shutdown, application)
