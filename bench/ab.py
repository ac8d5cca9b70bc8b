"""``python -m bench.ab REV``: the in-process CPU per update of whole questionnaires (the
figure ``python -m bench`` prints, on PostgreSQL too with ``BENCH_POSTGRES_URL``) for a
revision and for the working tree, run in turns, the order swapped at each round so that a
machine growing busier weighs on both alike.

On a shared VM the same code moves by a tenth or more from one run to the next: one run of
each says nothing about a change of a few per cent; the medians of several alternated runs
do. The revision is checked out in a temporary worktree, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

FIGURE = re.compile(
    r"^\s*(?P<label>\S.*?)\s{2,}(?P<ms>\d+\.\d+) ms\b(?:.*\((?P<ratio>\d+\.\d+)× SQLite\))?"
)
"""A figure line of ``bench_journeys``: its label, milliseconds per update, and on
PostgreSQL's lines the ratio to SQLite's figure of the same run."""
RATIO = " ÷ SQLite"
"""Added to a PostgreSQL line's label to name its ratio."""

JOURNEYS = (
    "import os, random, sys\n"
    "import bot\n"
    "here = os.path.realpath(os.getcwd())\n"
    "assert os.path.realpath(bot.__file__).startswith(here), 'bot imported from elsewhere'\n"
    "from bench.__main__ import bench_journeys\n"
    "bench_journeys(random.Random(int(sys.argv[2])), int(sys.argv[1]))\n"
)


def figures(output: str) -> dict[str, float]:
    """The figures printed by one run, by label: milliseconds per update, and each
    PostgreSQL figure's ratio to SQLite's (its label ending in ``RATIO``); lines that are not
    figures are skipped."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        match = FIGURE.match(line)
        if match:
            label = match["label"].strip()
            found[label] = float(match["ms"])
            if match["ratio"]:
                found[label + RATIO] = float(match["ratio"])
    return found


def summary(runs: dict[str, list[dict[str, float]]], base: str, this: str) -> list[str]:
    """One line per figure: each side's median (lowest–highest) and the change from ``base``
    to ``this``; a figure one side did not print is left out."""
    labels = [label for label in runs[this][0] if all(label in r for r in runs[base])]
    lines = []
    for label in labels:
        a = [r[label] for r in runs[base]]
        b = [r[label] for r in runs[this] if label in r]
        unit = "×" if label.endswith(RATIO) else "ms"
        change = statistics.median(b) / statistics.median(a) - 1
        lines.append(
            f"{label:<46} {_spread(a, unit)}  →  {_spread(b, unit)}   {change * 100:+.1f} %"
            f"   (medians of {len(a)} and {len(b)} runs)"
        )
    return lines


def _spread(values: Sequence[float], unit: str) -> str:
    return f"{statistics.median(values):.3f} {unit} ({min(values):.3f}–{max(values):.3f})"


def run_once(checkout: Path, people: int, seed: int) -> dict[str, float]:
    """One ``bench_journeys`` in a fresh interpreter, with ``checkout``'s code."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-c", JOURNEYS, str(people), str(seed)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = figures(done.stdout)
    if done.returncode or not found:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"the journeys failed in {checkout}: {tail[0]}")
    return found


def main(argv: Sequence[str] | None = None) -> None:
    """Runs both sides in turns and prints each run, then the medians."""
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("rev", help="the revision to compare the working tree with")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side (5)")
    parser.add_argument("--people", type=int, default=100, help="questionnaires a run (100)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    here = Path(
        subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    with tempfile.TemporaryDirectory(prefix="qualiopi-ab-") as folder:
        base = Path(folder) / "base"
        subprocess.run(
            ["git", "-C", str(here), "worktree", "add", "--detach", str(base), args.rev],
            capture_output=True,
            check=True,
        )
        try:
            sides = {args.rev: base, "working tree": here}
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
            for n in range(args.runs):
                order = list(sides) if n % 2 == 0 else list(sides)[::-1]
                for name in order:
                    found = run_once(sides[name], args.people, args.seed)
                    runs[name].append(found)
                    shown = "  ".join(f"{v:.3f}" for v in found.values())
                    print(f"run {n + 1}, {name}: {shown}", flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(here), "worktree", "remove", "--force", str(base)],
                capture_output=True,
                check=False,
            )
    print()
    for line in summary(runs, args.rev, "working tree"):
        print(line)


if __name__ == "__main__":
    main()
