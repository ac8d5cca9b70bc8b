"""One event, one decision, one plan.

``decide`` runs inside the storage transaction, the chat locked: it hands the event to the
one decider that takes it, siblings each in their room (the consultancy's follow-ups, the
dossier de preuves, the self-assessment, the questionnaire), and turns what that decider says
into the plan committed with the step (``Change.says``: the outbox). ``bot.telegram`` only
turns updates into events and carries plans out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import messages
from bot.assessment import accepts as assessment_accepts
from bot.assessment import decide_assessment
from bot.chat.assess import on_indicator
from bot.chat.meta import live_shows, showing
from bot.config import Settings
from bot.consultancy.followup import FollowUp
from bot.conversation import decide_questionnaire, switch_language
from bot.events import Event, Upload
from bot.evidence import DEFAULT_LIMITS, Limits, decide_evidence
from bot.evidence import accepts as evidence_accepts
from bot.outbox import Rows
from bot.plan import Plan, Show, to_json
from bot.replies import plan_assessment, plan_evidence, plan_questionnaire
from bot.storage import Change, Record


@dataclass(frozen=True, slots=True)
class Moment:
    """Where and when an event happens: its chat, its update, who sent it, the language
    Telegram gives them (for a chat that has none yet), the day and the time, the message
    whose button was pressed and its keyboard, the file it brought (downloaded when it may be
    kept)."""

    chat_id: int
    update_id: int
    today: dt.date
    now: dt.datetime
    lang: str = "fr"
    user_id: int | None = None
    pressed: int | None = None
    keyboard: Callable[[], Rows] = tuple
    """The rows of buttons of the pressed message, read when a decider needs them (the
    consultancy's offer: the other steps do not pay for reading a keyboard)."""
    upload: Upload | None = None


def decide(
    record: Record,
    event: Event,
    at: Moment,
    *,
    follow: FollowUp,
    settings: Settings,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Change | None, Plan]:
    """What to commit (None: nothing) and the plan: what the step says, in the outbox with
    it, said once it is committed."""
    if follow.accepts(event, record, at.chat_id):
        pressed = (at.pressed, at.keyboard()) if at.pressed is not None else None
        change, actions = follow.decide(
            event, record, at.chat_id, user_id=at.user_id, lang_guess=at.lang, pressed=pressed
        )
        plan = Plan(actions)
    else:
        change, plan = dispatch(record, event, at, settings, limits)
    says = [to_json(action) for action in plan.actions]
    if change is not None:
        change = replace(change, says=says)
    elif says:
        change = Change(record, says=says)
    return _remember_live(change, plan), plan


def _remember_live(change: Change | None, plan: Plan) -> Change | None:
    """Records in the chat's row what its live message is after this plan (the last screen
    made live): what it shows (``Show.shows``, in meta), and, for a screen edited in place,
    which message it is (it stays there unless the edit fails, when ``said`` records the new
    message: one write fewer a tap)."""
    show = next((a for a in reversed(plan.actions) if isinstance(a, Show) and a.live), None)
    if change is None or show is None:
        return change
    record = change.record
    if live_shows(record.meta) != show.shows:
        record = replace(record, meta=showing(record.meta, show.shows))
    if show.edit is not None:
        record = replace(record, live_message_id=show.edit)
    return replace(change, record=record) if record is not change.record else change


def dispatch(
    record: Record,
    event: Event,
    at: Moment,
    settings: Settings,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Change | None, Plan]:
    """Hands the event to the dossier de preuves, the self-assessment or the questionnaire;
    returns what to commit and the plan of what that decider says."""
    if event[:2] == ("command", "language") and on_indicator(record):
        # In the middle of the self-assessment: the same indicator again, in the other language.
        assert record.snapshot is not None
        record = replace(record, snapshot=switch_language(record.snapshot))
        event = Event("command", "checklist", ("language",))
    if evidence_accepts(event, record):
        change, (saved, evidence) = decide_evidence(
            record, event, lang=at.lang, limits=limits, now=at.now, upload=at.upload
        )
        toast = _toast(evidence.lang, "evidence", evidence.toast)
        return change, Plan(plan_evidence(saved, evidence, at.pressed), toast)
    if assessment_accepts(event, record):
        change, (saved, assessed) = decide_assessment(
            record, event, lang=at.lang, today=at.today, source=record.source
        )
        toast = _toast(assessed.lang, "assessment", assessed.toast)
        return change, Plan(plan_assessment(saved, assessed, at.pressed, today=at.today), toast)
    change, (saved, reply) = decide_questionnaire(
        record,
        event,
        lang=at.lang,
        chat_id=at.chat_id,
        update_id=at.update_id,
        today=at.today,
        now=at.now,
    )
    return change, plan_questionnaire(saved, reply, at.pressed, settings=settings, today=at.today)


def _toast(lang: str, room: str, code: str | None) -> str | None:
    """The button's answer a decider named (a macro of its templates), or None."""
    return messages.text(lang, room, code) if code else None
