"""The funnel's and the follow-ups' parts of a chat's meta, as types: the stored JSON is the
same as when they were plain dictionaries (golden file written before the change)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.chat.meta import FollowMeta, FunnelMeta
from tests.meta_scenarios import all_metas

GOLDEN = Path(__file__).parents[1] / "golden" / "meta.json"


def test_follow_up_and_funnel_steps_store_the_same_json_as_before() -> None:
    assert all_metas() == json.loads(GOLDEN.read_text("utf-8"))


def test_each_part_reads_its_keys_and_leaves_the_others() -> None:
    meta = {"handled_updates": [1, 2], "started_at": "2026-11-27T09:00:00+00:00",
            "visited": ["role"], "furthest": "role", "lead": "consent"}  # fmt: skip
    follow = FollowMeta.from_meta(meta)
    funnel = FunnelMeta.from_meta(meta)
    assert (follow.lead, follow.lead_declined, follow.reminder) == ("consent", False, None)
    assert (funnel.visited, funnel.furthest, funnel.completed) == (("role",), "role", False)
    written = follow.but(lead=None, lead_declined=True).into(meta)
    assert list(written) == [*meta, "lead_declined"], "keys stay where they stood"
    assert written["handled_updates"] == [1, 2]
    assert written["lead"] is None
    assert FunnelMeta.from_meta({}).into({}) == {}, "nothing written that was not held"
