"""Load benchmark: simulated trainers against the real bot process, and against a floor.

``python -m bench.load [--trainers 100 1000] [--database URL]``

A fake Telegram Bot API (tornado, on loopback) answers the bot; the bot runs as the real
``qualiopi-bot run`` process in webhook mode; each simulated trainer posts its updates to the
webhook one after the other (/start, then every answer of a full questionnaire to the result,
each trainer its own random answers),
waiting each time for the bot's reply, and all trainers run at once. The same harness drives a
minimal python-telegram-bot bot that sends one reply per update: the floor.

Reported: updates per second, p50/p99 from posting an update to the bot's reply, the bot's peak
memory, and the memory and database bytes each idle stored conversation costs. Figures only:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
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

import httpx
import tornado.httpserver
import tornado.web

from bench.__main__ import random_answers
from tests.answers import presses
from tests.bot.fakes import TOKEN

SECRET = "bench-secret"
FLOOR_BOT = Path(__file__).with_name("floor_bot.py")


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
        self.ids = itertools.count(1000)
        self.calls = 0

    def answer(self, method: str, params: dict[str, str], has_file: bool) -> Any:
        self.calls += 1
        if method == "getMe":
            return {"id": 999, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
        chat = int(params.get("chat_id", 0) or 0)
        if method not in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            return True
        markup = json.loads(params.get("reply_markup") or "{}")
        keyboard = markup.get("inline_keyboard") or []
        message_id = int(params["message_id"]) if "message_id" in params else next(self.ids)
        data = [b.get("callback_data", "") for row in keyboard for b in row]
        if any(d.startswith(("ans:", "ok:")) for d in data):
            self.live[chat] = message_id
        done = not self.need_keyboard or bool(keyboard) or has_file
        future = self.waiting.get(chat)
        if done and future is not None and not future.done():
            future.set_result(time.perf_counter())
        return {
            "message_id": message_id,
            "date": 1_795_000_000,
            "chat": {"id": chat, "type": "private"},
            "text": params.get("text", ""),
        }


class Handler(tornado.web.RequestHandler):
    def initialize(self, api: FakeApi) -> None:
        self.api = api

    def post(self, method: str) -> None:
        params = {k: v[0].decode() for k, v in self.request.body_arguments.items()}
        if not params and self.request.body.startswith(b"{"):
            params = {k: str(v) for k, v in json.loads(self.request.body).items()}
        result = self.api.answer(method, params, bool(self.request.files))
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"ok": True, "result": result}))

    get = post


def update_for(update_id: int, chat: int, step: str, live: int | None) -> dict[str, Any]:
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
    return {"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": user, "chat_instance": "c", "data": step,
        "message": {"message_id": live, "date": 1_795_000_000,
                    "chat": {"id": chat, "type": "private"}, "text": "…"}}}  # fmt: skip


async def trainer(
    client: httpx.AsyncClient,
    hook: str,
    api: FakeApi,
    *,
    chat: int,
    steps: list[str],
    ids: itertools.count[int],
    latencies: list[float],
) -> None:
    for step in steps:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        api.waiting[chat] = future
        body = update_for(next(ids), chat, step, api.live.get(chat))
        started = time.perf_counter()
        await client.post(hook, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        replied = await asyncio.wait_for(
            future, timeout=float(os.environ.get("BENCH_TIMEOUT", "120"))
        )
        latencies.append(replied - started)


def peak_kib(pid: int) -> tuple[int, int]:
    """Returns (peak RSS, current RSS) of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


async def run_case(
    kind: str, trainers: int, database: str | None, workdir: Path
) -> dict[str, Any]:
    """Runs one load case; returns its figures."""
    api = FakeApi(need_keyboard=kind == "bot")
    api_port, hook_port = free_port(), free_port()
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([(r"/bot[^/]+/(\w+)", Handler, {"api": api})])
    )
    server.listen(api_port, "127.0.0.1")
    hook = f"http://127.0.0.1:{hook_port}/hook"
    db_file = workdir / f"{kind}-{trainers}.sqlite3"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": f"http://127.0.0.1:{api_port}/bot",
        "DATABASE_URL": database or f"sqlite:///{db_file}",
        "WEBHOOK_URL": hook,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(hook_port),
        "LOG_LEVEL": "WARNING",
        # The fake API has no flood limit; Telegram's 30 msg/s would measure only the limiter.
        "TELEGRAM_MAX_MESSAGES_PER_SECOND": "100000",
    }
    command = (
        [sys.executable, "-m", "bot", "run"] if kind == "bot" else [sys.executable, str(FLOOR_BOT)]
    )
    if kind == "bot" and os.environ.get("BENCH_PROFILE"):  # where the bot's main thread goes
        command = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"],
                   "-m", "bot", "run"]  # fmt: skip
    log = (workdir / f"{kind}-{trainers}.log").open("ab")
    process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=log)
    log.close()
    base = trainers * 1_000_000  # chats of one case never meet another case's in a shared DB
    rng = random.Random(2026)  # each trainer answers differently, the same in both runs
    journeys = [["/start", *presses(random_answers(rng))] for _ in range(trainers)]
    latencies: list[float] = []
    try:
        async with httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=200)
        ) as client:
            for _ in range(200):  # wait for the webhook server
                try:
                    await client.get(f"http://127.0.0.1:{hook_port}/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            ids = itertools.count(1)
            _, rss_before = peak_kib(process.pid)
            started = time.perf_counter()
            runs = [
                trainer(client, hook, api, chat=base + n, steps=steps, ids=ids,
                        latencies=latencies)
                for n, steps in enumerate(journeys)
            ]  # fmt: skip
            await asyncio.gather(*runs)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(1.0)  # let the last PDFs go out before reading memory
            peak, rss_after = peak_kib(process.pid)
            idle = {}
            if kind == "bot" and os.environ.get("BENCH_IDLE") != "0":  # idle: /start only
                extra = int(os.environ.get("BENCH_IDLE", "2000"))
                idle_runs = [
                    trainer(client, hook, api, chat=base + 900_000 + n, steps=["/start"], ids=ids,
                            latencies=[])
                    for n in range(extra)
                ]  # fmt: skip
                await asyncio.gather(*idle_runs)
                _, rss_idle = peak_kib(process.pid)
                idle = {
                    "idle_conversations": extra,
                    "kib_per_idle_conversation": round((rss_idle - rss_after) / extra, 2),
                    "db_bytes_per_conversation": round(db_file.stat().st_size / (trainers + extra))
                    if db_file.exists()
                    else None,
                }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        server.stop()
    latencies.sort()
    return {
        "kind": kind,
        "trainers": trainers,
        "updates": len(latencies),
        "updates_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
        **idle,
    }


async def main_async(trainer_counts: list[int], database: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="qualiopi-bench-") as tmp:
        for trainers in trainer_counts:
            ours = await run_case("bot", trainers, database, Path(tmp))
            floor = await run_case("floor", trainers, None, Path(tmp))
            print(json.dumps(ours))
            print(json.dumps(floor))
            print(
                f"{trainers} trainers: {ours['updates_per_s']} updates/s vs floor "
                f"{floor['updates_per_s']} "
                f"(ratio {ours['updates_per_s'] / floor['updates_per_s']:.2f}); "
                f"p99 {ours['p99_ms']} ms vs {floor['p99_ms']} ms "
                f"(ratio {ours['p99_ms'] / floor['p99_ms']:.2f}); p50 {ours['p50_ms']} ms vs "
                f"{floor['p50_ms']} ms; peak RSS {ours['peak_rss_mib']} MiB vs "
                f"{floor['peak_rss_mib']} MiB",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--trainers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--database", help="DATABASE_URL for the bot (default: a SQLite file)")
    args = parser.parse_args()
    asyncio.run(main_async(args.trainers, args.database))


if __name__ == "__main__":
    main()
