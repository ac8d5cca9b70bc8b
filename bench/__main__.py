"""``make bench``: speed and memory figures, in-process (never assertions).

1. ``evaluate``: median and p99 over a large contract-valid sample, for the rules alone,
   validation plus rules, and the whole command's work without I/O (report, JSON).
2. One flow step as the bot does it: load the stored snapshot (JSON) → trigger → save it, over
   the steps of many random conversations; and the memory a stored snapshot takes.
3. One ``chk:`` tap of the self-assessment: the decision alone (pure), the decision and the
   next screen, and the whole tap through a real Application on SQLite (fake Bot API, no
   network): update → decide → commit → edit the message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from transitions import Machine

from bot.render.report import build_report
from flows.advice import evaluate
from flows.contract import QUESTION_LIST, QUESTIONS, Kind
from flows.flow import MULTI, REVIEW, STATES, new_snapshot, step, transition_table
from flows.path import is_asked, offered_options, validate


def random_answers(rng: random.Random) -> dict[str, Any]:
    """Draws one contract-valid answers object, as an integration would send it."""
    answers: dict[str, Any] = {}
    canonical: dict[str, Any] = {}
    for q in QUESTION_LIST:
        if not is_asked(q.id, canonical):
            continue
        offered = offered_options(q.id, canonical)
        if q.kind is Kind.SINGLE:
            value: Any = rng.choice(offered)
            canonical[q.id] = value
        else:
            ordinary = [o for o in offered if o != q.exclusive]
            if q.exclusive is not None and rng.random() < 0.1:
                value = [q.exclusive]
            else:
                value = rng.sample(ordinary, rng.randint(1, len(ordinary)))
            canonical[q.id] = tuple(o for o in q.options if o in value)
        answers[q.id] = value
    return answers


def measure(label: str, fn: Callable[[Any], object], inputs: list[Any]) -> None:
    """Times ``fn`` once per input (after a warm-up pass) and prints median and p99."""
    for item in inputs[:500]:
        fn(item)
    gc.collect()
    gc.disable()
    times = []
    clock = time.perf_counter_ns
    for item in inputs:
        start = clock()
        fn(item)
        times.append(clock() - start)
    gc.enable()
    times.sort()
    median = statistics.median(times) / 1000
    p99 = times[int(len(times) * 0.99)] / 1000
    print(f"{label:<44} median {median:8.1f} µs   p99 {p99:8.1f} µs   (n={len(times)})")


def main() -> None:
    """Runs the benchmark and prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    raws = [random_answers(rng) for _ in range(args.samples)]
    day = dt.date(2026, 11, 26)
    validated = [validate(r) for r in raws]
    distinct = len({json.dumps(r, sort_keys=True) for r in raws})
    print(f"evaluate benchmark: {len(raws)} contract-valid answers objects ({distinct} distinct)")
    measure("rules: evaluate(validated answers)", lambda a: evaluate(a, day), validated)
    measure("validate + evaluate", lambda r: evaluate(validate(r), day), raws)
    measure(
        "evaluate command work (+ report fr + JSON)",
        lambda r: json.dumps(build_report(evaluate(validate(r), day), "fr"), ensure_ascii=False),
        raws,
    )
    bench_flow(rng, conversations=max(200, args.samples // 10))
    bench_journeys(rng, people=max(50, args.samples // 200))
    bench_assessment(rng, people=max(50, args.samples // 200))
    bench_dossier(rng)
    bench_pdf(rng)
    bench_first_pdf()


FIRST_PDF = """
import asyncio, datetime as dt, random, sys, time
from bench.__main__ import _at_result
from bot.render import workers
from bot.render.documents import Checklist

async def main():
    order = Checklist.of(_at_result(random.Random(1)), dt.date(2026, 12, 6))
    if sys.argv[1] == "started":
        workers.start()
    await asyncio.sleep(3)  # the person answering
    start = time.perf_counter()
    await workers.render_pdf(order)
    print(time.perf_counter() - start)

if __name__ == "__main__":
    asyncio.run(main())
"""


def bench_first_pdf(runs: int = 2) -> None:
    """How long the first result after a start waits for its PDF (wall time, a fresh process
    each run, 3 s after the start): with the first worker started with the bot, as it is, and
    started by that first PDF, as it was."""
    import subprocess
    import tempfile
    from pathlib import Path

    seconds: dict[str, list[float]] = {"started": [], "lazy": []}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "first_pdf.py"  # spawned workers import the main module
        script.write_text(FIRST_PDF)
        for _ in range(runs):
            for way, waits in seconds.items():
                done = subprocess.run(
                    [sys.executable, str(script), way],
                    capture_output=True,
                    text=True,
                    check=True,
                    env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                )
                waits.append(float(done.stdout.split()[-1]))
    started, lazy = (statistics.median(seconds[w]) * 1000 for w in ("started", "lazy"))
    label = "first PDF after a start, worker ahead"
    print(f"{label:<44} median {started:8.1f} ms of wait   ({lazy:.1f} started by it; n={runs})")


def bench_pdf(rng: random.Random, runs: int = 15) -> None:
    """The CPU of laying out a checklist PDF (what a PDF worker process spends on one): the
    widest (33 indicators, both languages) and a random person's on the certification path."""
    from bot.render.pdf import build_pdf
    from bot.render.screens import answers_view
    from flows.contract import canonical

    widest = {"role": "organisation",
              "activities": ["training", "skills_assessment", "vae", "apprenticeship"],
              "selling": "direct", "funders": ["opco", "cpf"], "certifying": "yes",
              "long_courses": "yes", "work_based": "alternance", "uses_subcontractors": "yes",
              "certified": "yes", "audit_cycle": "surveillance_window", "scope": "covers_all",
              "sites": "several"}  # fmt: skip
    day = dt.date(2026, 11, 27)

    def cpu(answers: dict[str, Any], lang: str) -> float:
        ev = evaluate(canonical(answers), day)
        build_pdf(build_report(ev, lang), answers_view(answers, lang), ev.date, None)  # warm
        times = []
        for _ in range(runs):
            start = time.process_time()
            build_pdf(build_report(ev, lang), answers_view(answers, lang), ev.date, None)
            times.append(time.process_time() - start)
        return statistics.median(times) * 1000

    typical = _at_result(rng)["answers"]
    cases = [
        ("widest checklist PDF, fr", widest, "fr"),
        ("widest checklist PDF, en", widest, "en"),
        ("a random certification-path PDF, fr", typical, "fr"),
    ]
    for label, answers, lang in cases:
        print(f"{label:<44} median {cpu(answers, lang):8.1f} ms of CPU   (n={runs})")


def bench_dossier(rng: random.Random, files: int = 30, runs: int = 15) -> None:
    """Times a dossier de preuves of ``files`` pieces (photos of 250 KB and PDFs of 80 KB,
    random bytes: nothing for the ZIP to squeeze), index PDF and ZIP, as the bot builds it."""
    from bot.render.dossier import dossier_zips
    from bot.render.screens import evaluation_of
    from bot.storage import Evidence

    snapshot = _at_result(rng)
    while len(evaluation_of(snapshot).indicators) < 20:
        snapshot = _at_result(rng)
    order = evaluation_of(snapshot).indicators
    pieces = []
    for n in range(1, files + 1):
        photo = n % 2 == 0
        size = 250_000 if photo else 80_000
        name = f"photo-{n}.jpg" if photo else f"Émargement session {n}.pdf"
        kind = "photo" if photo else "document"
        mime = "image/jpeg" if photo else "application/pdf"
        evidence = Evidence(n, order[n % len(order)], kind, name, "", mime, size, "2026-12-04")
        pieces.append((evidence, rng.randbytes(size)))
    statuses = {n: rng.choice(("done", "partial", "todo")) for n in order}
    day = dt.date(2026, 12, 4)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        parts = dossier_zips(snapshot, statuses, pieces, day)
        times.append(time.perf_counter() - start)
    total = sum(len(p) for p in parts)
    print(
        f"dossier de preuves: {files} files, {len(order)} indicators, ZIP {total / 1e6:.1f} MB"
        f" in {len(parts)} part(s): median {statistics.median(times) * 1000:.0f} ms,"
        f" max {max(times) * 1000:.0f} ms (n={runs})"
    )


def conversation_steps(
    rng: random.Random, answers: dict[str, Any]
) -> list[tuple[str, tuple[Any, ...]]]:
    """Returns the triggers a person fires to give these answers (taps, toggles, a Back)."""
    steps: list[tuple[str, tuple[Any, ...]]] = []
    for question in QUESTIONS:
        if question not in answers:
            continue
        value = answers[question]
        if question in MULTI:
            steps += [("toggle", (question, o)) for o in value]
            steps.append(("confirm", (question,)))
        else:
            steps.append(("answer", (question, value)))
    if len(steps) > 2 and rng.random() < 0.3:
        steps.insert(len(steps) // 2, ("back", ()))
    return steps


def bench_flow(rng: random.Random, conversations: int) -> None:
    """Times load → trigger → save for every step of random conversations; sizes snapshots."""
    work: list[tuple[str, str, tuple[Any, ...]]] = []
    finished: list[str] = []
    for _ in range(conversations):
        stored = json.dumps(new_snapshot(rng.choice(("fr", "en"))))
        for trigger, args in conversation_steps(rng, random_answers(rng)):
            work.append((stored, trigger, args))
            after = step(json.loads(stored), trigger, *args).snapshot
            if trigger == "back":  # the person goes forward again from where Back led
                continue
            stored = json.dumps(after)
        finished.append(stored)

    def one(item: tuple[str, str, tuple[Any, ...]]) -> str:
        stored, trigger, args = item
        return json.dumps(step(json.loads(stored), trigger, *args).snapshot)

    measure("flow step: load JSON → trigger → save JSON", one, work)
    measure(
        "for comparison: one Machine built per person",
        lambda _: Machine(
            model=None,
            states=list(STATES),
            transitions=transition_table(),
            initial="role",
            auto_transitions=False,
            send_event=True,
        ),
        list(range(300)),
    )
    sizes = sorted(len(s.encode()) for s in finished)
    reviews = sum(json.loads(s)["state"] == REVIEW for s in finished)
    print(
        f"{'stored snapshot (JSON bytes)':<44} median {statistics.median(sizes):8.0f} B    "
        f"max {sizes[-1]:8d} B    ({reviews}/{len(finished)} at the review)"
    )
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    held = {i: s.encode() for i, s in enumerate(finished)}
    after_snap = tracemalloc.take_snapshot()
    tracemalloc.stop()
    used = sum(stat.size_diff for stat in after_snap.compare_to(before, "filename"))
    getsizeof = statistics.median(sys.getsizeof(v) for v in held.values())
    print(
        f"{'memory per stored snapshot (bytes object)':<44} mean {used / len(held):8.0f} B    "
        f"(sys.getsizeof median {getsizeof:.0f} B)"
    )


def _at_result(rng: random.Random) -> dict[str, Any]:
    """A random result with indicators to assess (required, recommended or optional)."""
    from bot.render.screens import evaluation_of
    from flows.rules import CERTIFICATION_PATH

    while True:
        answers = validate(random_answers(rng))
        snapshot = {**new_snapshot(rng.choice(("fr", "en"))), "state": "result",
                    "answers": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in answers.items()},
                    "date": "2026-11-26"}  # fmt: skip
        ev = evaluation_of(snapshot)
        if ev.verdict in CERTIFICATION_PATH and ev.indicators and not ev.mission_checklist:
            return snapshot


def bench_journeys(rng: random.Random, people: int) -> None:
    """The bot's CPU per update over whole questionnaires (``/start``, then every press of
    random answers) through a real Application and the fake Bot API: on SQLite, and on
    PostgreSQL too when ``BENCH_POSTGRES_URL`` names a database (the conversations are added
    to it, under chat ids no person has)."""
    import asyncio

    from tests.answers import presses

    journeys = [[p for p in presses(random_answers(rng)) if p != "result"] for _ in range(people)]
    sqlite, _, updates = asyncio.run(_journeys_cpu(journeys, None))
    label = "whole questionnaires, CPU per update, SQLite"
    print(f"{label:<44} {sqlite * 1000:8.3f} ms   ({updates} updates, {people} people)")
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        away = asyncio.run(_unreachable(url))
        if away:
            print(f"the same on PostgreSQL: not measured, BENCH_POSTGRES_URL unreachable ({away})")
            return
        postgres, server, _ = asyncio.run(_journeys_cpu(journeys, url))
        label = "the same on PostgreSQL, the bot's CPU"
        print(f"{label:<44} {postgres * 1000:8.3f} ms   ({postgres / sqlite:.2f}× SQLite)")
        if server:  # the server runs here: its processes' CPU is counted too
            label = "  with the server's (bot + server)"
            both = postgres + server
            print(f"{label:<44} {both * 1000:8.3f} ms   ({both / sqlite:.2f}× SQLite)")


async def _unreachable(url: str) -> str | None:
    """Why the database at ``url`` cannot be used (None: it can), in the driver's words,
    which name the host and port but never the password."""
    from bot.storage import StorageError
    from bot.storage.postgres import PostgresStore

    store = PostgresStore(url, pool_timeout=2.0)
    try:
        await store.open()
    except StorageError as exc:
        return str(exc).splitlines()[0]
    finally:
        await store.close()
    return None


WARM_UP = 10
"""Journeys run before the clock starts (the first ones compile templates and fill caches)."""


async def _journeys_cpu(journeys: list[list[str]], url: str | None) -> tuple[float, float, int]:
    """Seconds of this process's CPU per update for these journeys, one person after another,
    of a PostgreSQL server's on this machine (0 if none is seen), and how many updates were
    counted."""
    import tempfile
    from pathlib import Path

    from bench.proc import server_cpu_seconds
    from bot.storage.postgres import PostgresStore
    from tests.bot.fakes import FakeBotAPI, Person, make_app

    first_chat = 2**53 + time.time_ns() // 1000 % 10**12  # Telegram's ids are under 2**52
    with tempfile.TemporaryDirectory() as folder:
        api = FakeBotAPI()
        app, store = make_app(Path(folder), api, PostgresStore(url) if url else None)
        async with app:
            start, server, updates = time.process_time(), 0.0, 0
            for n, presses_ in enumerate([*journeys[:WARM_UP], *journeys]):
                if n == WARM_UP:  # templates compiled, caches filled: from here it counts
                    start, server, updates = time.process_time(), server_cpu_seconds(), 0
                person = Person(app, api, first_chat + n)
                await person.say("/start")
                for data in presses_:
                    await person.press(data)
                updates += 1 + len(presses_)
            spent = time.process_time() - start
            served = server_cpu_seconds() - server if url else 0.0
        await store.close()
    return spent / updates, served / updates, updates


def bench_assessment(rng: random.Random, people: int) -> None:
    """Times a ``chk:`` tap: decided alone, with its screen, and through a real Application."""
    from bot.assessment import decide_assessment
    from bot.events import Event
    from bot.render.assessment import indicator_screen, summary_screen
    from bot.render.screens import evaluation_of
    from bot.storage import Record

    day = dt.date(2026, 11, 26)
    taps: list[tuple[Record, str]] = []
    for _ in range(people):
        snapshot = _at_result(rng)
        statuses: dict[int, str] = {}
        meta: dict[str, Any] = {}
        for number in evaluation_of(snapshot).indicators:
            record = Record(snapshot, None, None, None, meta, dict(statuses))
            status = rng.choice(("done", "partial", "todo"))
            taps.append((record, f"chk:{number}:{status}"))
            statuses[number] = status
            meta = {"assessment": {"at": None}}

    def decide(item: tuple[Record, str]) -> Any:
        record, data = item
        return decide_assessment(record, Event("button", data), lang="fr", today=day, source=None)

    def decide_and_show(item: tuple[Record, str]) -> object:
        _, (saved, reply) = decide(item)
        screen = reply.screen
        if screen == "summary":
            return summary_screen(saved.snapshot, saved.statuses, day, None, False)
        return indicator_screen(saved.snapshot, saved.statuses, int(screen))

    print(f"self-assessment: {len(taps)} chk: taps of {people} people")
    measure("chk: tap, decided (pure)", decide, taps)
    measure("chk: tap, decided + next screen rendered", decide_and_show, taps)
    import asyncio

    asyncio.run(_taps_through_the_application(rng))


async def _taps_through_the_application(rng: random.Random) -> None:
    """A whole tap as the bot handles it: Application, SQLite commit, message edited."""
    import tempfile
    from pathlib import Path

    from tests.answers import presses
    from tests.bot.fakes import FakeBotAPI, Person, make_app

    with tempfile.TemporaryDirectory() as folder:
        api = FakeBotAPI()
        app, store = make_app(Path(folder), api)
        times: list[int] = []
        async with app:
            for chat in range(20):
                person = Person(app, api, 100 + chat)
                await person.say("/start")
                for data in presses({"role": "independent", "activities": ["training"],
                                     "selling": "direct", "funders": ["cpf"],
                                     "certifying": "yes", "long_courses": "yes",
                                     "work_based": "no", "uses_subcontractors": "no",
                                     "certified": "no", "stage": "established"}):  # fmt: skip
                    await person.press(data)
                await person.say("/checklist")
                while True:
                    live = person.live()
                    numbers = [d for d in live.data() if d.endswith(":done")]
                    if not numbers:
                        break
                    number = numbers[0].split(":")[1]
                    status = rng.choice(("done", "partial", "todo"))
                    start = time.perf_counter_ns()
                    await person.press(f"chk:{number}:{status}", live.message_id)
                    times.append(time.perf_counter_ns() - start)
        await store.close()
    times.sort()
    median = statistics.median(times) / 1000
    p99 = times[int(len(times) * 0.99)] / 1000
    label = "chk: tap through Application + SQLite"
    print(f"{label:<44} median {median:8.1f} µs   p99 {p99:8.1f} µs   (n={len(times)})")


if __name__ == "__main__":
    main()
