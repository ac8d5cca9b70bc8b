"""What a committed step says, decided with the step: a ``Reply`` becomes a ``Plan``.

Pure: it reads the saved record, the message the person pressed (if any), the settings and
the day, and returns actions (``bot.plan``); the front end carries them out. The new screen
is edited in place of the pressed message when a button was pressed; a result is a new
message, followed in the background by its PDF and the consultancy's offer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import messages
from bot.assessment import AssessReply
from bot.chat.assess import pdf_part, screen_data
from bot.chat.meta import FollowMeta, live_shows
from bot.config import Settings
from bot.consultancy.offer import brand_buttons, brand_text, offer_after_result
from bot.conversation import Reply, summary_text
from bot.evidence import EvidenceReply
from bot.plan import Action, Clear, Dossier, Pdf, Plan, Send, Show
from bot.render.assessment import indicator_screen, said_buttons, said_text, summary_screen
from bot.render.evidence import evidence_list, evidence_said, evidence_screen
from bot.render.glossary import explanation
from bot.render.result_views import SUMMARY, left_result, result_view
from bot.render.screens import Button, evaluation_of, screen_for
from bot.storage import Record
from flows.flow import RESULT
from flows.rules import UNCONCERNED
from flows.snapshot import as_snapshot


def plan_questionnaire(
    record: Record,
    reply: Reply,
    pressed: int | None,
    *,
    settings: Settings,
    today: dt.date,
) -> Plan:
    """The actions that say what a questionnaire step decided (``pressed``: the message whose
    button was pressed)."""
    return Plan(tuple(_conversation(record, reply, pressed, settings, today)), reply.toast)


def _conversation(
    record: Record, reply: Reply, pressed: int | None, settings: Settings, today: dt.date
) -> list[Action]:
    assert record.snapshot is not None
    snapshot = as_snapshot(record.snapshot)
    lang = snapshot.lang
    live = record.live_message_id
    beside = reply.summary or reply.intro == "language_switched"
    if beside and snapshot.state == RESULT and not reply.view and not reply.entered_result:
        return _beside_result(record, reply, pressed)
    said: list[Action] = []
    if reply.dropped_lead:
        dropped = messages.text(lang, "followup", "lead_dropped", name=settings.consultancy_name)
        said.append(Send(dropped, clear_keyboard=True))
    if reply.intro:
        intro = messages.call(lang, "bot", reply.intro)
        welcome = reply.intro == "welcome"
        brand = brand_text(settings, lang) if welcome else ""
        links = brand_buttons(settings, lang) if welcome else ()
        said.append(Send(messages.join("\n\n", (intro, brand)) if brand else intro, links))
    if reply.explain:
        return [*said, Send(explanation(lang, reply.explain))]
    if reply.note:
        return [*said, Send(messages.text(lang, "bot", reply.note))]
    if reply.summary:
        said.append(Send(summary_text(record.snapshot)))
    if snapshot.state == RESULT and reply.entered_result:
        ev = evaluation_of(snapshot)
        offer = offer_after_result(
            settings, lang, ev.verdict.value, FollowMeta.from_meta(record.meta), ev.next_audit
        )
        screen = result_view(snapshot)
        shown_before = tuple(m for m in dict.fromkeys((pressed, live)) if m is not None)
        if pressed is not None and not said:
            # the result takes the place of the answers it was asked from (the message the
            # person is looking at): "Modifier mes réponses", /recap and the PDF's annex keep
            # them, and one edit is one request less than clearing the buttons and sending
            # (should the edit fail and the result come as a new message, the answers' buttons
            # go: a message the screen ended up in keeps its own)
            said.append(
                Show(
                    screen.text,
                    screen.buttons,
                    edit=pressed,
                    retire=shown_before,
                    shows=screen.kind,
                )
            )
        else:
            said.extend(Clear(m) for m in shown_before)
            said.append(Show(screen.text, screen.buttons, shows=screen.kind))
        if ev.verdict not in UNCONCERNED:
            said.append(Pdf(record.snapshot, pdf_part(record, today), offer))
        elif offer is not None and settings.offer_not_concerned:
            said.append(Send(offer.text, offer.buttons))  # no checklist to print: no PDF
        return said
    if snapshot.state == RESULT:  # a screen of the result: the summary unless one is asked
        screen = result_view(snapshot, *(reply.view or ("summary", 0)))
    else:
        screen = screen_for(snapshot, reply.hint)
    older: tuple[int, ...] = (live,) if live is not None else ()
    if reply.edit and pressed is not None:
        said.append(
            Show(screen.text, screen.buttons, edit=pressed, retire=older, shows=screen.kind)
        )
        return said
    result = reply.left_result or record.snapshot
    if pressed is not None:
        cleared, left = _retiring(record, (pressed,), result)
        said.extend([*(Clear(m) for m in cleared), *left])
        older = tuple(m for m in older if m != pressed)
    older, left = _retiring(record, older, result)
    return [*said, Show(screen.text, screen.buttons, retire=older, shows=screen.kind), *left]


def _retiring(
    record: Record, older: tuple[int, ...], result: Mapping[str, Any] | None
) -> tuple[tuple[int, ...], list[Action]]:
    """Splits messages whose buttons go: when one is the live message showing the summary of
    ``result``, it keeps what it said, without the line about its buttons (one edit, as
    clearing its buttons would be); the others are returned to be cleared."""
    live = record.live_message_id
    if (
        live not in older
        or live_shows(record.meta) != SUMMARY
        or result is None
        or as_snapshot(result).state != RESULT
    ):
        return older, []
    return tuple(m for m in older if m != live), [Clear(live, text=left_result(result))]


def _beside_result(record: Record, reply: Reply, pressed: int | None) -> list[Action]:
    """/recap and /langue at a result: the answers, or the result put into the new language
    in place, with a short line below; the result is shown again only when asked for."""
    assert record.snapshot is not None
    snapshot = as_snapshot(record.snapshot)
    lang = snapshot.lang
    again = (
        Button(messages.text(lang, "ui", "see_result"), "res:summary"),
        Button(messages.text(lang, "ui", "change_answers"), "back"),
    )
    if reply.summary:
        return [Send(summary_text(record.snapshot), (again,))]
    said: list[Action] = []
    shown = pressed if pressed is not None else record.live_message_id
    if shown is not None:
        screen = result_view(snapshot)
        said.append(Show(screen.text, screen.buttons, edit=shown, shows=screen.kind))
    note = messages.call(lang, "bot", "language_switched", at_result=shown is not None)
    return [*said, Send(note, (again,))]


def plan_assessment(
    record: Record, reply: AssessReply, pressed: int | None, *, today: dt.date
) -> tuple[Action, ...]:
    """A self-assessment step: its message, its PDF, then its screen (in place of the pressed
    message, or as a new one). The screen becomes the live message; a new one takes the
    buttons off the indicator screen it follows (the result keeps its own)."""
    snapshot = record.snapshot
    lang = reply.lang
    said: list[Action] = []
    if reply.said is not None:
        said.append(Send(said_text(lang, snapshot, *reply.said), said_buttons(lang, *reply.said)))
    if reply.pdf and snapshot is not None:
        said.append(Pdf(snapshot, pdf_part(record, today) or {}))
    if reply.screen is None or snapshot is None:
        return tuple(said)
    if reply.screen == "summary":
        audit_on, reminders = screen_data(record)
        screen = summary_screen(snapshot, record.statuses, today, audit_on, reminders)
    else:
        attached = sum(1 for e in record.evidence if e.indicator == int(reply.screen))
        screen = indicator_screen(snapshot, record.statuses, int(reply.screen), attached)
    edit = pressed if reply.edit else None
    live = record.live_message_id
    older: tuple[int, ...] = (live,) if reply.retire and edit is None and live is not None else ()
    older, left = _retiring(record, older, snapshot)
    said.append(Show(screen.text, screen.buttons, edit=edit, retire=older, shows=screen.kind))
    return (*said, *left)


def plan_evidence(record: Record, reply: EvidenceReply, pressed: int | None) -> tuple[Action, ...]:
    """A dossier de preuves step: its line, the dossier, then its screen (in place of the
    pressed message, or as a new one taking the buttons off the screen it follows)."""
    snapshot = record.snapshot
    lang = reply.lang
    said: list[Action] = []
    if reply.said is not None:
        said.append(Send(evidence_said(lang, *reply.said)))
    if reply.dossier:
        said.append(Dossier(lang))
    if reply.screen is None or snapshot is None:
        return tuple(said)
    if reply.screen == "list":
        screen = evidence_list(snapshot, record.statuses, record.evidence)
    elif isinstance(reply.screen, str):  # "indicator:<n>": back to its self-assessment screen
        number = int(reply.screen.split(":")[1])
        attached = sum(1 for e in record.evidence if e.indicator == number)
        screen = indicator_screen(snapshot, record.statuses, number, attached)
    else:
        screen = evidence_screen(
            snapshot, record.statuses, record.evidence, reply.screen, suggest=reply.suggest
        )
    edit = pressed if reply.edit else None
    live = record.live_message_id
    older: tuple[int, ...] = (live,) if edit is None and live is not None else ()
    older, left = _retiring(record, older, snapshot)
    said.append(Show(screen.text, screen.buttons, edit=edit, retire=older, shows=screen.kind))
    return (*said, *left)
