"""Sending what a step decided: the new screen (edited in place when a button was pressed),
or the result and, after it, the PDF and the consultancy's offer."""

from __future__ import annotations

from telegram import (
    CallbackQuery,
    Message,
)

import messages
from bot.consultancy.followup import FollowUp
from bot.consultancy.meta import FollowMeta
from bot.consultancy.offer import brand_buttons, brand_text, offer_after_result
from bot.conversation import Reply, summary_text
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
) -> int | None:
    """Sends what the step decided; returns the id of the live message."""
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
        return await results.send_result(port, chat_id, record.snapshot, offer)
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
