"""``python -m bench.pg_roundtrip`` measures psycopg's round trips on both kinds of connection."""

from __future__ import annotations

import os

import pytest

from bench import pg_roundtrip


def test_without_a_database_it_says_what_it_needs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BENCH_POSTGRES_URL", raising=False)
    assert pg_roundtrip.main() == 2
    assert "BENCH_POSTGRES_URL" in capsys.readouterr().err


@pytest.mark.skipif(
    not os.environ.get("QUALIOPI_TEST_POSTGRES_URL"), reason="needs QUALIOPI_TEST_POSTGRES_URL"
)
def test_it_prints_the_async_and_sync_cpu_of_a_round_trip(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BENCH_POSTGRES_URL", os.environ["QUALIOPI_TEST_POSTGRES_URL"])
    monkeypatch.setattr(pg_roundtrip, "ROUNDS", 20)
    assert pg_roundtrip.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("async")[0].strip() for line in lines] == [
        "one statement, one round trip",
        "eight statements in one pipeline",
    ]
    figures = [float(word) for line in lines for word in line.split() if word.isdigit()]
    assert len(figures) == 4
    assert all(f > 0 for f in figures)
