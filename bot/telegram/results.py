"""The result's PDF and the consultancy's offer, sent after the result without holding an
update slot; PDFs owed after a stop or a refusal are sent by a job."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from markupsafe import Markup
from telegram.ext import (
    ContextTypes,
)

import messages
from bot import metrics
from bot.chat.assess import pdf_part
from bot.outbox import Out, Unreachable
from bot.render.documents import Checklist
from bot.render.workers import render_pdf
from bot.storage import (
    StorageError,
    Store,
)
from bot.telegram.logref import chat_ref
from bot.telegram.port import Port
from bot.telegram.ratelimit import background
from bot.telegram.unreachable import drop_owed
from flows.flow import RESULT

LOGGER = logging.getLogger("qualiopi_bot")
RECORD_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds between attempts at recording a PDF sent while the database is away."""
PDF_GRACE = dt.timedelta(minutes=10)
"""How long a result's PDF may take before the owed-PDF job sends it (bursts queue PDFs)."""


class ResultSender:
    """Sends results: the text at once, the PDF and the offer in the background."""

    def __init__(
        self,
        store: Store,
        brand: Callable[[], Mapping[str, Any] | None],
        now: Callable[[], dt.datetime],
    ) -> None:
        self.store = store
        self.brand = brand
        self.now = now
        self._background: set[asyncio.Task[Any]] = set()
        self._pdf_in_flight: set[int] = set()
        self._sent_unrecorded: set[int] = set()
        """Chats whose PDF Telegram took but the database did not record yet."""

    def send_pdf_later(
        self,
        port: Port,
        chat_id: int,
        snapshot: dict[str, Any],
        offer: Out | None,
        assessment: dict[str, Any] | None,
    ) -> None:
        """Sends, in the background, the checklist PDF (with the self-assessment, if any),
        then the consultancy's offer (contact, reminders) if any."""
        self._in_background(self._send_pdf(port, chat_id, snapshot, offer, assessment))

    async def _send_pdf(
        self,
        port: Port,
        chat_id: int,
        snapshot: dict[str, Any],
        offer: Out | None,
        assessment: dict[str, Any] | None = None,
    ) -> None:
        """Builds the checklist PDF (in the worker process) and sends it, then the offer. The
        offer goes out even when the PDF could not (the owed-PDF job sends it later)."""
        lang = snapshot["lang"]
        self._pdf_in_flight.add(chat_id)
        metrics.PDF_QUEUE.inc()
        try:
            if chat_id not in self._sent_unrecorded:
                order = Checklist.of(snapshot, self.now().date(), self.brand(), assessment)
                content = await render_pdf(order)
                assessed = bool(assessment and assessment.get("statuses"))
                day = (assessment or {}).get("today") or snapshot.get("date") or ""
                name = messages.text(lang, "bot", "pdf_filename", day=day, assessed=assessed)
                caption = messages.call(lang, "bot", "pdf_caption", assessed=assessed)
                joined = _with_offer(caption, offer)
                if joined is not None and offer is not None:  # one message: PDF and offer
                    buttons = offer.buttons
                    await port.send_document(chat_id, content, name, joined, buttons, html=True)
                    offer = None
                else:
                    await port.send_document(chat_id, content, name, messages.to_plain(caption))
                self._sent_unrecorded.add(chat_id)
            await self._record_sent(chat_id)
        except Unreachable:
            await drop_owed(self.store, chat_id)
            return
        except Exception as exc:  # a background task: nobody else would see it
            LOGGER.error("PDF for chat %s not sent: %s", chat_ref(chat_id), exc, exc_info=exc)
        finally:
            metrics.PDF_QUEUE.dec()
            self._pdf_in_flight.discard(chat_id)
        if offer is not None:
            try:
                await port.deliver(chat_id, offer)
            except Unreachable:
                await drop_owed(self.store, chat_id)
            except Exception as exc:
                LOGGER.error("offer to chat %s not sent: %s", chat_ref(chat_id), exc)

    async def _record_sent(self, chat_id: int) -> None:
        """Records the PDF sent, again while the database is away: a PDF Telegram took is
        recorded, never sent again by this process (the owed-PDF job finds it in
        ``_sent_unrecorded`` and only records it)."""
        for pause in (*RECORD_RETRIES, None):
            try:
                await self.store.pdf_sent(chat_id)
            except StorageError:
                if pause is None:
                    raise
                await asyncio.sleep(pause)
                continue
            self._sent_unrecorded.discard(chat_id)
            return

    async def resend_owed_pdfs(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Sends the result PDFs still owed (a job): the process stopped or was killed between
        a result and its PDF, or Telegram refused the file. Waits ``PDF_GRACE`` first, so that
        a PDF queued behind a burst of results is not sent twice, and claims each owed PDF, so
        that with several workers one of them sends it."""
        try:
            due = await self.store.claim_owed_pdfs(self.now() - PDF_GRACE, PDF_GRACE)
        except StorageError as exc:
            LOGGER.error("owed PDFs not checked: %s", exc)
            return
        port = Port(context.application)
        for chat_id, snapshot in due:
            if chat_id in self._pdf_in_flight:
                continue
            if snapshot.get("state") != RESULT:  # started again since: nothing is owed
                await self.store.pdf_sent(chat_id)
                continue
            LOGGER.info("sending an owed PDF to chat %s", chat_ref(chat_id))
            metrics.JOB_ITEMS.labels("owed_pdfs", "sent").inc()
            try:  # the self-assessment goes in the PDF, as in the one that was not sent
                assessment = pdf_part(await self.store.record(chat_id), self.now().date())
            except StorageError:
                assessment = None
            await self._send_pdf(port, chat_id, snapshot, None, assessment)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs work after the update is done, so that it holds none of the update slots.

        The PDF takes ~120 ms of CPU in the worker process: when many people reach their
        result at once, waiting for it inside the update filled every slot, and everybody else's
        taps queued behind PDFs (measured: 5,000 trainers, the bot idle 70 % of the time).
        Its requests are background work (``ratelimit.background``): taps go first. A clean
        stop waits for these tasks (``settle_background``, run after the application
        stops and before it shuts down), so the PDFs in hand still go out.
        """
        with background():  # its requests let the taps' requests go first
            task = asyncio.get_running_loop().create_task(work, name="qualiopi-background")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Waits until the background work (PDFs) is done."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def _with_offer(caption: str, offer: Out | None) -> Markup | None:
    """The PDF's caption followed by the offer, when the offer fits a caption (inline buttons
    only, within Telegram's caption length); else None, and the offer goes on its own."""
    if offer is None or offer.ask_contact is not None or offer.clear_keyboard or not offer.html:
        return None
    joined = messages.join("\n\n", (caption, offer.text))
    return joined if messages.telegram_length(joined) <= messages.CAPTION_LIMIT else None
