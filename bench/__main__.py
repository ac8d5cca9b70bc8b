"""``make bench``: time per ``evaluate`` call, in-process, over a large sample of answers.

Prints the median and p99 of three measures, each over the same contract-valid sample:
the rules alone (``evaluate`` on validated answers), validation plus rules, and the whole
``evaluate`` command's work without I/O (validation, rules, report in French, JSON encoding).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from bot.report import build_report
from flows.contract import QUESTION_LIST, Kind
from flows.rules import evaluate, is_asked, validate


def random_answers(rng: random.Random) -> dict[str, Any]:
    """Draws one contract-valid answers object, as an integration would send it."""
    answers: dict[str, Any] = {}
    canonical: dict[str, Any] = {}
    for q in QUESTION_LIST:
        if not is_asked(q.id, canonical):
            continue
        if q.kind is Kind.SINGLE:
            value: Any = rng.choice(q.options)
            canonical[q.id] = value
        else:
            ordinary = [o for o in q.options if o != q.exclusive]
            if rng.random() < 0.1:
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


if __name__ == "__main__":
    main()
