"""The load benchmark's fake Bot API reads a keyboard however a bot sends it: a JSON body
with the keyboard as an object (the bot's transport, python-telegram-bot's objects), or a
form with the keyboard as a JSON string."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient, TestServer

from bench.load import FakeApi, api_app

KEYBOARD = {"inline_keyboard": [[{"text": "OPCO", "callback_data": "ans:funders:opco"}]]}


async def test_a_keyboard_sent_as_an_object_in_json_is_read() -> None:
    api = FakeApi(need_keyboard=True)
    async with TestClient(TestServer(api_app(api))) as client:
        sent = {"chat_id": 7, "text": "Qui finance ?", "reply_markup": KEYBOARD}
        response = await client.post("/bot123:abc/sendMessage", json=sent)
        body = await response.json()
    assert body["ok"] is True
    assert api.live[7] == body["result"]["message_id"]
    assert api.shown[7] == ("Qui finance ?", KEYBOARD)
    assert api.methods["sendMessage"] == 1


async def test_a_keyboard_sent_as_a_string_in_a_form_is_read() -> None:
    api = FakeApi(need_keyboard=True)
    async with TestClient(TestServer(api_app(api))) as client:
        form = {"chat_id": "8", "message_id": "55", "text": "Question 2",
                "reply_markup": json.dumps(KEYBOARD)}  # fmt: skip
        response = await client.post("/bot123:abc/editMessageText", data=form)
        assert (await response.json())["result"]["message_id"] == 55
    assert api.live[8] == 55
    assert api.shown[8] == ("Question 2", KEYBOARD)
