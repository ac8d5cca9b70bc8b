"""Carrying out what a step owes a chat (``bot.plan`` actions, held in the store's outbox),
in order, then recording it said.

A message Telegram took but whose recording failed is recorded again, not sent again; one
that Telegram did not take (the network, the Bot API down) stays owed, and the owed-replies
job says it once the hold on it expires. An action Telegram refuses for good (a message that
cannot be edited and cannot be sent, a chat that blocked the bot) is dropped: retrying it
would fail the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from telegram.error import BadRequest, NetworkError, RetryAfter

import messages
from bot.consultancy.followup import FollowUp
from bot.outbox import Unreachable
from bot.plan import Action, Clear, Dossier, Follow, Pdf, Send, Show, from_json
from bot.render.dossier import pack
from bot.render.screens import Screen
from bot.render.workers import lay_out_dossier
from bot.storage import Owed, StorageError, Store
from bot.telegram.logref import chat_ref
from bot.telegram.port import Port
from bot.telegram.results import RECORD_RETRIES, ResultSender
from bot.telegram.unreachable import drop_owed

LOGGER = logging.getLogger("qualiopi_bot")


class Delivery:
    """Says a chat's owed replies through the port and records them said."""

    def __init__(
        self,
        store: Store,
        results: ResultSender,
        follow: FollowUp,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.store = store
        self.results = results
        self.today = today
        self.follow = follow
        """Who says the follow-ups that read the store (``Follow`` actions)."""

    async def say(self, port: Port, chat_id: int, owed: Sequence[Owed]) -> None:
        """Carries out the owed actions in order; stops at the first one Telegram could not
        take (it stays owed, and so do those after it, so that order holds)."""
        said: list[int] = []
        unsaid: list[int] = []
        live: int | None = None
        set_live = False
        for row, data in owed:
            try:
                action = from_json(data)
            except (ValueError, KeyError, TypeError):
                LOGGER.error("an owed reply of chat %s is unreadable: dropped", chat_ref(chat_id))
                said.append(row)
                continue
            try:
                shown = await self._do(port, chat_id, action)
            except Unreachable:
                await drop_owed(self.store, chat_id)
                return
            except BadRequest as exc:
                LOGGER.warning("a reply to chat %s refused (%s): dropped", chat_ref(chat_id), exc)
                said.append(row)
                continue
            except (RetryAfter, NetworkError, StorageError) as exc:
                LOGGER.warning(
                    "a reply to chat %s stays owed (%s)", chat_ref(chat_id), type(exc).__name__
                )
                unsaid = [r for r, _ in owed if r not in said]
                break
            said.append(row)
            if isinstance(action, Show) and action.live:
                # edited in place: the step recorded that message as live already
                live, set_live = shown, shown != action.edit
        await self._record(chat_id, said, live, set_live, unsaid)

    async def _do(self, port: Port, chat_id: int, action: Action) -> int | None:
        """One action; returns the id of the message a screen ended up in."""
        if isinstance(action, Send):
            if action.html and action.ask_contact is None and not action.clear_keyboard:
                return await port.send(chat_id, action.text, action.buttons)
            return await port.deliver(chat_id, action.out())
        if isinstance(action, Show):
            shown = await port.show(chat_id, Screen(action.text, action.buttons), edit=action.edit)
            for older in action.retire:
                if older != shown:
                    await port.clear_keyboard(chat_id, older)
            return shown
        if isinstance(action, Clear):
            await port.clear_keyboard(
                chat_id, action.message_id, keep=action.buttons, text=action.text
            )
            return None
        if isinstance(action, Follow):
            await self.follow.carry_out(action, chat_id, port)
            return None
        if isinstance(action, Dossier):
            await self._send_dossier(port, chat_id, action.lang)
            return None
        assert isinstance(action, Pdf)
        self.results.send_pdf_later(
            port, chat_id, dict(action.snapshot), action.offer, _plain(action.assessment)
        )
        return None

    async def _send_dossier(self, port: Port, chat_id: int, lang: str) -> None:
        """Builds the dossier from what the store holds now and sends it, split when larger
        than a bot may send: the index PDF in a worker process, the ZIP in a thread."""
        record = await self.store.record(chat_id)
        files = await self.store.evidence_files(chat_id)
        if record.snapshot is None or not files:
            await port.send(chat_id, messages.text(lang, "evidence", "empty"))
            return
        today = self.today()
        placed, index = await lay_out_dossier(record.snapshot, record.statuses, files, today)
        try:
            parts = await asyncio.to_thread(pack, lang, placed, index)
        except ValueError:  # one piece alone is over what Telegram takes from a bot
            await port.send(chat_id, messages.text(lang, "evidence", "too_large_to_send"))
            return
        for number, content in enumerate(parts, start=1):
            name = messages.text(
                lang, "evidence", "zip_name", day=today.isoformat(), part=number, parts=len(parts)
            )
            caption = messages.text(lang, "evidence", "zip_caption", part=number, parts=len(parts))
            await port.send_document(chat_id, content, name, caption)

    async def _record(
        self, chat_id: int, said: list[int], live: int | None, set_live: bool, unsaid: list[int]
    ) -> None:
        """Records what was said; retried while the database is away, so that nothing said
        is said again (past the retries, the hold expires and it may be said twice)."""
        for pause in (*RECORD_RETRIES, None):
            try:
                await self.store.said(chat_id, said, live, set_live=set_live, unsaid=unsaid)
                return
            except StorageError as exc:
                if pause is None:
                    LOGGER.error(
                        "replies said to chat %s not recorded: %s", chat_ref(chat_id), exc
                    )
                    return
                await asyncio.sleep(pause)


def _plain(assessment: object) -> dict[str, object] | None:
    return dict(assessment) if isinstance(assessment, dict) else None
