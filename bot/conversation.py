"""What one update does to a conversation, decided without Telegram: pure and quick.

``decide_questionnaire`` is the questionnaire's decider (``bot.dispatch`` hands it the events
the self-assessment, the dossier de preuves and the follow-ups do not take): inside the storage
transaction (the chat locked), from the stored record, the event and the clock it returns what
to commit and what to say.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import messages
from bot.chat.assess import for_new_result, leave
from bot.chat.meta import FunnelMeta, giving_contact
from bot.chat.tracking import track
from bot.events import Event
from bot.reading.buttons import parse_button
from bot.reading.typed import confirmation_action, match_option, match_options, means_confirm
from bot.render.glossary import DONT_KNOW, QUESTION_TERMS, SAFE_ANSWERS, terms_named
from bot.render.screens import awaiting_confirmation, evaluation_of, hint_text, review_screen
from bot.render.text import fold
from bot.storage import Change, Completed, Record, Tally
from flows.contract import QUESTIONS
from flows.flow import (
    MULTI,
    RESULT,
    REVIEW,
    Outcome,
    choose,
    is_snapshot,
    new_snapshot,
    resume,
    step,
)
from flows.rules import UNCONCERNED
from flows.snapshot import as_snapshot

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""A deep-link payload kept as the conversation's source."""


class Reply:
    """What to say after a step (decided with the step, sent by the front end)."""

    __slots__ = (
        "dropped_lead",
        "edit",
        "entered_result",
        "explain",
        "hint",
        "intro",
        "left_result",
        "note",
        "summary",
        "toast",
        "view",
    )

    def __init__(self) -> None:
        self.intro: str | None = None
        self.hint: str | None = None
        self.toast: str | None = None
        self.summary = False
        self.edit = False
        self.entered_result = False
        self.explain: tuple[str, ...] = ()
        """Glossary terms to explain, in a message of their own (the screen stays)."""
        self.note: str | None = None
        """A short line said instead of the screen (the screen above is still current)."""
        self.view: tuple[str, int] | None = None
        """A screen of the result to show in place (``res:`` buttons)."""
        self.left_result: dict[str, Any] | None = None
        """The result the step left (its snapshot): its message keeps what it said."""
        self.dropped_lead = False
        """The step ended a contact request under way (a restart): it is said, and the
        keyboard that shares the phone number goes."""


def decide_questionnaire(
    record: Record,
    event: Event,
    *,
    lang: str,
    chat_id: int,
    update_id: int,
    today: dt.date,
    now: dt.datetime,
) -> tuple[Change | None, tuple[Record, Reply]]:
    """Applies one event to the chat's questionnaire (and its result): what to commit (None:
    nothing), what to say."""
    stored = record.snapshot
    snapshot = resume(stored) if stored is not None and is_snapshot(stored) else None
    reply = Reply()
    after, source = _apply(snapshot, record, event, lang, reply, today=today)
    if snapshot is not None and snapshot["state"] == RESULT and after["state"] != RESULT:
        reply.left_result = snapshot
    meta, tallies, completed = track_step(chat_id, snapshot, after, record, source, now=now)
    reply.dropped_lead = giving_contact(record.meta) and not giving_contact(meta)
    entered = after["state"] == RESULT and reply.entered_result
    # A result that concerns no indicator ("not concerned") has no checklist to print.
    owes_pdf = entered and evaluation_of(after).verdict not in UNCONCERNED
    statuses = for_new_result(record, after) if entered else None
    saved = Record(
        after,
        record.live_message_id,
        source,
        update_id,
        leave(meta),
        record.statuses if statuses is None else statuses,
    )
    change = Change(saved, tallies, completed, pdf_due=owes_pdf, statuses=statuses)
    return change, (saved, reply)


def track_step(
    chat_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    record: Record,
    source: str | None,
    *,
    now: dt.datetime,
) -> tuple[dict[str, Any], list[Tally], Completed | None]:
    """Returns the new meta, the anonymous tallies and, at a result, the questionnaire row."""
    verdict = None
    completed = None
    if as_snapshot(after).state == RESULT and not FunnelMeta.from_meta(record.meta).completed:
        ev = evaluation_of(after)
        verdict = ev.verdict.value
        completed = Completed(
            chat_id=chat_id,
            language=after["lang"],
            source=source,
            verdict=verdict,
            indicator_count=len(ev.indicators),
            referential=ev.referential.id,
            answers=dict(after["answers"]),
        )
    meta, tallies = track(before, after, dict(record.meta), source, now=now, verdict=verdict)
    if not any(t.kind == "completed" for t in tallies):
        completed = None
    return meta, tallies, completed


def _apply(
    snapshot: dict[str, Any] | None,
    record: Record,
    event: tuple[str, str, tuple[str, ...]],
    lang: str,
    reply: Reply,
    *,
    today: dt.date,
) -> tuple[dict[str, Any], str | None]:
    """Applies the event to the snapshot; fills ``reply`` with what to say."""
    kind, value, args = event
    source = record.source
    if snapshot is None:
        snapshot = new_snapshot(lang)
        reply.intro = "welcome"
    if kind == "command":
        if value == "start" and args and PAYLOAD.match(args[0]):
            source = args[0]
        return _command(snapshot, value, reply), source
    if kind == "button":
        return _button(snapshot, value, reply, today, args), source
    if kind == "text":
        state = as_snapshot(snapshot).state
        if fold(value) in DONT_KNOW and state in SAFE_ANSWERS:
            done = step(snapshot, "answer", state, SAFE_ANSWERS[state], "assumed")
            return done.snapshot, source
        snapshot, understood = typed_answer(snapshot, value)
        if not understood:
            reply.explain = terms_named(value)  # "c'est quoi un OPCO ?"
            reply.hint = None if reply.explain else "use_buttons"
        return snapshot, source
    # a sticker, a photo, a voice message: one short line, about the screen above
    asking = as_snapshot(snapshot).state in QUESTIONS
    reply.note = "not_text" if asking else "not_text_screen"
    return snapshot, source


def _command(snapshot: dict[str, Any], name: str, reply: Reply) -> dict[str, Any]:
    """Applies a command."""
    if name == "start":
        if as_snapshot(snapshot).state == RESULT:
            snapshot = step(snapshot, "restart").snapshot
        reply.intro = "welcome"
    elif name == "restart":
        snapshot = step(snapshot, "restart").snapshot
    elif name == "back":
        done = step(snapshot, "back")
        snapshot = done.snapshot
        reply.hint = None if done.changed else done.outcome
    elif name == "help":
        reply.intro = "help"
    elif name == "language":
        snapshot = switch_language(snapshot)
        reply.intro = "language_switched"
    elif name == "summary":
        reply.summary = True
    else:  # a command that does not exist here (/stats outside an admin chat…)
        reply.hint = "use_buttons"
    return snapshot


def _button(
    snapshot: dict[str, Any],
    data: str,
    reply: Reply,
    today: dt.date,
    seen: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Applies a button press; a forged one changes nothing.

    A multi-choice option does what the person saw it would do: tick an option shown
    unticked, untick one shown ticked. A double tap on a screen that has not refreshed yet
    therefore changes nothing the second time, instead of unticking again.
    """
    current = as_snapshot(snapshot)  # read once: the step below returns a new one
    current_lang, was = current.lang, current.state
    action = parse_button(data)
    if action is None:
        reply.toast = hint_text(current_lang, Outcome.STALE)
        reply.edit = was != RESULT
        return snapshot
    trigger, action_args = action
    if trigger == "lang":
        if action_args[0] != current_lang:
            snapshot = switch_language(snapshot)
        reply.edit = True
        return snapshot
    if trigger == "info":
        reply.explain = QUESTION_TERMS[action_args[0]]
        return snapshot
    if trigger == "view":
        if was == RESULT:
            reply.view = (action_args[0], action_args[1])
        else:
            reply.toast = hint_text(current_lang, Outcome.STALE)
        reply.edit = True
        return snapshot
    if trigger == "result":
        trigger, action_args = "show_result", (today,)
    if trigger == "toggle" and seen and was == action_args[0]:
        wants_ticked = seen[0] == "unticked"
        if (action_args[1] in current.pending) == wants_ticked:
            reply.edit = True  # already as intended: show the screen as it is
            return snapshot
    done = step(snapshot, trigger, *action_args)
    snapshot = done.snapshot
    if not done.changed:
        reply.toast = hint_text(current_lang, done.outcome)
    now_at = as_snapshot(snapshot).state
    reply.edit = RESULT not in (was, now_at)
    reply.entered_result = now_at == RESULT and was != RESULT
    return snapshot


def switch_language(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Returns the snapshot in the other language."""
    current = as_snapshot(snapshot)
    return current.but(lang=messages.next_language(current.lang)).to_json()


def summary_text(snapshot: dict[str, Any]) -> str:
    """Returns every answer so far, as /summary shows them."""
    current = as_snapshot(snapshot)
    lang = current.lang
    if not current.answers:
        return messages.text(lang, "bot", "summary_empty")
    return review_screen(snapshot).text.rsplit("\n\n", 1)[0]


def typed_answer(snapshot: dict[str, Any], typed: str) -> tuple[dict[str, Any], bool]:
    """Applies a typed answer to the current question; tells whether it was understood."""
    current = as_snapshot(snapshot)
    state, lang = current.state, current.lang
    if state in (REVIEW, RESULT) or state not in QUESTIONS:
        return snapshot, False
    held = awaiting_confirmation(current)
    if held is not None:
        action = confirmation_action(state, held, typed)
        if action is None:
            return snapshot, False
        return step(snapshot, action[0], *action[1]).snapshot, True
    if state in MULTI:
        if means_confirm(typed) and current.pending:
            return step(snapshot, "confirm", state).snapshot, True
        chosen = match_options(state, typed, lang)
        exclusive = QUESTIONS[state].exclusive
        if not chosen or (exclusive in chosen and len(chosen) > 1):
            return snapshot, False
        # Typed, the option that excludes the others is ticked, never validated: the person
        # sees it ticked and taps "Valider" (it can end the questionnaire on "not concerned").
        return choose(snapshot, state, chosen, confirm=chosen != [exclusive]).snapshot, True
    matched = match_option(state, typed, lang)
    if matched is None:
        return snapshot, False
    return step(snapshot, "answer", state, matched).snapshot, True
