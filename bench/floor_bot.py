"""The floor for the load benchmark: a minimal python-telegram-bot bot, one reply per update.

Same library, same webhook server, same concurrency limit as the real bot, and nothing else:
no storage, no flow, no templates. Run by ``bench/load.py`` with the same environment, twice:
with python-telegram-bot's defaults (httpx), and with ``FLOOR_TRANSPORT=aiohttp`` on the bot's
own transport (``bot/transport.py``), so that the ratio is also read transport for transport.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends one message per update."""
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, "ok")


def main() -> None:
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .concurrent_updates(256)
    )
    if os.environ.get("FLOOR_TRANSPORT") == "aiohttp":
        from bot.telegram.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest(8, pool_timeout=30))
    application = builder.build()
    application.add_handler(TypeHandler(Update, reply))
    application.run_webhook(
        listen=os.environ["WEBHOOK_LISTEN"],
        port=int(os.environ["WEBHOOK_PORT"]),
        url_path="hook",
        webhook_url=os.environ["WEBHOOK_URL"],
        secret_token=os.environ["WEBHOOK_SECRET"],
    )


if __name__ == "__main__":
    main()
