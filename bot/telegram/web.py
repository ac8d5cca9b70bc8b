"""The bot's web servers (aiohttp): Telegram's webhook on its own address, and ``/health``
and ``/metrics`` on another (``HEALTH_LISTEN``/``HEALTH_PORT``, in both modes), so that
publishing the webhook publishes neither the metrics nor a database query per request; and
the application's life around them. Every request must be read within ``READ_TIMEOUT``
(``bot.telegram.deadlines``).

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
from bot.telegram.deadlines import with_deadline

LOGGER = logging.getLogger("qualiopi_bot")
MAX_UPDATE_BYTES = 1024 * 1024
"""A Telegram update is a few kilobytes; anything past a megabyte is not one."""
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONNECTIONS = 100
"""Webhook requests Telegram may have in flight at once (its maximum)."""
READ_TIMEOUT = 10.0
"""Seconds from a request's first byte to its last (Telegram sends an update at once)."""
KEEPALIVE_TIMEOUT = 75.0
"""Seconds an idle connection is kept for the next request (nginx's default)."""

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class WebServer:
    """Routes: ``POST <webhook path>`` (webhook mode) on the webhook's address; ``GET /health``
    and ``GET /metrics`` on the health address."""

    def __init__(
        self,
        application: AnyApplication,
        store: Store,
        settings: Settings,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.application = application
        self.store = store
        self.settings = settings
        self.read_timeout = read_timeout
        self.runners: list[web.AppRunner] = []
        self.listeners: list[asyncio.Server] = []

    @property
    def webhook_path(self) -> str | None:
        """The path Telegram posts to, or None in polling mode."""
        if not self.settings.uses_webhook:
            return None
        return "/" + urlsplit(self.settings.webhook_url or "").path.lstrip("/")

    def webhook_app(self) -> web.Application:
        """The webhook's aiohttp application: one route."""
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        if self.webhook_path is not None:
            app.router.add_post(self.webhook_path, self.webhook)
        return app

    def health_app(self) -> web.Application:
        """The operator's aiohttp application: /health and /metrics."""
        app = web.Application(client_max_size=1024)
        app.router.add_get("/health", self.health)
        app.router.add_get("/metrics", self.metrics)
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
            body = await asyncio.wait_for(request.read(), self.read_timeout)
            update = Update.de_json(json.loads(body), self.application.bot)
        except TimeoutError:  # a chunked body that does not come (ReadDeadline has the rest)
            return web.Response(status=408)
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

    async def start(self) -> None:
        """Starts serving: the webhook (webhook mode) and the health address (if set)."""
        s = self.settings
        if self.webhook_path is not None:
            await self._serve(self.webhook_app(), s.webhook_listen, s.webhook_port)
            LOGGER.info("webhook on %s:%s%s", s.webhook_listen, s.webhook_port, self.webhook_path)
        if s.health_port:
            await self._serve(self.health_app(), s.health_listen, s.health_port)
            LOGGER.info("/health and /metrics on %s:%s", s.health_listen, s.health_port)

    async def _serve(self, app: web.Application, listen: str, port: int) -> None:
        """Serves ``app`` on ``listen:port``, each request read under the deadline."""
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT)
        await runner.setup()
        self.runners.append(runner)
        assert runner.server is not None
        listener = await asyncio.get_running_loop().create_server(
            with_deadline(runner.server, self.read_timeout), listen, port
        )
        self.listeners.append(listener)

    async def stop(self) -> None:
        """Stops serving (requests in flight finish first)."""
        for listener in self.listeners:
            listener.close()
        for runner in self.runners:
            await runner.cleanup()
        self.listeners, self.runners = [], []


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
        await server.start()
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
