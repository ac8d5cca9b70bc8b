"""Load benchmark: simulated trainers against the real bot process, and against floors.

``python -m bench.load [--trainers 100 1000] [--database URL] [--floors [floor floor-raw …]]``

A fake Telegram Bot API (aiohttp, on loopback) answers the bot; the bot runs as the real
``qualiopi-bot run`` process in webhook mode; each simulated trainer posts its updates to the
webhook one after the other (/start, then every answer of a full questionnaire to the result,
each trainer its own random answers), waiting each time for the bot's reply, and all trainers
run at once. The same harness drives the floors, which do per update the least a button bot
does (a message gets a message with a button; a press is answered and its message edited, the
button kept; each press arrives with its message and keyboard, as Telegram sends it): a
minimal python-telegram-bot bot with its defaults, the same on the bot's own transport, the
same with one committed SQLite step, and the same job in plain aiohttp (``floor-raw``).

Reported: updates per second, p50/p99 from posting an update to the bot's reply, the bot's CPU
per update and the share of a core it and the harness used (and PostgreSQL's server, when it
runs here), the delay from a finished questionnaire to its PDF, peak memory, and the memory
each idle stored conversation adds (``BENCH_IDLE``: batch size, 0 to skip).
``BENCH_BUDGET=30`` runs with the bot's default budget of messages per second instead of none.
``BENCH_PACE=2 BENCH_THINK=1`` paces the run: two people arriving a second, each tapping a
second after each reply (about 20 updates and 2 results a second), instead of everybody at
once. ``BENCH_PROFILE=out.txt`` samples the bot with py-spy (``pip install py-spy``; collapsed
stacks). Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.__main__ import random_answers
from bench.proc import cpu_now, peak_kib
from bot.telegram.ratelimit import COUNTED
from tests.answers import presses
from tests.bot.fakes import TOKEN

SECRET = "bench-secret"
FLOOR_BOT = Path(__file__).with_name("floor_bot.py")
RAW_FLOOR = Path(__file__).with_name("raw_floor.py")


def request_figures(methods: collections.Counter[str], finished: int) -> dict[str, Any]:
    """Bot API requests per finished questionnaire (the PDF and offer after it included), by
    method, and how many questionnaires one token serves an hour at 30 requests a second:
    counting every request, every request but the button answers, and only what the flood
    limit counts (sends, as the bot's limiter counts them)."""
    if not finished:
        return {}
    per = {m: round(n / finished, 2) for m, n in sorted(methods.items())}
    every = sum(methods.values()) / finished
    replies = every - methods["answerCallbackQuery"] / finished
    sends = sum(n for m, n in methods.items() if m.startswith(COUNTED)) / finished
    return {
        "requests_per_questionnaire": round(every, 2),
        "requests_by_method": per,
        "questionnaires_per_hour_30rps": round(30 * 3600 / every) if every else None,
        "questionnaires_per_hour_30rps_no_answers": (
            round(30 * 3600 / replies) if replies else None
        ),
        "questionnaires_per_hour_30_sends": round(30 * 3600 / sends) if sends else None,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeApi:
    """Just enough Bot API for the bot and the floor, and a future per chat for its reply."""

    def __init__(self, need_keyboard: bool) -> None:
        self.need_keyboard = need_keyboard
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.live: dict[int, int] = {}
        self.shown: dict[int, tuple[str, Any]] = {}  # chat → the live message's text, keyboard
        self.ids = itertools.count(1000)
        self.calls = 0
        self.methods: collections.Counter[str] = collections.Counter()  # requests naming a chat
        self.finished: dict[int, float] = {}  # chat → when its last step was answered
        self.pdf_lag: list[float] = []  # seconds from a finished questionnaire to its PDF
        self.last_pdf = 0.0  # when the last PDF came

    def answer(self, method: str, params: dict[str, Any], has_file: bool) -> Any:
        self.calls += 1
        if method == "getMe":
            return {"id": 999, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
        if method == "getWebhookInfo":  # the bot's gauges ask for it every 30 s
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        chat = int(params.get("chat_id", 0) or 0)
        if chat or "callback_query_id" in params:
            self.methods[method] += 1
        if method not in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            return True
        markup = params.get("reply_markup") or {}
        markup = json.loads(markup) if isinstance(markup, str) else markup
        keyboard = markup.get("inline_keyboard") or []
        message_id = int(params["message_id"]) if "message_id" in params else next(self.ids)
        data = [b.get("callback_data", "") for row in keyboard for b in row]
        if any(d.startswith(("ans:", "ok:", "cfm:")) for d in data):
            self.live[chat] = message_id
            self.shown[chat] = (params.get("text", ""), markup)
        done = not self.need_keyboard or bool(keyboard) or has_file
        if method == "sendDocument" and chat in self.finished:
            self.pdf_lag.append(time.perf_counter() - self.finished.pop(chat))
            self.last_pdf = time.perf_counter()
        future = self.waiting.get(chat)
        if done and future is not None and not future.done():
            future.set_result(time.perf_counter())
        return {
            "message_id": message_id,
            "date": 1_795_000_000,
            "chat": {"id": chat, "type": "private"},
            "text": params.get("text", ""),
        }


def api_app(api: FakeApi) -> web.Application:
    """The fake Bot API's routes: every method, form-encoded, JSON or multipart."""

    async def handle(request: web.Request) -> web.Response:
        has_file = False
        params: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                assert isinstance(part, aiohttp.BodyPartReader)
                if part.filename:
                    has_file = True
                    await part.read()
                elif part.name:
                    params[part.name] = await part.text()
        elif request.content_type == "application/json":
            # as a form would give them, but a keyboard stays the object it was sent as
            params = {
                k: v if isinstance(v, dict | list) else str(v)
                for k, v in (await request.json()).items()
            }
        else:
            params = {k: str(v) for k, v in (await request.post()).items()}
        result = api.answer(request.match_info["method"], params, has_file)
        return web.json_response({"ok": True, "result": result})

    app = web.Application(client_max_size=50 * 1024 * 1024)
    app.router.add_route("*", r"/bot{token}/{method}", handle)
    return app


def update_for(
    update_id: int, chat: int, step: str, live: int | None, shown: tuple[str, Any] | None = None
) -> dict[str, Any]:
    """The update Telegram sends for a step: a command or text, or a button press whose
    message carries its text and keyboard, as Telegram's does."""
    user = {"id": chat, "is_bot": False, "first_name": "T", "language_code": "fr"}
    if step.startswith("/") or live is None:
        text = step if step.startswith("/") else "1"
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text)}]
            if text.startswith("/")
            else []
        )
        message = {
            "message_id": update_id,
            "date": 1_795_000_000,
            "from": user,
            "chat": {"id": chat, "type": "private"},
            "text": text,
            "entities": entities,
        }
        return {"update_id": update_id, "message": message}  # fmt: skip
    text, markup = shown or ("…", None)
    pressed = {"message_id": live, "date": 1_795_000_000,
               "chat": {"id": chat, "type": "private"}, "text": text,
               **({"reply_markup": markup} if markup else {})}  # fmt: skip
    return {"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": user, "chat_instance": "c", "data": step,
        "message": pressed}}  # fmt: skip


async def trainer(
    client: aiohttp.ClientSession,
    hook: str,
    api: FakeApi,
    *,
    chat: int,
    steps: list[str],
    ids: itertools.count[int],
    latencies: list[float],
    delay: float = 0.0,
    think: float = 0.0,
    firsts: list[float] | None = None,
) -> None:
    await asyncio.sleep(delay)
    for index, step in enumerate(steps):
        if index and think:
            await asyncio.sleep(think)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        api.waiting[chat] = future
        body = update_for(next(ids), chat, step, api.live.get(chat), api.shown.get(chat))
        started = time.perf_counter()
        async with client.post(
            hook, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        ) as response:
            reply = await response.read()
        if reply:  # a method in the webhook's response: Telegram carries it out
            method = json.loads(reply)
            api.answer(method.pop("method"), {k: str(v) for k, v in method.items()}, False)
        replied = await asyncio.wait_for(
            future, timeout=float(os.environ.get("BENCH_TIMEOUT", "120"))
        )
        latencies.append(replied - started)
        if index == 0 and firsts is not None:  # the first screen: /start to question 1
            firsts.append(replied - started)
    if steps[-1] == "result":
        api.finished[chat] = time.perf_counter()


def percentiles(prefix: str, seconds: list[float]) -> dict[str, float]:
    """The median and 99th percentile of some latencies, in milliseconds."""
    ordered = sorted(seconds)
    return {
        f"{prefix}p50_ms": round(statistics.median(ordered) * 1000, 1),
        f"{prefix}p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, 1),
    }


async def start_profiler(pid: int, out: str) -> subprocess.Popen[bytes]:
    """Samples the bot's stacks with py-spy (collapsed format) until sent SIGINT."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--format", "raw", "--rate", "250", "--nonblocking",
               "-o", out, "--pid", str(pid)]  # fmt: skip
    process = subprocess.Popen(command)
    await asyncio.sleep(1.0)  # py-spy attaches
    return process


def pdf_figures(lags: list[float]) -> dict[str, Any]:
    """The delay from a finished questionnaire to its PDF (the bot sends it in the background)."""
    if not lags:
        return {}
    lags = sorted(lags)
    return {
        "pdfs": len(lags),
        "pdf_lag_p50_ms": round(statistics.median(lags) * 1000, 1),
        "pdf_lag_p99_ms": round(lags[max(0, int(len(lags) * 0.99) - 1)] * 1000, 1),
    }


def environment(kind: str, api_port: int, hook_port: int, database: str) -> dict[str, str]:
    """The environment of the bot (or the floor) under test."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": f"http://127.0.0.1:{api_port}/bot",
        "DATABASE_URL": database,
        "WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(hook_port),
        "LOG_LEVEL": "WARNING",
        # The fake API has no flood limit: off by default (the bot's own CPU), or the budget a
        # real token lives with (BENCH_BUDGET=30: what people wait for).
        "TELEGRAM_MAX_MESSAGES_PER_SECOND": os.environ.get("BENCH_BUDGET") or "100000",
        "FLOOR_TRANSPORT": "aiohttp" if kind in ("floor-aiohttp", "floor-state") else "",
        "FLOOR_STATE": "1" if kind == "floor-state" else "",
    }


async def wait_for_webhook(client: aiohttp.ClientSession, hook_port: int) -> None:
    for _ in range(400):
        try:
            async with client.get(f"http://127.0.0.1:{hook_port}/"):
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the webhook server did not start")


def stop(process: subprocess.Popen[bytes], spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


async def idle_series(
    client: aiohttp.ClientSession, hook: str, api: FakeApi, pid: int, base: int
) -> dict[str, Any]:
    """Adds idle conversations (/start only) in batches; RSS after each batch.

    Flat memory means the RSS stops growing with the number of stored conversations: the
    slope over the later batches (KiB per conversation) is the figure to read.
    """
    batch, batches = int(os.environ.get("BENCH_IDLE", "2000")), 6
    ids = itertools.count(10_000_000)
    series = []
    for index in range(batches):
        runs = [
            trainer(client, hook, api, chat=base + 900_000 + index * batch + n,
                    steps=["/start"], ids=ids, latencies=[])
            for n in range(batch)
        ]  # fmt: skip
        await asyncio.gather(*runs)
        series.append(peak_kib(pid)[1])
    half = batches // 2
    slope = (series[-1] - series[half - 1]) / (batch * (batches - half))
    return {
        "idle_batch": batch,
        "idle_rss_mib": [round(kib / 1024, 1) for kib in series],
        "kib_per_idle_conversation": round(slope, 3),
    }


def command_for(kind: str) -> list[str]:
    """The process under test: the bot, a python-telegram-bot floor, or the plain one."""
    if kind == "bot":
        return [sys.executable, "-m", "bot", "run"]
    return [sys.executable, str(RAW_FLOOR if kind == "floor-raw" else FLOOR_BOT)]


async def run_case(
    kind: str, trainers: int, database: str | None, workdir: Path
) -> dict[str, Any]:
    """Runs one load case; returns its figures."""
    api = FakeApi(need_keyboard=kind == "bot")
    api_port, hook_port = free_port(), free_port()
    runner = web.AppRunner(api_app(api), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    hook = f"http://127.0.0.1:{hook_port}/hook"
    db_file = workdir / f"{kind}-{trainers}.sqlite3"
    env = environment(kind, api_port, hook_port, database or f"sqlite:///{db_file}")
    command = command_for(kind)
    with (workdir / f"{kind}-{trainers}.log").open("ab") as log:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=log)
    spy = None
    # Chats never met before, even in a PostgreSQL database kept between runs (a chat that
    # had already handled these update ids would rightly ignore them as redeliveries).
    base = random.SystemRandom().randrange(1, 2**32) * 10_000_000
    rng = random.Random(2026)  # each trainer answers differently, the same in both runs
    journeys = [["/start", *presses(random_answers(rng))] for _ in range(trainers)]
    latencies: list[float] = []
    firsts: list[float] = []
    figures: dict[str, Any] = {"kind": kind, "trainers": trainers}
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200), timeout=aiohttp.ClientTimeout(total=60)
        ) as client:
            await wait_for_webhook(client, hook_port)
            if kind == "bot" and os.environ.get("BENCH_PROFILE"):
                spy = await start_profiler(process.pid, os.environ["BENCH_PROFILE"])
            ids = itertools.count(1)
            _, rss_before = peak_kib(process.pid)
            cpu_before = cpu_now(process.pid)
            started = time.perf_counter()
            pace = float(os.environ.get("BENCH_PACE") or 0)  # people arriving per second
            think = float(os.environ.get("BENCH_THINK") or 0)  # seconds between taps
            runs = [
                trainer(client, hook, api, chat=base + n, steps=steps, ids=ids,
                        latencies=latencies, delay=n / pace if pace else 0.0, think=think,
                        firsts=firsts)
                for n, steps in enumerate(journeys)
            ]  # fmt: skip
            await asyncio.gather(*runs)
            elapsed = time.perf_counter() - started
            cpu_after = cpu_now(process.pid)
            cpu, harness_cpu, server_cpu = (
                b - a for a, b in zip(cpu_before, cpu_after, strict=False)
            )
            # The last PDFs, sent in the background; a result that concerns no indicator has
            # none, so the wait ends when no PDF came for 15 s.
            for _ in range(1200 if kind == "bot" else 0):
                quiet = time.perf_counter() - max(api.last_pdf, started) > 15
                if not api.finished or quiet:
                    break
                await asyncio.sleep(0.25)
            peak, rss_after = peak_kib(process.pid)
            figures |= {
                "updates": len(latencies),
                "updates_per_s": round(len(latencies) / elapsed, 1),
                **percentiles("", latencies),
                **percentiles("first_screen_", firsts),  # /start to question 1
                "cpu_ms_per_update": round(cpu * 1000 / len(latencies), 2),
                # PostgreSQL's processes, when the bot's database is on this machine
                "server_cpu_ms_per_update": round(server_cpu * 1000 / len(latencies), 2),
                "cpu_busy": round(cpu / elapsed, 2),
                "harness_busy": round(harness_cpu / elapsed, 2),
                **pdf_figures(api.pdf_lag),
                **request_figures(api.methods, trainers if kind == "bot" else 0),
                "peak_rss_mib": round(peak / 1024, 1),
                "rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
            }
            if kind == "bot" and os.environ.get("BENCH_IDLE") != "0":
                figures |= await idle_series(client, hook, api, process.pid, base)
                if db_file.exists():
                    conversations = trainers + figures["idle_batch"] * 6
                    figures["db_bytes_per_conversation"] = round(
                        db_file.stat().st_size / conversations
                    )
    finally:
        stop(process, spy)
        await runner.cleanup()
    return figures


FLOORS = {
    "floor": "python-telegram-bot defaults",
    "floor-aiohttp": "the bot's transport",
    "floor-state": "the bot's transport, with one committed SQLite step per update",
    "floor-raw": "plain aiohttp, no bot library (Python's floor, for context)",
}


async def main_async(trainer_counts: list[int], database: str | None, floors: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="qualiopi-bench-") as tmp:
        for trainers in trainer_counts:
            ours = await run_case("bot", trainers, database, Path(tmp))
            print(json.dumps(ours), flush=True)
            for kind, label in FLOORS.items():
                if kind not in floors:
                    continue
                floor = await run_case(kind, trainers, None, Path(tmp))
                print(json.dumps(floor))
                print(
                    f"{trainers} trainers, floor on {label}: {ours['updates_per_s']} updates/s "
                    f"vs {floor['updates_per_s']} "
                    f"(ratio {ours['updates_per_s'] / floor['updates_per_s']:.2f}); "
                    f"p99 {ours['p99_ms']} ms vs {floor['p99_ms']} ms "
                    f"(ratio {ours['p99_ms'] / floor['p99_ms']:.2f}); p50 {ours['p50_ms']} ms "
                    f"vs {floor['p50_ms']} ms; CPU {ours['cpu_ms_per_update']} vs "
                    f"{floor['cpu_ms_per_update']} ms per update (floor's / ours: "
                    f"{floor['cpu_ms_per_update'] / ours['cpu_ms_per_update']:.2f}); "
                    f"peak RSS {ours['peak_rss_mib']} MiB vs {floor['peak_rss_mib']} MiB",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--trainers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--database", help="DATABASE_URL for the bot (default: a SQLite file)")
    parser.add_argument(
        "--floors", nargs="*", default=list(FLOORS), choices=list(FLOORS),
        help="the floors to run too (none: only the bot)",
    )  # fmt: skip
    args = parser.parse_args()
    asyncio.run(main_async(args.trainers, args.database, args.floors))


if __name__ == "__main__":
    main()
