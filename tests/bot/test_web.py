"""The bot's one web server: the webhook (secret, bad bodies), /health and /metrics, in
webhook mode and in polling mode, around a real Application (fake Bot API)."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.render import workers
from bot.telegram.answers import WebhookAnswers
from bot.telegram.web import serve
from tests.bot.fakes import FakeBotAPI, callback_update, make_app, message_update, settings

SECRET = "s3cret-token_1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def running(tmp_path: Path, **changes: Any) -> AsyncIterator[tuple[str, FakeBotAPI]]:
    """Runs ``serve`` until the test is done; yields the server's address and the fake API."""
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api, **changes)
    config = settings(tmp_path, **changes)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, store, config, stop))
    base = f"http://127.0.0.1:{config.web_port}"
    async with aiohttp.ClientSession() as client:
        for _ in range(200):
            try:
                async with client.get(f"{base}/health"):
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
        yield base, api
    stop.set()
    await asyncio.wait_for(task, 10)
    await store.close()


@pytest.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[tuple[str, FakeBotAPI]]:
    port = free_port()
    async for running_server in running(
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SECRET,
        webhook_port=port,
    ):
        yield running_server


async def test_the_webhook_takes_updates_with_the_secret_only(
    webhook: tuple[str, FakeBotAPI],
) -> None:
    base, api = webhook
    hook = api.of("setWebhook")[0]
    assert hook["url"] == f"{base}/telegram"
    assert hook["secret_token"] == SECRET
    assert int(hook["max_connections"]) == 100, "answers held in responses need room"
    update = json.dumps(message_update(601, "fr", text="/start")).encode()
    async with aiohttp.ClientSession() as client:

        async def post(body: bytes, secret: str = SECRET) -> int:
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            sent = io.BytesIO(body)
            async with client.post(f"{base}/telegram", data=sent, headers=headers) as response:
                return response.status

        assert await post(update, "wrong") == 403
        assert await post(b"{not json") == 400
        assert await post(b'"a string"') == 400
        assert await post(b"x" * (2 * 1024 * 1024)) == 413
        assert not api.chat(601)
        assert await post(update) == 200
        for _ in range(100):
            if api.chat(601):
                break
            await asyncio.sleep(0.02)
        assert any("situation" in m.text for m in api.chat(601))
        async with client.get(f"{base}/metrics") as response:
            text = await response.text()
            assert response.headers["Content-Type"].startswith("text/plain")
    assert 'qualiopi_updates_total{event="command"}' in text
    assert "qualiopi_database_step_seconds_count" in text
    assert "qualiopi_pdf_queue" in text
    assert "qualiopi_up 1.0" in text


async def test_health_says_degraded_while_pdfs_cannot_be_made(
    webhook: tuple[str, FakeBotAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = webhook
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/health") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        monkeypatch.setattr(workers, "_broken", True)
        async with client.get(f"{base}/health") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "degraded"
        async with client.get(f"{base}/metrics") as response:
            assert "qualiopi_up 0.0" in await response.text()


async def test_polling_mode_serves_health_and_metrics_without_a_webhook(tmp_path: Path) -> None:
    port = free_port()
    async for base, api in running(tmp_path, health_port=port):
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/health") as response:
                assert response.status == 200
            async with client.get(f"{base}/metrics") as response:
                assert response.status == 200
            async with client.post(f"{base}/telegram", data=b"{}") as response:
                assert response.status == 404
        assert not api.of("setWebhook")
        assert api.of("getUpdates")


async def test_a_buttons_answer_goes_back_in_the_webhook_response(
    webhook: tuple[str, FakeBotAPI],
) -> None:
    """A tap costs one request to Telegram (the new screen): the answer that stops the
    button's spinner, toast included, is the webhook response's method."""
    base, api = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as client:
        start = message_update(611, "fr", text="/start")
        async with client.post(f"{base}/telegram", json=start, headers=headers) as response:
            assert response.status == 200
            assert await response.read() == b"", "a message has no button to answer"
        for _ in range(100):
            if any(m.buttons for m in api.chat(611)):
                break
            await asyncio.sleep(0.02)
        question = next(m for m in api.chat(611) if m.buttons)
        tap = callback_update(611, question.data()[0], question.message_id, "fr")
        async with client.post(f"{base}/telegram", json=tap, headers=headers) as response:
            method = await response.json()
        assert method == {"method": "answerCallbackQuery",
                          "callback_query_id": tap["callback_query"]["id"]}  # fmt: skip
        stale = callback_update(611, "ans:forged", question.message_id, "fr")
        async with client.post(f"{base}/telegram", json=stale, headers=headers) as response:
            method = await response.json()
        assert method["callback_query_id"] == stale["callback_query"]["id"]
        assert method.get("text"), "a forged button is answered with a toast"
        async with client.get(f"{base}/metrics") as response:
            exposed = await response.text()
    assert not api.of("answerCallbackQuery")
    assert api.of("editMessageText"), "the new screen is a call of its own"
    assert 'qualiopi_button_answers_total{via="response"}' in exposed


async def test_an_answer_not_ready_in_time_takes_its_own_call() -> None:
    answers = WebhookAnswers(wait=0.01)
    waiting = answers.expect("q1")
    assert await answers.response("q1", waiting) is None
    assert not answers.give("q1", "trop tard"), "no response waits: the port calls Telegram"
    waiting = answers.expect("q2")
    answers.release("q2")
    assert await answers.response("q2", waiting) == {
        "method": "answerCallbackQuery", "callback_query_id": "q2"}  # fmt: skip
    waiting = answers.expect("q3")
    assert answers.give("q3", "x" * 300)
    method = await answers.response("q3", waiting)
    assert method is not None
    assert len(method["text"]) == 200, "Telegram's limit"
    patient = WebhookAnswers(wait=5)
    waiting = patient.expect("q4")
    gone = asyncio.create_task(patient.response("q4", waiting))
    await asyncio.sleep(0)
    gone.cancel()  # the webhook request went away before the answer came
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert not patient.give("q4", "ok"), "nobody reads that response: the port calls Telegram"
