"""Anonymous counts of what people do, derived from one step's before and after.

Each step may add tallies: a conversation started, a question reached for the first time, the
question where a conversation currently stops, a completion with its verdict and duration. They
carry a day and the deep-link source, never an id: the funnel and the verdict mix survive a
person's deletion without keeping anything about them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.chat.meta import LIVE_SHOWS, FunnelMeta
from bot.storage import Tally
from flows.contract import QUESTIONS
from flows.flow import RESULT
from flows.snapshot import as_snapshot

DURATION_BUCKET_SECONDS = 10


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
    funnel = FunnelMeta.from_meta(meta)
    reached = as_snapshot(after)
    state, answered = reached.state, reached.answers
    restarted = before is None or (
        not answered and state == "role" and bool(as_snapshot(before).answers)
    )
    if restarted or funnel.started_at is None:
        if funnel.furthest and not funnel.completed:
            tallies.append(Tally("stopped", funnel.furthest, src, -1))
        # A declined contact offer stays declined: the person said no to being contacted. The
        # live message is the same one until this step's plan shows another.
        meta = {k: v for k, v in meta.items() if k in ("lead_declined", LIVE_SHOWS)}
        funnel = FunnelMeta.new_run(now)
        tallies.append(Tally("started", "", src))
    if state in QUESTIONS and state not in funnel.visited and not funnel.completed:
        funnel = funnel.but(visited=(*funnel.visited, state))
        tallies.append(Tally("reached", state, src))
        if funnel.furthest:
            tallies.append(Tally("stopped", funnel.furthest, src, -1))
        tallies.append(Tally("stopped", state, src))
        funnel = funnel.but(furthest=state)
    if state == RESULT and not funnel.completed and verdict is not None:
        funnel = funnel.but(completed=True)
        tallies.append(Tally("completed", verdict, src))
        if funnel.furthest:
            tallies.append(Tally("stopped", funnel.furthest, src, -1))
        assert funnel.started_at is not None
        started = dt.datetime.fromisoformat(funnel.started_at)
        seconds = max(0, int((now - started).total_seconds()))
        bucket = seconds // DURATION_BUCKET_SECONDS * DURATION_BUCKET_SECONDS
        tallies.append(Tally("duration", str(bucket), src))
    return funnel.into(meta), tallies
