"""The bot's web servers: the webhook (secret, bad bodies, slow clients) on its address,
/health and /metrics on another, in webhook mode and in polling mode, around a real
Application (fake Bot API)."""

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


async def running(tmp_path: Path, **changes: Any) -> AsyncIterator[tuple[str, FakeBotAPI, str]]:
    """Runs ``serve`` until the test is done; yields the webhook's address, the fake API and
    the health address."""
    api = FakeBotAPI()
    changes.setdefault("health_port", free_port())
    app, store = make_app(tmp_path, api, **changes)
    config = settings(tmp_path, **changes)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, store, config, stop))
    base = f"http://127.0.0.1:{config.webhook_port}"
    ops = f"http://127.0.0.1:{config.health_port}"
    async with aiohttp.ClientSession() as client:
        for _ in range(200):
            try:
                async with client.get(f"{ops}/health"):
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
        yield base, api, ops
    stop.set()
    await asyncio.wait_for(task, 10)
    await store.close()


@pytest.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[tuple[str, FakeBotAPI, str]]:
    port = free_port()
    async for running_server in running(
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SECRET,
        webhook_port=port,
    ):
        yield running_server


async def test_the_webhook_takes_updates_with_the_secret_only(
    webhook: tuple[str, FakeBotAPI, str],
) -> None:
    base, api, ops = webhook
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
        async with client.get(f"{ops}/metrics") as response:
            text = await response.text()
            assert response.headers["Content-Type"].startswith("text/plain")
    assert 'qualiopi_updates_total{event="command"}' in text
    assert "qualiopi_database_step_seconds_count" in text
    assert "qualiopi_pdf_queue" in text
    assert "qualiopi_up 1.0" in text


async def test_health_says_degraded_while_pdfs_cannot_be_made(
    webhook: tuple[str, FakeBotAPI, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, ops = webhook
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{ops}/health") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        monkeypatch.setattr(workers, "_broken", True)
        async with client.get(f"{ops}/health") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "degraded"
        async with client.get(f"{ops}/metrics") as response:
            assert "qualiopi_up 0.0" in await response.text()


async def test_polling_mode_serves_health_and_metrics_without_a_webhook(tmp_path: Path) -> None:
    port = free_port()
    async for _, api, ops in running(tmp_path, health_port=port):
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{ops}/health") as response:
                assert response.status == 200
            async with client.get(f"{ops}/metrics") as response:
                assert response.status == 200
            async with client.post(f"{ops}/telegram", data=b"{}") as response:
                assert response.status == 404
        assert not api.of("setWebhook")
        assert api.of("getUpdates")


async def test_a_buttons_answer_goes_back_in_the_webhook_response(
    webhook: tuple[str, FakeBotAPI, str],
) -> None:
    """A tap costs one request to Telegram (the new screen): the answer that stops the
    button's spinner, toast included, is the webhook response's method."""
    base, api, ops = webhook
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
        async with client.get(f"{ops}/metrics") as response:
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


async def test_health_and_metrics_are_not_on_the_webhooks_address(
    webhook: tuple[str, FakeBotAPI, str],
) -> None:
    base, _, ops = webhook
    async with aiohttp.ClientSession() as client:
        for path in ("/health", "/metrics"):
            async with client.get(f"{base}{path}") as response:
                assert response.status == 404, path
        async with client.post(f"{ops}/telegram", data=b"{}") as response:
            assert response.status in (404, 405), "no webhook on the health address"


def test_the_health_port_must_differ_from_the_webhooks() -> None:
    from bot.config import SettingError, load_settings

    env = {
        "TELEGRAM_BOT_TOKEN": "1234567:AAtesttokenthatisnotrealatallxyzxyz12",
        "WEBHOOK_URL": "https://bot.example/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": "8443",
        "HEALTH_PORT": "8443",
    }
    with pytest.raises(SettingError) as refused:
        load_settings(env, env_file=Path("/nonexistent/.env"))
    assert refused.value.name == "HEALTH_PORT"
    assert "WEBHOOK_PORT" in refused.value.line("en")


async def slow_client(port: int, chunks: list[bytes], pause: float) -> float | None:
    """Sends ``chunks`` one by one, ``pause`` apart; returns after how many seconds the server
    closed the connection (None: it was still open after the last chunk)."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = loop.time()
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), pause) == b"":
                    return loop.time() - started
            except TimeoutError:
                continue
        return None
    except ConnectionError:
        return loop.time() - started
    finally:
        writer.close()


async def test_slow_heads_and_bodies_are_cut_at_the_read_deadline(tmp_path: Path) -> None:
    """Sockets that dribble a request (a header byte, or a body byte, every 0.2 s) are closed
    once the read deadline has passed; a request read in time is answered, and its handling
    time (waiting for a step) does not count."""
    from bot.telegram.web import WebServer

    port = free_port()
    config = settings(
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SECRET,
        webhook_port=port,
        health_port=free_port(),
    )
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    server = WebServer(app, store, config, read_timeout=0.6)
    await server.start()
    try:
        head = b"POST /telegram HTTP/1.1\r\nHost: x\r\n"
        slow_head = [bytes([b]) for b in head] + [b"X-Pad: 1\r\n"] * 40
        body_head = b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n"
        slow_body = [body_head] + [b"{"] * 40
        cut = await asyncio.gather(
            *(slow_client(port, slow_head, 0.2) for _ in range(20)),
            *(slow_client(port, slow_body, 0.2) for _ in range(10)),
        )
        assert all(c is not None and c < 3 for c in cut), cut
        async with aiohttp.ClientSession() as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            for _ in range(3):  # one keep-alive connection, requests in time
                async with client.post(f"http://127.0.0.1:{port}/telegram", data=b"{}",
                                       headers=headers) as response:  # fmt: skip
                    assert response.status == 403
                await asyncio.sleep(0.4)  # idle between requests is not reading time
    finally:
        await server.stop()
        await store.close()
