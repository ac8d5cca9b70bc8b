"""Anonymous counts of what people do, derived from one step's before and after.

Each step may add tallies: a conversation started, a question reached for the first time, the
question where a conversation currently stops, a completion with its verdict and duration. They
carry a day and the deep-link source, never an id: the funnel and the verdict mix survive a
person's deletion without keeping anything about them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.storage import Tally
from flows.contract import QUESTIONS
from flows.flow import RESULT

DURATION_BUCKET_SECONDS = 10


def new_run(now: dt.datetime) -> dict[str, Any]:
    """Returns the meta of a fresh questionnaire run (offers reset too)."""
    return {"started_at": now.isoformat(timespec="seconds"), "visited": [], "furthest": None}


def track(
    before: dict[str, Any] | None,
    after: dict[str, Any],
    meta: dict[str, Any],
    source: str | None,
    *,
    now: dt.datetime,
    verdict: str | None = None,
) -> tuple[dict[str, Any], list[Tally]]:
    """Returns the new meta and the tallies for a step from ``before`` to ``after``."""
    src = source or ""
    tallies: list[Tally] = []
    restarted = before is None or (
        not after["answers"] and after["state"] == "role" and (before or {}).get("answers")
    )
    if restarted or "started_at" not in meta:
        if meta.get("furthest") and not meta.get("completed"):
            tallies.append(Tally("stopped", meta["furthest"], src, -1))
        # A declined contact offer stays declined: the person said no to being contacted.
        meta = {**{k: v for k, v in meta.items() if k == "lead_declined"}, **new_run(now)}
        tallies.append(Tally("started", "", src))
    meta = dict(meta)
    state = after["state"]
    if state in QUESTIONS and state not in meta["visited"] and not meta.get("completed"):
        meta["visited"] = [*meta["visited"], state]
        tallies.append(Tally("reached", state, src))
        if meta.get("furthest"):
            tallies.append(Tally("stopped", meta["furthest"], src, -1))
        tallies.append(Tally("stopped", state, src))
        meta["furthest"] = state
    if state == RESULT and not meta.get("completed") and verdict is not None:
        meta["completed"] = True
        tallies.append(Tally("completed", verdict, src))
        if meta.get("furthest"):
            tallies.append(Tally("stopped", meta["furthest"], src, -1))
        started = dt.datetime.fromisoformat(meta["started_at"])
        seconds = max(0, int((now - started).total_seconds()))
        bucket = seconds // DURATION_BUCKET_SECONDS * DURATION_BUCKET_SECONDS
        tallies.append(Tally("duration", str(bucket), src))
    return meta, tallies
