"""What a step says is as durable as the step: the outbox, through a real Application and the
fake Bot API (the process-level kill is in test_process.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from bot.storage import StorageError
from bot.storage.db import Db
from tests.answers import INDEPENDENT_OPCO_PRESSES
from tests.bot.fakes import FakeBotAPI, Person, callback_update, message_update
from tests.bot.stores import SQLiteStore
from tests.bot.test_web import SECRET, free_port, running

Ctx = tuple[Any, FakeBotAPI, Any]


async def owed(store: Any, chat_id: int) -> int:
    def work(db: Db) -> int:
        return int(db.execute("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", (chat_id,))
                   .fetchone()[0])  # fmt: skip

    return int(await store._run(work))


def fail_beyond_retries(api: FakeBotAPI, endpoint: str) -> None:
    for _ in range(8):
        api.fail_next(endpoint, 502, ok=False, error_code=502, description="Bad Gateway")


async def test_a_reply_telegram_did_not_take_is_said_before_the_next_tap_and_that_tap_answered(
    bot: Ctx,
) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await p.say("/start")
    question = p.live()
    fail_beyond_retries(api, "editMessageText")
    await p.press("ans:role:independent", question.message_id)
    api.failures.clear()
    assert "prestations" not in p.live().text, "the new question did not reach the person"
    assert (await store.load(42)).snapshot["state"] == "activities", "the step is committed"
    assert await owed(store, 42) == 1, "its screen is owed"

    # The person taps again on the screen they still see: the owed screen comes first, then
    # this tap's own answer (a stale button now: a toast), and its spinner stops.
    calls_before = len(api.calls)
    await p.press("ans:role:independent", question.message_id)
    calls = [name for name, _ in api.calls[calls_before:]]
    assert calls[0] == "editMessageText", "the owed screen first"
    assert "answerCallbackQuery" in calls
    assert "prestations" in p.live().text
    assert await owed(store, 42) == 0
    assert (await store.load(42)).snapshot["answers"] == {"role": "independent"}


async def test_owed_replies_are_said_by_the_job_when_nobody_taps(bot: Ctx) -> None:
    """A reply another worker holds waits for its lease; one nobody holds (its worker died,
    or Telegram did not take it) is said by the job, once."""
    app, api, store = bot
    p = Person(app, api, 43)
    await p.say("/start")
    fail_beyond_retries(api, "editMessageText")
    await p.press("ans:role:independent")
    api.failures.clear()
    held = "UPDATE outbox SET claimed_until = ?"
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat(timespec="seconds")
    await store._run(lambda db: db.execute(held, (future,)))
    handlers = app.qualiopi
    await handlers.say_owed_replies(app)
    assert "prestations" not in p.live().text, "held by a live worker: left to it"
    await store._run(lambda db: db.execute(held, ("2000-01-01T00:00:00+00:00",)))
    await handlers.say_owed_replies(app)
    assert "prestations" in p.live().text
    assert await owed(store, 43) == 0
    await handlers.say_owed_replies(app)
    assert sum("prestations" in m.text for m in api.chat(43)) == 1, "said once"


async def test_a_pdf_whose_recording_fails_is_recorded_again_not_sent_again(
    bot: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, api, store = bot
    p = Person(app, api, 44)
    real = store.pdf_sent
    failures = [StorageError("database restarting")] * 2

    async def flaky(chat_id: int) -> None:
        if failures:
            raise failures.pop()
        await real(chat_id)

    monkeypatch.setattr(store, "pdf_sent", flaky)
    monkeypatch.setattr("bot.telegram.results.RECORD_RETRIES", (0.01, 0.01, 0.01))
    await p.say("/start")
    for data in INDEPENDENT_OPCO_PRESSES:
        await p.press(data)
    assert len(api.of("sendDocument")) == 1
    assert not failures, "the recording failed twice, then held"
    handlers = app.qualiopi
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    handlers.now = lambda: later
    await handlers.resend_owed_pdfs(SimpleNamespace(application=app))
    await handlers.settle()
    assert len(api.of("sendDocument")) == 1, "not sent again"


async def test_the_webhook_answers_only_once_the_step_is_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    gate = asyncio.Event()
    real_step = SQLiteStore.step
    async for base, api, _ in running(
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SECRET,
        webhook_port=port,
    ):
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

        async def slow_step(self: Any, *args: Any, **kwargs: Any) -> Any:
            await gate.wait()
            return await real_step(self, *args, **kwargs)

        monkeypatch.setattr(SQLiteStore, "step", slow_step)
        async with aiohttp.ClientSession() as client:
            start = message_update(621, "fr", text="/start")
            post = asyncio.create_task(
                client.post(f"{base}/telegram", json=start, headers=headers)
            )
            await asyncio.sleep(0.3)
            assert not post.done(), "no 200 before the step is committed"
            gate.set()
            response = await asyncio.wait_for(post, 10)
            assert response.status == 200
            response.release()

            async def down(self: Any, *args: Any, **kwargs: Any) -> Any:
                raise StorageError("database restarting")

            monkeypatch.setattr(SQLiteStore, "step", down)
            tap = callback_update(621, "ans:role:independent", 1, "fr")
            async with client.post(f"{base}/telegram", json=tap, headers=headers) as refused:
                assert refused.status == 503, "not committed: Telegram delivers it again"
            monkeypatch.setattr(SQLiteStore, "step", real_step)
            async with client.post(f"{base}/telegram", json=tap, headers=headers) as again:
                assert again.status == 200
        assert any("Réessayez" in str(p.get("text", "")) for p in api.of("answerCallbackQuery"))


async def test_a_follow_up_that_only_speaks_is_owed_like_any_reply(bot: Ctx) -> None:
    """/supprimer's question is committed with its step: Telegram not taking it leaves it
    owed, and the job says it, with its buttons, once."""
    app, api, store = bot
    p = Person(app, api, 45)
    await p.say("/start")
    fail_beyond_retries(api, "sendMessage")
    await p.say("/supprimer")
    api.failures.clear()
    assert await owed(store, 45) == 1, "the question is owed"
    assert not any("del:yes" in m.data() for m in api.chat(45))
    await app.qualiopi.say_owed_replies(app)
    asked = [m for m in api.chat(45) if "del:yes" in m.data()]
    assert len(asked) == 1
    assert "del:no" in asked[0].data()
    assert await owed(store, 45) == 0
    await p.press("del:no", asked[0].message_id)
    assert (await store.load(45)).snapshot is not None, "nothing erased on no"
