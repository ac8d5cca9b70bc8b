"""The follow-ups' jobs, run by every worker: audit reminders, owed lead alerts, the retention
purge. What they send is claimed in the store, so that one worker sends it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import messages
from bot import metrics
from bot.chat.assess import AssessMeta, at_result
from bot.config import Settings
from bot.consultancy.admin import notify_admins
from bot.consultancy.offer import brand_of
from bot.outbox import Out, Outbox, Unreachable
from bot.render.assessment import reminder_text
from bot.storage import Lead, Reminder, StorageError, Store
from flows.assessment import ASSESSMENT_REMINDERS

LOGGER = logging.getLogger("qualiopi_bot")
JOB_LEASE = dt.timedelta(minutes=10)
"""How long a worker holds what it is sending (another worker skips it)."""
LEAD_GRACE = dt.timedelta(minutes=2)
"""How long a lead's alert may take before the job sends it instead."""


class FollowUpJobs:
    """The jobs' side of ``FollowUp`` (which sets these attributes)."""

    store: Store
    settings: Settings
    now: Callable[[], dt.datetime]
    outbox_of: Callable[[Any], Outbox]

    async def send_due_reminders(self, context: object) -> None:
        """Sends every reminder that is due (a job; safe to run again after a restart)."""
        outbox = self.outbox_of(context)
        try:
            due = await self.store.claim_due_reminders(self.now().date(), JOB_LEASE)
        except StorageError as exc:
            LOGGER.error("reminders not checked: %s", exc)
            return
        for reminder in due:
            if reminder.kind in ASSESSMENT_REMINDERS:
                text = await self._assessment_reminder(reminder)
                if text is None:  # nothing to say any more (finished, all in place, erased)
                    await self.store.mark_sent(reminder.id)
                    metrics.JOB_ITEMS.labels("reminders", "skipped").inc()
                    continue
            else:
                text = messages.text(
                    reminder.language, "followup", "remind_message", kind=reminder.kind
                )
            try:
                await outbox.deliver(reminder.chat_id, Out(text, html=False))
            except Unreachable:  # blocked: not tried again (a later reminder still is)
                LOGGER.info("reminder %s dropped: its chat blocked the bot", reminder.id)
                await self.store.mark_sent(reminder.id)
                metrics.JOB_ITEMS.labels("reminders", "unreachable").inc()
                continue
            except Exception as exc:
                LOGGER.warning("reminder %s not sent: %s", reminder.id, exc)
                metrics.JOB_ITEMS.labels("reminders", "failed").inc()
                continue
            await self.store.mark_sent(reminder.id)
            metrics.JOB_ITEMS.labels("reminders", "sent").inc()

    async def _assessment_reminder(self, reminder: Reminder) -> str | None:
        """A self-assessment reminder, written from the statuses as they are today."""
        record = await self.store.record(reminder.chat_id)
        if not at_result(record) or record.snapshot is None:
            return None
        audit_on = AssessMeta.of(record.meta).audit_on
        today = self.now().date()
        return reminder_text(reminder.kind, record.snapshot, record.statuses, today, audit_on)

    async def send_owed_lead_alerts(self, context: object) -> None:
        """Tells the consultancy of leads whose alert did not go out (a job; each lead is
        claimed, so that with several workers one of them sends it)."""
        try:
            owed = await self.store.claim_unnotified_leads(self.now() - LEAD_GRACE, JOB_LEASE)
        except StorageError as exc:
            LOGGER.error("owed lead alerts not checked: %s", exc)
            return
        await self._alert(self.outbox_of(context), owed, "owed_lead_alerts")

    async def alert(self, outbox: Outbox, chat_id: int) -> None:
        """Tells the consultancy of the chat's new lead, once its step is committed. Not held:
        if this fails, the job sends it after ``LEAD_GRACE`` (no job takes a lead sooner)."""
        owed = await self.store.unnotified_leads(chat_id)
        await self._alert(outbox, owed, "lead_alerts")

    async def _alert(self, outbox: Outbox, owed: list[tuple[Lead, str]], job: str) -> None:
        brand = brand_of(self.settings)
        for lead, made in owed:
            record = await self.store.record(lead.chat_id)
            snapshot = record.snapshot if at_result(record) else None
            if snapshot is None:  # started again since: the lead's own answers, on its day
                snapshot = {"v": 1, "state": "result", "answers": lead.answers,
                            "lang": lead.language, "date": made[:10]}  # fmt: skip
            if await notify_admins(outbox, self.settings, brand, lead, snapshot, store=self.store):
                await self.store.leads_notified(lead.chat_id)
                metrics.JOB_ITEMS.labels(job, "sent").inc()
            else:
                metrics.JOB_ITEMS.labels(job, "failed").inc()

    async def purge(self, _: object = None) -> None:
        """Erases personal data older than the retention setting (a daily job)."""
        cutoff = self.now() - dt.timedelta(days=self.settings.data_retention_days)
        try:
            counts = await self.store.purge_before(cutoff)
        except StorageError as exc:
            LOGGER.error("retention purge failed: %s", exc)
            return
        LOGGER.info("retention purge: %s", counts)
        metrics.JOB_ITEMS.labels("purge", "erased").inc(sum(counts.values()))
