"""``make bench`` says plainly that the PostgreSQL it was given is away (before, the
journeys ran into it and stopped on an assertion of the fake Bot API), in words that never
show the URL's password."""

from __future__ import annotations

import os

import pytest

from bench.__main__ import _unreachable


async def test_a_database_that_refuses_connections_is_named_as_unreachable() -> None:
    why = await _unreachable("postgresql://bench:hunter2@127.0.0.1:1/nothing")
    assert why is not None
    assert "127.0.0.1" in why
    assert "hunter2" not in why


@pytest.mark.skipif(
    not os.environ.get("QUALIOPI_TEST_POSTGRES_URL"), reason="needs QUALIOPI_TEST_POSTGRES_URL"
)
async def test_a_database_that_answers_is_reachable() -> None:
    assert await _unreachable(os.environ["QUALIOPI_TEST_POSTGRES_URL"]) is None
