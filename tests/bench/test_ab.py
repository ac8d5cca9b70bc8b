"""``python -m bench.ab``: the figures of each run are read from what ``bench_journeys``
prints, and the summary compares the medians of the two sides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.ab import figures, summary

ROOT = Path(__file__).resolve().parents[2]

RUN = """\
whole questionnaires, CPU per update, SQLite    1.100 ms   (944 updates, 100 people)
the same on PostgreSQL, the bot's CPU           1.650 ms   (1.50× SQLite)
  with the server's (bot + server)              2.200 ms   (2.00× SQLite)
a stray line, 3.000 ms without a label's gap
"""


def test_each_figure_and_each_ratio_to_sqlite_is_read_by_its_label() -> None:
    assert figures(RUN) == {
        "whole questionnaires, CPU per update, SQLite": 1.1,
        "the same on PostgreSQL, the bot's CPU": 1.65,
        "the same on PostgreSQL, the bot's CPU ÷ SQLite": 1.5,
        "with the server's (bot + server)": 2.2,
        "with the server's (bot + server) ÷ SQLite": 2.0,
    }


def test_the_summary_compares_medians_and_leaves_out_what_one_side_lacks() -> None:
    sqlite = "whole questionnaires, CPU per update, SQLite"
    runs = {
        "old": [{sqlite: 1.0}, {sqlite: 1.4}, {sqlite: 1.2}],
        "new": [{sqlite: 1.1, "only here": 9.0}, {sqlite: 0.8}, {sqlite: 0.9}],
    }
    (line,) = summary(runs, "old", "new")
    assert line.startswith(sqlite)
    assert "1.200 ms (1.000–1.400)" in line
    assert "0.900 ms (0.800–1.100)" in line
    assert "-25.0 %" in line


@pytest.mark.slow
def test_a_revision_and_the_working_tree_are_run_in_turns_from_their_own_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.ab", "HEAD", "--runs", "2", "--people", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [
        "run 1, HEAD",
        "run 1, working tree",
        "run 2, working tree",
        "run 2, HEAD",
    ]
    assert any(line.startswith("whole questionnaires") for line in lines[4:])
    listed = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "qualiopi-ab-" not in listed.stdout  # the revision's checkout is gone
