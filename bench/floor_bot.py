"""The floor for the load benchmark: a minimal python-telegram-bot bot.

Per update it does what a button bot cannot do less of: it answers the button (Telegram
requires it) and sends one message. Same library, the same kind of webhook server (aiohttp,
updates put on the application's queue), the same concurrency limit as the real bot, and
nothing else: no storage, no flow, no templates. Run by ``bench/load.py`` with the same
environment, twice: with python-telegram-bot's defaults (httpx), and with
``FLOOR_TRANSPORT=aiohttp`` on the bot's own transport (``bot/telegram/transport.py``), so that
the ratio is also read transport for transport.
"""

from __future__ import annotations

import asyncio
import os
import signal

os.environ.setdefault("PTB_TIMEDELTA", "1")

from aiohttp import web
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers the button, if any, and sends one message."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, "ok")


async def serve() -> None:
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .concurrent_updates(256)
        .updater(None)
    )
    if os.environ.get("FLOOR_TRANSPORT") == "aiohttp":
        from bot.telegram.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest(8, pool_timeout=30))
    application = builder.build()
    application.add_handler(TypeHandler(Update, reply))
    secret = os.environ["WEBHOOK_SECRET"]

    async def hook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403)
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return web.Response()

    server = web.Application()
    server.router.add_post("/hook", hook)
    runner = web.AppRunner(server, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with application:
        await application.start()
        await application.bot.set_webhook(os.environ["WEBHOOK_URL"], secret_token=secret)
        await runner.setup()
        await web.TCPSite(
            runner, os.environ["WEBHOOK_LISTEN"], int(os.environ["WEBHOOK_PORT"])
        ).start()
        await stop.wait()
        await runner.cleanup()
        await application.stop()


if __name__ == "__main__":
    asyncio.run(serve())
