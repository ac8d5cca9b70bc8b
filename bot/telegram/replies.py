"""Sending what a step decided: the new screen (edited in place when a button was pressed),
or the result and, after it, the PDF and the consultancy's offer."""

from __future__ import annotations

import datetime as dt

from telegram import (
    CallbackQuery,
    Message,
)

import messages
from bot.assessment import AssessReply, pdf_part, screen_data
from bot.consultancy.followup import FollowUp
from bot.consultancy.meta import FollowMeta
from bot.consultancy.offer import brand_buttons, brand_text, offer_after_result
from bot.conversation import Reply, summary_text
from bot.render.assessment import indicator_screen, said_text, summary_screen
from bot.render.glossary import explanation
from bot.render.result_views import result_view
from bot.render.screens import (
    evaluation_of,
    screen_for,
)
from bot.storage import (
    Record,
)
from bot.telegram.port import Port
from bot.telegram.results import ResultSender
from flows.flow import RESULT
from flows.snapshot import as_snapshot


async def send_reply(
    port: Port,
    chat_id: int,
    record: Record,
    reply: Reply,
    query: CallbackQuery | None,
    *,
    follow: FollowUp,
    results: ResultSender,
    today: dt.date,
) -> int | None:
    """Sends what the step decided; returns the id of the live message."""
    if reply.assess is not None:
        await send_assessment(
            port, chat_id, record, reply.assess, query, results=results, today=today
        )
        return record.live_message_id
    assert record.snapshot is not None
    snapshot = as_snapshot(record.snapshot)
    lang = snapshot.lang
    live = record.live_message_id
    if reply.intro:
        intro = str(messages.call(lang, "bot", reply.intro))
        welcome = reply.intro == "welcome"
        brand = brand_text(follow.settings, lang) if welcome else ""
        links = brand_buttons(follow.settings, lang) if welcome else ()
        await port.send(chat_id, f"{intro}\n\n{brand}" if brand else intro, links)
    if reply.explain:
        await port.send(chat_id, explanation(lang, reply.explain))
        return live
    if reply.note:
        await port.send(chat_id, messages.text(lang, "bot", reply.note))
        return live
    if reply.summary:
        await port.send(chat_id, summary_text(record.snapshot))
    pressed = query.message.message_id if query and isinstance(query.message, Message) else None
    if snapshot.state == RESULT and reply.entered_result:
        if pressed is not None:
            await port.clear_keyboard(chat_id, pressed)
        if live is not None and live != pressed:
            await port.clear_keyboard(chat_id, live)
        ev = evaluation_of(snapshot)
        offer = offer_after_result(
            follow.settings,
            lang,
            ev.verdict.value,
            FollowMeta.from_meta(record.meta),
            ev.next_audit,
        )
        assessment = pdf_part(record, today)
        return await results.send_result(port, chat_id, record.snapshot, offer, assessment)
    if snapshot.state == RESULT:  # a screen of the result: the summary unless one is asked
        screen = result_view(snapshot, *(reply.view or ("summary", 0)))
    else:
        screen = screen_for(snapshot, reply.hint)
    if reply.edit and pressed is not None:
        shown = await port.show(chat_id, screen, edit=pressed)
        if live is not None and live != shown:
            await port.clear_keyboard(chat_id, live)
        return shown
    if pressed is not None:
        await port.clear_keyboard(chat_id, pressed)
    shown = await port.show(chat_id, screen)
    if live is not None and live not in (shown, pressed):
        await port.clear_keyboard(chat_id, live)
    return shown


async def send_assessment(
    port: Port,
    chat_id: int,
    record: Record,
    reply: AssessReply,
    query: CallbackQuery | None,
    *,
    results: ResultSender,
    today: dt.date,
) -> None:
    """Sends a self-assessment step: its message, then its screen (in place of the pressed
    message, or as a new one); the assessment's screens leave the live message alone."""
    snapshot = record.snapshot
    lang = reply.lang
    if reply.said is not None:
        await port.send(chat_id, said_text(lang, snapshot, *reply.said))
    if reply.pdf and snapshot is not None:
        part = pdf_part(record, today)
        results.send_assessment_pdf(port, chat_id, snapshot, part or {})
    if reply.screen is None or snapshot is None:
        return
    if reply.screen == "summary":
        audit_on, reminders = screen_data(record)
        screen = summary_screen(snapshot, record.statuses, today, audit_on, reminders)
    else:
        screen = indicator_screen(snapshot, record.statuses, int(reply.screen))
    pressed = query.message.message_id if query and isinstance(query.message, Message) else None
    await port.show(chat_id, screen, edit=pressed if reply.edit else None)
