"""Replays follow-up and funnel steps and returns the stored meta after each (JSON text)."""

import datetime as dt
import json

from bot.chat.tracking import track
from bot.consultancy.followup import FollowUp
from bot.reading.buttons import parse_button
from bot.storage import Record
from flows.flow import new_snapshot, step
from tests.answers import INDEPENDENT_OPCO_PRESSES
from tests.bot.fakes import settings as fake_settings

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def settings():
    from pathlib import Path

    return fake_settings(Path("/tmp"), admin_chat_ids=frozenset({7000}), consultancy_name="X")


def result_snapshot():
    s = new_snapshot("fr")
    for d in INDEPENDENT_OPCO_PRESSES[:-1]:
        a = parse_button(d)
        s = step(s, a[0], *a[1]).snapshot
    return step(s, "show_result", dt.date(2026, 11, 27)).snapshot


def follow_metas(events):
    f = FollowUp(None, settings(), lambda: NOW)
    record = Record(
        result_snapshot(),
        None,
        "salon",
        None,
        {
            "started_at": "2026-11-27T08:00:00+00:00",
            "visited": ["role"],
            "furthest": "role",
            "completed": True,
        },
    )
    out = []
    for ev in events:
        change, _ = f.decide(ev, record, 42, user_id=42, lang_guess="fr")
        record = change.record
        out.append(json.dumps(record.meta, ensure_ascii=False))
    return out


def funnel_metas():
    out = []
    meta = {}
    before = None
    s = new_snapshot("fr")
    seq = [None, *INDEPENDENT_OPCO_PRESSES]
    for d in seq:
        if d is None:
            after = s
        elif d == "result":
            after = step(s, "show_result", dt.date(2026, 11, 27)).snapshot
        else:
            a = parse_button(d)
            after = step(s, a[0], *a[1]).snapshot
        meta, _ = track(
            before,
            after,
            meta,
            "salon",
            now=NOW,
            verdict="required" if after["state"] == "result" else None,
        )
        out.append(json.dumps(meta, ensure_ascii=False))
        before, s = after, after
    return out


SCENARIOS = {
    "lead": [
        ("button", "lead:yes", ()),
        ("button", "lead:agree", ()),
        ("text", "a.b@example.fr", ()),
        ("text", "Ana", ()),
        ("text", "Bonjour", ()),
    ],
    "declined": [("button", "lead:no", ())],
    "skip": [
        ("button", "lead:yes", ()),
        ("button", "lead:agree", ()),
        ("contact", "+33600000000", ("42",)),
        ("button", "lead:skip", ()),
        ("button", "lead:skip", ()),
    ],
    "reminder": [
        ("button", "remind:yes", ()),
        ("text", "nope", ()),
        ("text", "15/03/2026", ()),
        ("button", "remind:day:2026-03-15", ()),
    ],
}


def all_metas():
    data = {name: follow_metas(events) for name, events in SCENARIOS.items()}
    data["funnel"] = funnel_metas()
    return data
