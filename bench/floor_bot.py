"""The floor for the load benchmark: a minimal python-telegram-bot bot.

Per update it does what a button bot cannot do less of: a message gets one message with one
button; a button press is answered (Telegram requires it) and its message edited in place, the
button kept, as the bot edits its question. Same library, the same kind of webhook server (aiohttp,
updates put on the application's queue), the same concurrency limit as the real bot, and
nothing else: no storage, no flow, no templates. Run by ``bench/load.py`` with the same
environment, twice: with python-telegram-bot's defaults (httpx), and with
``FLOOR_TRANSPORT=aiohttp`` on the bot's own transport (``bot/telegram/transport.py``), so that
the ratio is also read transport for transport.

``FLOOR_STATE=1`` (the ``floor-state`` case) adds the least a stateful bot must do: per update
one SQLite transaction that reads the chat's row and writes it back (WAL, on the event loop,
as the bot does), before the same two calls. A yardstick for what the bot's own work costs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3

os.environ.setdefault("PTB_TIMEDELTA", "1")

from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

STATE = os.environ.get("FLOOR_STATE") == "1"
_db: sqlite3.Connection | None = None


def _step(chat_id: int, update_id: int) -> None:
    """One committed step: the chat's row read and written back."""
    global _db  # noqa: PLW0603 (one connection for the process)
    if _db is None:
        _db = sqlite3.connect(os.environ.get("FLOOR_DB", "floor.sqlite3"), isolation_level=None)
        _db.execute("PRAGMA journal_mode=WAL")
        _db.execute("PRAGMA synchronous=NORMAL")
        _db.execute("CREATE TABLE IF NOT EXISTS chats (id INTEGER PRIMARY KEY, state TEXT)")
    _db.execute("BEGIN IMMEDIATE")
    row = _db.execute("SELECT state FROM chats WHERE id = ?", (chat_id,)).fetchone()
    state = json.loads(row[0]) if row else {"updates": []}
    state["updates"] = [*state["updates"], update_id][-64:]
    _db.execute("INSERT OR REPLACE INTO chats (id, state) VALUES (?, ?)",
                (chat_id, json.dumps(state)))  # fmt: skip
    _db.execute("COMMIT")


KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok:floor")]])


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers the button and edits its message, or sends a message with a button (after a
    committed step with ``FLOOR_STATE=1``)."""
    if STATE and update.effective_chat is not None:
        _step(update.effective_chat.id, update.update_id)
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(f"ok {update.update_id}", reply_markup=KEYBOARD)
        return
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, "ok", reply_markup=KEYBOARD)


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
