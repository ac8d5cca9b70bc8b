"""Fault drills, bounded: random input of every kind, and a flaky Bot API."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from telegram import Update

from tests.bot.conftest import POSTGRES_URL, reset_postgres
from tests.bot.fakes import (
    FakeBotAPI,
    Person,
    callback_update,
    make_app,
    message_update,
    settle,
)
from tests.bot.proxy import TcpProxy
from tests.bot.stores import PostgresStore, SQLiteStore

pytestmark = pytest.mark.slow  # bounded load and fault drills

SCRIPTS = [
    "abcdefghijklmnopqrstuvwxyz",
    "éèàçôûÉÀ’«»",
    "مرحبا بالعالم",
    "你好世界繁體字",
    "🙂🚀👩‍👩‍👧‍👦🇫🇷",
    "<b>&amp;</b><script>",
    "\u200b\u202e\x00\x07",
    "0123456789 ,;.-",
]
DATA = ["ans:role:independent", "ans:activities:training", "ok:activities", "ans:funders:opco",
        "ok:funders", "back", "restart", "result", "edit:role", "lang:en", "lead:yes",
        "remind:yes", "del:no", "ans:role:king", "ok:", "x" * 64, ""]  # fmt: skip


def random_update(rng: random.Random, chats: list[int], live: dict[int, int]) -> dict[str, Any]:
    chat = rng.choice(chats)
    kind = rng.random()
    if kind < 0.35:
        length = rng.choice([1, 2, 5, 20, 200, 4096, 5000])
        text = "".join(rng.choice(rng.choice(SCRIPTS)) for _ in range(length))
        if rng.random() < 0.1:
            text = rng.choice(["/start", "/back", "/summary", "/language", "/stats", "/x"]) + text
        return message_update(chat, rng.choice(["fr", "en", None]), text=text or "?")
    if kind < 0.45:
        sticker = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                   "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
        return message_update(chat, "fr", sticker=sticker)
    if kind < 0.55:
        raw = message_update(chat, "fr", text=rng.choice(["1", "oui", "bonjour"]))
        raw["edited_message"] = {**raw.pop("message"), "edit_date": 1_795_000_100}
        return raw
    if kind < 0.65:
        return message_update(-100_000 - chat, "fr", chat_type="group", text="/start hello")
    message_id = live.get(chat, 1) if rng.random() < 0.7 else rng.randint(1, 10_000)
    return callback_update(chat, rng.choice(DATA), message_id, "fr")


async def test_random_input_never_crashes_and_every_private_update_is_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(2026)
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    chats = list(range(500, 520))
    unanswered = []
    live: dict[int, int] = {}
    with caplog.at_level(logging.ERROR):
        async with app:
            for _ in range(int(os.environ.get("DRILL_UPDATES", "3000"))):
                raw = random_update(rng, chats, live)
                chat = (raw.get("message") or raw.get("edited_message")
                        or raw["callback_query"]["message"])["chat"]  # fmt: skip
                before = len(api.calls)
                await app.process_update(Update.de_json(raw, app.bot))
                calls = api.calls[before:]
                if chat["type"] == "private" and not calls:
                    unanswered.append(raw)
                shown = [m.message_id for m in api.chat(chat["id"]) if m.buttons]
                if shown:
                    live[chat["id"]] = shown[-1]
    await store.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[:2000]
    assert unanswered == []
    assert all(len(params.get("text", "")) <= 4096 for _, params in api.calls)


async def test_a_flaky_bot_api_still_gets_every_conversation_finished(tmp_path: Path) -> None:
    """A share of the Bot API's answers are 429 (with retry_after), 502 or refused: the
    retries absorb them and each conversation reaches its result, once."""
    api = FakeBotAPI()
    rng = random.Random(7)
    app, store = make_app(tmp_path, api)
    presses = ["ans:role:independent", "ans:activities:training", "ok:activities",
               "ans:selling:direct", "ans:funders:opco", "ok:funders", "ans:certifying:no",
               "ans:long_courses:yes", "ans:work_based:no", "ans:uses_subcontractors:no",
               "ans:certified:no", "ans:stage:established", "result"]  # fmt: skip
    async with app:
        for chat in range(800, 806):
            await app.process_update(Update.de_json(message_update(chat, "fr", text="/start"),
                                                    app.bot))  # fmt: skip
            for data in presses:
                for endpoint in ("sendMessage", "editMessageText", "answerCallbackQuery"):
                    if rng.random() < 0.15:
                        status = rng.choice([429, 502])
                        body: dict[str, Any] = {"ok": False, "error_code": status,
                                                "description": "flaky"}  # fmt: skip
                        if status == 429:
                            body["parameters"] = {"retry_after": 0}
                        api.fail_next(endpoint, status, **body)
                live = [m for m in api.chat(chat) if m.buttons][-1].message_id
                await app.process_update(
                    Update.de_json(callback_update(chat, data, live), app.bot)
                )
                await settle(app)
                api.failures.clear()
    for chat in range(800, 806):
        record = await store.load(chat)
        assert record.snapshot["state"] == "result", chat
        documents = [m for m in api.chat(chat) if m.document is not None]
        assert len(documents) == 1, "one result, one PDF"
    await store.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: QUALIOPI_TEST_POSTGRES_URL")
async def test_database_away_for_a_few_seconds_people_are_told_to_retry_and_it_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL goes away (connections broken, new ones refused) for 3 seconds while three
    people answer: each tap in that time gets "try again" quickly and changes nothing; the bot
    keeps running; once the server is back, the same taps work without any restart, and every
    person ends with exactly the answers acknowledged."""
    assert POSTGRES_URL is not None
    target = urlsplit(POSTGRES_URL)
    proxy = await TcpProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    reset_postgres(POSTGRES_URL)
    store = PostgresStore(
        urlunsplit(
            target._replace(netloc=f"{target.username}:{target.password}@127.0.0.1:{proxy.port}")
        ),
        pool_timeout=2.0,
    )
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store)
    people = [Person(app, api, chat, "fr") for chat in (801, 802, 803)]
    retry = "Réessayez dans quelques instants"
    try:
        async with app:
            for p in people:
                await p.say("/start")
                await p.press("ans:role:independent")
            await proxy.cut()
            down_at = time.monotonic()
            for p in people:
                started = time.monotonic()
                await p.press("ans:activities:training")
                assert time.monotonic() - started < 5  # told quickly, not left waiting
                toast = api.of("answerCallbackQuery")[-1]
                assert retry in toast.get("text", "")
                await p.say("1")  # a typed answer, while the database is away
                assert retry in p.texts()[-1]
            await asyncio.sleep(max(0.0, 3 - (time.monotonic() - down_at)))
            await proxy.restore()
            for p in people:  # as a person would: try again until it works
                for _ in range(60):
                    await p.press("ans:activities:training")
                    if retry not in api.of("answerCallbackQuery")[-1].get("text", ""):
                        break
                    await asyncio.sleep(0.5)
                await p.press("ok:activities")
            for p in people:
                record = await store.load(p.chat_id)
                assert record.snapshot["answers"] == {
                    "role": "independent", "activities": ["training"]
                }  # fmt: skip
                assert record.snapshot["state"] == "selling"
    finally:
        await store.close()
        await proxy.close()
    assert "storage unavailable" in caplog.text


async def test_sqlite_file_held_by_another_process_people_are_told_to_retry(
    tmp_path: Path,
) -> None:
    """Another process holds the SQLite file (an exclusive lock, as a careless backup would):
    a tap in that time is told to try again once the wait runs out, other chats are not
    corrupted, and the same tap works as soon as the file is free."""
    store = SQLiteStore(tmp_path / "bot.sqlite3", busy_timeout=0.3)
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store)
    retry = "Réessayez dans quelques instants"
    async with app:
        p = Person(app, api, 901, "fr")
        await p.say("/start")
        other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            await p.press("ans:role:independent")
            assert retry in api.of("answerCallbackQuery")[-1].get("text", "")
        finally:
            other.execute("ROLLBACK")
            other.close()
        await p.press("ans:role:independent")
        record = await store.load(901)
        assert record.snapshot["answers"] == {"role": "independent"}
        assert record.snapshot["state"] == "activities"
    await store.close()


def same(stored: dict[str, Any], given: dict[str, Any]) -> bool:
    """The same answers (options of a multi-choice question in any order)."""

    def canonical(answers: dict[str, Any]) -> dict[str, Any]:
        return {k: sorted(v) if isinstance(v, list) else v for k, v in answers.items()}

    return canonical(stored) == canonical(given)


async def test_a_flaky_slow_api_every_conversation_finishes_in_order_with_no_duplicate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Twenty people answer at once while the Bot API is slow (0–40 ms a call), answers one
    call in 250 with 429 (retry_after: 1 s, the whole bot waits), one in 13 with 502, and
    loses one answer in 12 after doing the call (a timeout). Each person acts on what their
    chat shows. Every conversation reaches its result with exactly its answers, one PDF each,
    and no message is ever shown twice."""
    from bench.__main__ import random_answers
    from tests.answers import owes_pdf, presses

    rng = random.Random(5)
    streak: Counter[tuple[str, str]] = Counter()
    lost_sends: list[str] = []  # the chats whose new message lost its answer

    def weather(endpoint: str, params: dict[str, Any]) -> tuple[str, float]:
        if endpoint in ("getMe", "setMyCommands"):
            return "ok", 0.0
        roll = rng.random()
        kind = "429" if roll < 0.004 else "502" if roll < 0.08 else "lost" if roll < 0.16 else "ok"
        if endpoint == "sendMessage" and not lost_sends:
            kind = "lost"  # whatever the rolls, at least one new message loses its answer
        # Transient means transient: a request (a method, in a chat) never fails three times
        # in a row, so that the bounded retries (three) always get through.
        key = (endpoint, str(params.get("chat_id", params.get("callback_query_id"))))
        streak[key] = streak[key] + 1 if kind != "ok" else 0
        if streak[key] > 2:
            kind, streak[key] = "ok", 0
        if kind == "lost" and endpoint == "sendMessage":
            lost_sends.append(key[1])
        return kind, rng.random() * 0.04

    api = FakeBotAPI()
    api.weather = weather
    app, store = make_app(tmp_path, api)
    people = {chat: random_answers(rng) for chat in range(700, 720)}

    async def journey(chat: int, answers: dict[str, Any]) -> None:
        person = Person(app, api, chat, "fr")
        await person.say("/start")
        for data in presses(answers):
            await person.press(data)

    with caplog.at_level(logging.WARNING):
        async with app:
            await asyncio.gather(*(journey(c, a) for c, a in people.items()))
    assert "unhandled error" not in caplog.text
    for chat, answers in people.items():
        record = await store.load(chat)
        assert record.snapshot["state"] == "result", chat
        assert same(record.snapshot["answers"], answers), chat
        shown = api.chat(chat)
        pdfs = len([m for m in shown if m.document is not None])
        assert pdfs == owes_pdf(answers), "one result, one PDF (none for 'not concerned')"
        seen = [(m.text, json.dumps(m.buttons)) for m in shown if m.document is None]
        assert len(seen) == len(set(seen)), f"a message shown twice in chat {chat}"
    assert "unconfirmed (timed out)" in caplog.text  # the drill did lose answers
    await store.close()
