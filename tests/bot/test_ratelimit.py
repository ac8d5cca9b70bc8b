"""The rate limiter's lanes: with the overall budget spent, what answers a tap goes before
background sends (PDF uploads, offers, reminders, alerts), and background work still goes."""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram.ratelimit import BACKGROUND_PATIENCE, RetryingRateLimiter, background


async def _send(limiter: RetryingRateLimiter, chat: int, done: list[str], name: str) -> None:
    async def call() -> None:
        done.append(name)

    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)


async def test_taps_go_before_background_sends_once_the_budget_is_spent() -> None:
    limiter = RetryingRateLimiter(overall_max_rate=5)
    done: list[str] = []
    with background():  # five uploads queued first…
        uploads = [
            asyncio.create_task(_send(limiter, 100 + n, done, f"upload{n}")) for n in range(5)
        ]
    await asyncio.sleep(0)
    taps = [asyncio.create_task(_send(limiter, n, done, f"tap{n}")) for n in range(5)]
    await asyncio.gather(*uploads, *taps)
    first_taps = done.index("tap4")
    assert first_taps < 7, f"the taps waited behind the uploads: {done}"
    assert sorted(done) == sorted(
        [*(f"upload{n}" for n in range(5)), *(f"tap{n}" for n in range(5))]
    )


@pytest.mark.slow
async def test_background_work_is_never_starved() -> None:
    limiter = RetryingRateLimiter(overall_max_rate=2)
    done: list[str] = []
    loop = asyncio.get_running_loop()
    stop = loop.time() + BACKGROUND_PATIENCE + 6

    async def taps_without_end() -> None:
        n = 0
        while loop.time() < stop:
            await _send(limiter, n % 50, done, "tap")
            n += 1

    tappers = [asyncio.create_task(taps_without_end()) for _ in range(4)]
    await asyncio.sleep(0.05)
    with background():
        started = loop.time()
        await _send(limiter, 999, done, "upload")
        waited = loop.time() - started
    await asyncio.gather(*tappers)
    assert waited < BACKGROUND_PATIENCE + 4
    assert "tap" in done[done.index("upload") + 1 :], "it went out while the taps still came"


async def test_the_budget_counts_messages_sent_not_edits_of_a_tapped_screen() -> None:
    limiter = RetryingRateLimiter(overall_max_rate=1)

    async def call() -> None:
        return None

    loop = asyncio.get_running_loop()
    started = loop.time()
    for endpoint in ("editMessageText", "editMessageReplyMarkup") * 3:
        await limiter.process_request(call, (), {}, endpoint, {"chat_id": 5}, None)
    assert loop.time() - started < 0.5, "six edits at once: none waited for the budget"
    started = loop.time()
    for _ in range(3):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert loop.time() - started >= 1.5, "three messages at one a second"
