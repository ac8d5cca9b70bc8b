"""Python's floor for the load benchmark: the floor bot's job in plain aiohttp.

No bot library: the webhook's JSON read with ``json``, the Bot API called with one aiohttp
session (form-encoded, as python-telegram-bot sends it). A message gets one message with one
button; a button press is answered and its message edited, the button kept. What any Python
bot costs per update before it does anything of its own; for context, not a target.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import aiohttp
from aiohttp import web

KEYBOARD = json.dumps({"inline_keyboard": [[{"text": "OK", "callback_data": "ok:floor"}]]})


async def serve() -> None:
    base = f"{os.environ['TELEGRAM_BASE_URL']}{os.environ['TELEGRAM_BOT_TOKEN']}"
    secret = os.environ["WEBHOOK_SECRET"]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8))
    tasks: set[asyncio.Task[None]] = set()

    async def call(method: str, **params: Any) -> None:
        async with session.post(f"{base}/{method}", data=params) as response:
            body = await response.json()
            if not body.get("ok"):
                raise RuntimeError(body)

    async def handle(update: dict[str, Any]) -> None:
        query = update.get("callback_query")
        if query is not None:
            message = query["message"]
            await call("answerCallbackQuery", callback_query_id=query["id"])
            await call("editMessageText", chat_id=message["chat"]["id"],
                       message_id=message["message_id"], text=f"ok {update['update_id']}",
                       reply_markup=KEYBOARD)  # fmt: skip
        elif "message" in update:
            await call("sendMessage", chat_id=update["message"]["chat"]["id"], text="ok",
                       reply_markup=KEYBOARD)  # fmt: skip

    async def hook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403)
        task = asyncio.create_task(handle(json.loads(await request.read())))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response()

    server = web.Application()
    server.router.add_post("/hook", hook)
    runner = web.AppRunner(server, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runner.setup()
    await web.TCPSite(
        runner, os.environ["WEBHOOK_LISTEN"], int(os.environ["WEBHOOK_PORT"])
    ).start()
    await stop.wait()
    await runner.cleanup()
    await session.close()


if __name__ == "__main__":
    asyncio.run(serve())
