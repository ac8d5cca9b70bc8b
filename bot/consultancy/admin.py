"""The consultancy's side: its admin commands (/stats, /export) and the lead notifications."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import messages
from bot.config import Settings
from bot.consultancy import stats as stats_module
from bot.consultancy.export import export_all
from bot.consultancy.phone import for_chat
from bot.outbox import Out, Outbox, Unreachable
from bot.render.assessment import action_title
from bot.render.documents import Checklist
from bot.render.dossier import pack
from bot.render.screens import Button, answer_items, evaluation_of
from bot.render.workers import lay_out_dossier, render_pdf
from bot.storage import Lead, Store
from flows.advice import Evaluation

LOGGER = logging.getLogger("qualiopi_bot")
ADMIN_COMMANDS = ("stats", "export")


async def run_admin_command(
    outbox: Outbox,
    store: Store,
    *,
    today: dt.date,
    chat_id: int,
    command: str,
    args: tuple[str, ...],
    lang: str,
    zone: str = "Europe/Paris",
) -> None:
    """Answers /stats (figures and chart for a period) or /export (CSV files)."""
    if command == "stats":
        try:
            since, until = stats_module.period(args[0] if args else None, today)
        except ValueError:
            given = " ".join(args)[:50]
            await outbox.deliver(
                chat_id, Out(messages.text(lang, "stats", "bad_period", given=given), html=False)
            )
            return
        figures = stats_module.compute(await store.tallies(since, until), since, until)
        await outbox.deliver(chat_id, Out(stats_module.text(figures, lang)))
        png = await asyncio.to_thread(stats_module.chart_png, figures, lang)
        caption = messages.text(
            lang, "stats", "chart_caption", since=since, until=until, ready=bool(figures.assessed)
        )
        await outbox.send_photo(chat_id, png, caption)
        return
    for name, (content, count) in (await export_all(store, lang, zone)).items():
        caption = messages.text(lang, "stats", "export_caption", kind=name, count=count)
        await outbox.send_document(chat_id, content, f"qualiopi-{name}.csv", caption)


async def notify_admins(
    outbox: Outbox,
    settings: Settings,
    brand: Mapping[str, Any] | None,
    lead: Lead,
    snapshot: dict[str, Any],
    *,
    store: Store | None = None,
) -> bool:
    """Notifies every admin chat of a stored lead: its summary, the PDF, and what of their
    dossier de preuves the person agreed to send (read from ``store``). Returns whether every
    admin chat got the summary (else the alert is owed and sent again by a job)."""
    ev = evaluation_of(snapshot)
    admin_lang = settings.default_language
    made = str(snapshot.get("date") or "")
    dossier = await _dossier(store, lead, admin_lang, made) if lead.dossier and store else None
    summary = messages.call(
    admin_lang, "followup", "admin_lead", lead=lead,
    phone=for_chat(lead.phone) if lead.phone else None, answers=answer_items(lead.answers),
    verdict=messages.text(admin_lang, "stats", "verdict", verdict=lead.verdict),
    count=lead.indicator_count, total=len(ev.referential.indicators),
    readiness=_readiness_line(admin_lang, ev, lead),
    dossier=dossier[0] if dossier else "",
)  # fmt: skip
    try:
        today = dt.datetime.now(dt.UTC).date()  # for a result stored without its day
        order = Checklist.of({**snapshot, "lang": admin_lang}, today, brand)
        pdf: bytes | None = await render_pdf(order)
    except Exception as exc:  # the consultancy still gets the lead, without its PDF
        LOGGER.error("lead PDF not made: %s", exc)
        pdf = None
    verdict = messages.text(admin_lang, "stats", "verdict", verdict=lead.verdict)
    filename = messages.text(
        admin_lang, "followup", "lead_pdf_filename", who=_who(lead), day=snapshot.get("date") or ""
    )
    caption = messages.text(
        admin_lang, "followup", "lead_pdf_caption", name=lead.name, verdict=verdict
    )
    open_chat = Button(
        messages.text(admin_lang, "followup", "open_chat_button"),
        "",
        f"tg://user?id={lead.chat_id}",
    )
    told = True
    for place, admin in enumerate(sorted(settings.admin_chat_ids), 1):
        try:
            try:  # a button that opens the person's chat, when their privacy settings allow it
                await outbox.deliver(admin, Out(summary, ((open_chat,),)))
            except Unreachable:
                raise
            except Exception as exc:
                LOGGER.info("lead alert without the chat button: %s", exc)
                await outbox.deliver(admin, Out(summary))
            if pdf is not None:
                await outbox.send_document(admin, pdf, filename, caption)
            for content, name, about in dossier[1] if dossier else ():
                await outbox.send_document(admin, content, name, about)
        except Unreachable:  # not sent again to the others for its sake: it would not change
            LOGGER.error("admin chat %d of ADMIN_CHAT_IDS (in order) blocked the bot", place)
        except Exception as exc:
            LOGGER.error("could not notify admin chat: %s", exc)
            told = False
    return told


async def _dossier(
    store: Store, lead: Lead, lang: str, made: str
) -> tuple[str, list[tuple[bytes, str, str]]] | None:
    """What of the person's dossier de preuves the lead carries, as they agreed: its line in
    the alert and its documents (the index PDF, or the ZIP). None when it is gone."""
    record = await store.record(lead.chat_id)
    files = await store.evidence_files(lead.chat_id)
    if record.snapshot is None or not files:
        return None
    snapshot = {**record.snapshot, "lang": lang}
    try:  # the day the lead was made, as its checklist says
        today = dt.date.fromisoformat(made)
    except ValueError:
        today = dt.datetime.now(dt.UTC).date()
    placed, index = await lay_out_dossier(snapshot, record.statuses, files, today)
    choice = str(lead.dossier)
    with_evidence = len({e.indicator for _, e, _ in placed})
    total = lead.indicator_count
    line = messages.text(
        lang, "followup", "lead_dossier_line",
        choice=choice, with_evidence=with_evidence, total=total,
    )  # fmt: skip
    name = messages.text(
        lang, "followup", "lead_dossier_filename",
        who=_who(lead), day=today.isoformat(), choice=choice,
    )  # fmt: skip
    caption = messages.text(
        lang, "followup", "lead_dossier_caption", name=lead.name, choice=choice
    )
    if choice == "index":
        return line, [(index, name, caption)]
    try:
        parts = await asyncio.to_thread(pack, lang, placed, index)
    except ValueError:  # a piece over what a bot may send: the index still goes
        return line, [(index, name.removesuffix(".zip") + ".pdf", caption)]
    if len(parts) == 1:
        return line, [(parts[0], name, caption)]
    return line, [
        (part, name.removesuffix(".zip") + f"-{n}.zip", f"{caption} ({n}/{len(parts)})")
        for n, part in enumerate(parts, start=1)
    ]


def _who(lead: Lead) -> str:
    """The lead in a file name safe on every system: its name (else the e-mail's local part,
    else the phone number) in plain ASCII letters, digits and dashes."""
    given = lead.name or (lead.email or "").split("@")[0] or lead.phone or ""
    plain = unicodedata.normalize("NFKD", given).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", plain.lower()))[:40].strip("-") or "lead"


def _readiness_line(lang: str, ev: Evaluation, lead: Lead) -> str:
    """The lead's self-assessment: readiness and first actions (empty without one)."""
    if lead.readiness is None:
        return ""
    ref = ev.referential
    actions = [action_title(ref, n, lang) for n in lead.first_actions if n in ref.numbers]
    return messages.text(
        lang, "assessment", "lead_line", readiness=lead.readiness, actions=actions
    )
