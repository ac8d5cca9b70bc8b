"""The aiohttp transport to the Bot API, against a local server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TelegramError, TimedOut

from bot.telegram.transport import AiohttpRequest
from tests.bot.fakes import TOKEN

Seen = list[dict[str, Any]]


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    seen: Seen = []

    async def handle(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                body = await part.read()  # type: ignore[union-attr]
                fields[part.name or ""] = (part.filename, body)  # type: ignore[union-attr]
        elif request.can_read_body:
            fields = await request.json()
        seen.append({"method": method, "fields": fields, "agent": request.headers["User-Agent"],
                     "type": request.content_type})  # fmt: skip
        if method == "slow":
            await asyncio.sleep(0.6)
        if method == "getMe":
            result: Any = {"id": 1, "is_bot": True, "first_name": "B", "username": "b_bot"}
        else:
            result = {"message_id": 5, "date": 0, "chat": {"id": 3, "type": "private"}}
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_route("POST", "/bot{token}/{method}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/bot", seen
    await runner.cleanup()


async def test_fields_and_files_arrive_as_sent(server: tuple[str, Seen]) -> None:
    base, seen = server
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(2)) as bot:
        message = await bot.send_message(3, "Bonjour <b>é</b>", parse_mode="HTML")
        button = InlineKeyboardButton("Oui", callback_data="ans:x:y")
        await bot.send_message(3, "b", reply_markup=InlineKeyboardMarkup([[button]]))
        await bot.send_document(3, InputFile(b"%PDF-1.4 x", filename="liste.pdf"), caption="c")
    assert message.message_id == 5
    sent = next(s for s in seen if s["method"] == "sendMessage")["fields"]
    assert sent["text"] == "Bonjour <b>é</b>"
    assert sent["chat_id"] == 3, "a number, as the Bot API documents it"
    assert next(s for s in seen if s["method"] == "sendMessage")["type"] == "application/json"
    keyboard = [s["fields"] for s in seen if s["method"] == "sendMessage"][1]["reply_markup"]
    assert keyboard == {"inline_keyboard": [[{"text": "Oui", "callback_data": "ans:x:y"}]]}
    document = next(s for s in seen if s["method"] == "sendDocument")["fields"]
    assert document["document"] == ("liste.pdf", b"%PDF-1.4 x")
    assert document["caption"] == (None, b"c")
    assert all("aiohttp" in s["agent"] for s in seen)


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    async with AiohttpRequest(1) as request:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")


async def test_a_slow_answer_is_a_timeout(server: tuple[str, Seen]) -> None:
    base, _ = server
    async with AiohttpRequest(1, read_timeout=0.2, write_timeout=0.1) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{base}{TOKEN}/slow")


async def test_an_unopened_transport_refuses_to_send() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest(1).do_request("http://127.0.0.1:9/", "POST")


def test_of_a_message_it_sent_the_bot_reads_only_what_identifies_it() -> None:
    sent = {
        "message_id": 7,
        "date": 1,
        "chat": {"id": 42, "type": "private"},
        "text": "Question 2",
        "entities": [{"type": "bold", "offset": 0, "length": 8}],
        "reply_markup": {"inline_keyboard": [[{"text": "Oui", "callback_data": "ans:x:y"}]]},
    }
    read = AiohttpRequest.parse_json_payload(json.dumps({"ok": True, "result": sent}).encode())
    assert read["result"] == {"message_id": 7, "date": 1, "chat": {"id": 42, "type": "private"}}
    updates = {"ok": True, "result": [{"update_id": 1, "message": sent}]}
    assert AiohttpRequest.parse_json_payload(json.dumps(updates).encode()) == updates
    assert AiohttpRequest.parse_json_payload(b'{"ok": true, "result": true}')["result"] is True
    with pytest.raises(TelegramError):
        AiohttpRequest.parse_json_payload(b"<html>502</html>")


async def test_an_edit_is_read_as_done(server: tuple[str, Seen]) -> None:
    base, seen = server
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(2)) as bot:
        edited = await bot.edit_message_text("Question 3", chat_id=3, message_id=5)
        sent = await bot.send_message(3, "Question 4")
    assert edited is True, "the answer is not parsed into a message"
    assert sent.message_id == 5
    assert [s["method"] for s in seen][-2:] == ["editMessageText", "sendMessage"]
