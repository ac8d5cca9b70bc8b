"""Fairness figures, in-process (a real Application on SQLite, a fake Bot API answering each
call after 20 ms; figures only, nothing asserted).

``python -m bench.storm``

1. A storm of 429s: 30 people each answer a whole questionnaire at once while 5 % of the Bot
   API's answers are 429 with ``retry_after`` 1 s. Reported: the time each person took to reach
   the result (median, p90, last), with python-telegram-bot's ``AIORateLimiter`` (a 429 pauses
   every request of the bot) and with the bot's own limiter (a 429 pauses its chat only).
2. One chat held back: its message is answered 429 with ``retry_after`` 3 s; meanwhile another
   person taps on; reported: that person's time per tap, with either limiter.
3. A burst from one chat: one chat sends 40 messages at once while another person answers the
   questionnaire; reported: the other person's time per tap, with and without the burst.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter, BaseRateLimiter

from bench.__main__ import random_answers
from bot import metrics
from bot.telegram import RetryingRateLimiter, build_application
from tests.answers import INDEPENDENT_OPCO_PRESSES, presses
from tests.bot.fakes import FakeBotAPI, Person, settings
from tests.bot.stores import SQLiteStore

CALL_SECONDS = 0.02
"""How long the fake Bot API takes to answer a call (a round trip to Telegram, roughly)."""


def api_with(storm_share: float, rng: random.Random) -> FakeBotAPI:
    """A fake Bot API answering ``storm_share`` of the calls 429 (retry after 1 s); like
    Telegram, a chat answered 429 keeps getting 429 until its second is over."""
    api = FakeBotAPI()
    blocked: dict[str, float] = {}

    def weather(endpoint: str, params: dict[str, Any]) -> tuple[str, float]:
        if endpoint in ("getMe", "setMyCommands"):
            return "ok", 0.0
        key = str(params.get("chat_id", "bot"))
        now = time.monotonic()
        if now < blocked.get(key, 0.0):
            return "429", CALL_SECONDS
        if rng.random() < storm_share:
            blocked[key] = now + 1.0
            return "429", CALL_SECONDS
        return "ok", CALL_SECONDS

    api.weather = weather
    return api


async def journeys(limiter: BaseRateLimiter[Any], people: int, storm_share: float) -> list[float]:
    """Seconds each person took from /start to the result, everyone at once."""
    rng = random.Random(2026)
    plans = [presses(random_answers(rng)) for _ in range(people)]
    with tempfile.TemporaryDirectory() as folder:
        api = api_with(storm_share, random.Random(1))
        store = SQLiteStore(Path(folder) / "bot.sqlite3")
        app = build_application(
            settings(Path(folder), max_messages_per_second=30),
            store,
            request=api,
            updates_request=api,
            rate_limiter=limiter,
        )
        taken: list[float] = []

        async def journey(chat: int, plan: list[str]) -> None:
            person = Person(app, api, chat)
            start = time.perf_counter()
            await person.say("/start")
            for data in plan:
                await person.press(data)
            taken.append(time.perf_counter() - start)

        async with app:
            await asyncio.gather(*(journey(1000 + n, p) for n, p in enumerate(plans)))
        await store.close()
    return sorted(taken)


async def other_person_while_one_chat_waits(limiter: BaseRateLimiter[Any]) -> list[float]:
    """Seconds per tap of one person while another chat waits out a 429 of 3 s."""
    rng = random.Random(11)
    answers = INDEPENDENT_OPCO_PRESSES[:8]
    with tempfile.TemporaryDirectory() as folder:
        api = api_with(0.0, rng)
        store = SQLiteStore(Path(folder) / "bot.sqlite3")
        app = build_application(
            settings(Path(folder)), store, request=api, updates_request=api, rate_limiter=limiter
        )
        taps: list[float] = []
        async with app:
            held, calm = Person(app, api, 1), Person(app, api, 2)
            await calm.say("/start")
            await held.say("/start")
            api.flood_next("editMessageText", 3)

            async def answer() -> None:
                await asyncio.sleep(0.05)
                for data in answers:
                    start = time.perf_counter()
                    await calm.press(data)
                    taps.append(time.perf_counter() - start)

            await asyncio.gather(held.press("ans:role:independent"), answer())
        await store.close()
    return sorted(taps)


async def other_person_during_a_burst(burst: int) -> list[float]:
    """Seconds per tap of one person while another chat sends ``burst`` messages at once."""
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        api = api_with(0.0, rng)
        store = SQLiteStore(Path(folder) / "bot.sqlite3")
        app = build_application(
            settings(Path(folder)),
            store,
            request=api,
            updates_request=api,
            rate_limiter=RetryingRateLimiter(overall_max_rate=1000),
        )
        taps: list[float] = []
        async with app:
            noisy, calm = Person(app, api, 1), Person(app, api, 2)
            await calm.say("/start")

            async def burst_of_messages() -> None:
                await asyncio.gather(*(noisy.say(f"bonjour {n}") for n in range(burst)))

            async def answer() -> None:
                await asyncio.sleep(0.01)
                for data in presses(random_answers(rng)):
                    start = time.perf_counter()
                    await calm.press(data)
                    taps.append(time.perf_counter() - start)

            await asyncio.gather(burst_of_messages(), answer())
        await store.close()
    return sorted(taps)


def errors() -> float:
    """Updates that ended in an error so far (the person was told to try again)."""
    return float(metrics.ERRORS._value.get())


def line(label: str, values: list[float], failed: float = 0.0) -> None:
    p90 = values[int(len(values) * 0.9)]
    print(
        f"{label:<58} median {statistics.median(values):6.2f} s   p90 {p90:6.2f} s   "
        f"max {values[-1]:6.2f} s   (n={len(values)}, {failed:.0f} failed taps)"
    )


async def storm_line(label: str, limiter: BaseRateLimiter[Any], share: float) -> None:
    before = errors()
    taken = await journeys(limiter, 30, share)
    line(label, taken, errors() - before)


async def main_async() -> None:
    print("429 storm: 30 people at once, 5 % of calls answered 429 (retry_after 1 s)")
    await storm_line("  python-telegram-bot's AIORateLimiter (pauses the bot)",
                     AIORateLimiter(overall_max_rate=30, max_retries=5), 0.05)  # fmt: skip
    await storm_line("  the bot's limiter (pauses the chat)",
                     RetryingRateLimiter(overall_max_rate=30, max_retries=5), 0.05)  # fmt: skip
    await storm_line("  no 429 at all (for reference)",
                     RetryingRateLimiter(overall_max_rate=30, max_retries=5), 0.0)  # fmt: skip
    print("another person's taps while one chat waits out a 429 (retry_after 3 s)")
    line("  python-telegram-bot's AIORateLimiter", await other_person_while_one_chat_waits(
        AIORateLimiter(overall_max_rate=30, max_retries=5)))  # fmt: skip
    line("  the bot's limiter", await other_person_while_one_chat_waits(
        RetryingRateLimiter(overall_max_rate=30, max_retries=5)))  # fmt: skip
    print("another person's taps while one chat sends 40 messages at once")
    line("  without the burst", await other_person_during_a_burst(0))
    line("  during the burst", await other_person_during_a_burst(40))


if __name__ == "__main__":
    import logging

    logging.disable(logging.ERROR)  # the failed taps are counted, not printed
    asyncio.run(main_async())
