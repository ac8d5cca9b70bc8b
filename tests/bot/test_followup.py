"""For consultancies and privacy: leads with consent, admin commands, data rights, reminders."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from bot.chat.tracking import track
from bot.cli import main
from bot.consultancy import stats
from bot.consultancy.reminders import add_months, reminder_dates
from bot.storage import MIGRATIONS, Change, Tally
from tests.answers import INDEPENDENT_OPCO_PRESSES
from tests.bot.fakes import FakeBotAPI, Person, make_app, settle
from tests.bot.stores import SQLiteStore

ADMIN = 7000
BRAND = {
    "consultancy_name": "Cabinet Dupont & Associés",
    "consultancy_presentation": "Conseil Qualiopi depuis 2019.",
    "consultancy_contact_url": "mailto:contact@dupont.example",
    "consultancy_booking_url": "https://rdv.dupont.example",
}
Ctx = tuple[Any, FakeBotAPI, SQLiteStore]


@pytest.fixture
async def bot(tmp_path: Path, store: Any) -> AsyncIterator[Ctx]:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, admin_chat_ids=frozenset({ADMIN}), **BRAND)
    async with app:
        yield app, api, store


async def finish(p: Person, source: str | None = None) -> None:
    """Answers as an independent trainer paid by an OPCO, to the result."""
    await p.say(f"/start {source}" if source else "/start")
    for data in INDEPENDENT_OPCO_PRESSES:
        await p.press(data)


async def agree_to_be_contacted(p: Person) -> None:
    """From the offer after the result: "yes", then agreeing to the consent text."""
    await p.press("lead:yes", offer(p).message_id)
    await p.press("lead:agree")


def two_workers(store: Any, tmp_path: Path) -> tuple[Any, tuple[Any, Any], tuple[Any, Any]]:
    """Two bot processes' worth (application, fake Bot API) on one database, as for leads."""
    from tests.bot.test_storage import second_connection

    other = second_connection(store, tmp_path)
    admins = frozenset({ADMIN})
    workers = []
    for own in (store, other):
        api = FakeBotAPI()
        app, _ = make_app(tmp_path, api, own, admin_chat_ids=admins, **BRAND)
        workers.append((app, api))
    return other, workers[0], workers[1]


def offer(p: Person) -> Any:
    return next(
        m
        for m in reversed(p.api.chat(p.chat_id))
        if "lead:yes" in m.data() or "remind:yes" in m.data()
    )


async def test_the_brand_appears_in_the_welcome_after_the_result_and_in_the_pdf(bot: Ctx) -> None:
    p = Person(bot[0], bot[1], 42)
    await finish(p)
    texts = p.texts()
    assert "Cabinet Dupont &amp; Associés" in texts[0]
    assert "https://rdv.dupont.example" in offer(p).data(), "the booking link is a button"
    assert "Associés</b>\nConseil Qualiopi" in texts[0], "name and presentation on their lines"
    assert "Associés</b>\nConseil Qualiopi" in offer(p).text
    pdf = next(m for m in p.api.chat(42) if m.document is not None).document
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Cabinet Dupont & Associés" in text


async def test_consent_refused_is_respected_and_never_asked_again(bot: Ctx) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    assert "lead:yes" in offer(p).data()
    await p.press("lead:no", offer(p).message_id)
    assert "ne vous le proposerons plus" in p.texts()[-1]
    assert await store.rows("leads") == []
    await p.say("/restart")
    await finish(p)
    assert "lead:yes" not in offer(p).data()
    assert not [c for c in api.of("sendMessage") if int(c["chat_id"]) == ADMIN]


async def test_after_a_no_the_person_can_still_ask_to_be_contacted(bot: Ctx) -> None:
    """ "Non merci" stops the offer for good, but a person who asks for the advisor later is
    heard: /conseiller at the result has the "yes" (it had none after a "no", and its text
    pointed at buttons that were not there), and the lead goes through."""
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    await p.press("lead:no", offer(p).message_id)
    assert "Si vous changez d’avis\xa0: /conseiller" in p.texts()[-1]
    await p.say("/conseiller")
    advisor = p.api.chat(42)[-1]
    assert "lead:yes" in advisor.data()
    await p.press("lead:yes", advisor.message_id)
    await p.press("lead:agree")
    await p.say("camille.martin@example.fr")
    await p.press("lead:skip")
    await p.press("lead:skip")
    assert len(await store.rows("leads")) == 1
    await p.say("/restart")
    await finish(p)
    assert "lead:yes" not in offer(p).data(), "still never offered unasked"


async def test_consent_given_then_a_lead_reaches_the_admins(bot: Ctx) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p, source="salon_lyon")
    await p.press("lead:yes", offer(p).message_id)
    consent = p.texts()[-1]
    assert "Cabinet Dupont &amp; Associés recevra" in consent
    assert "365 jours" in consent
    assert "/supprimer" in consent
    assert await store.rows("leads") == [], "nothing is sent before an explicit agreement"
    await p.press("lead:agree")
    ask = p.last()
    assert ask.reply_keyboard[0][0]["request_contact"] is True
    await p.say("camille at example")
    assert "ne semble pas valide" in p.texts()[-1]
    await p.say("camille.martin@example.fr")
    await p.say("Camille Martin")
    await p.press("lead:skip")
    assert "vous recontactera" in p.texts()[-1]
    [lead] = await store.rows("leads")
    assert lead["email"] == "camille.martin@example.fr"
    assert lead["name"] == "Camille Martin"
    assert lead["message"] is None
    assert (lead["verdict"], lead["indicator_count"], lead["language"], lead["source"]) == (
        "required",
        22,
        "fr",
        "salon_lyon",
    )
    assert json.loads(lead["answers"])["funders"] == ["opco"]
    admin = api.chat(ADMIN)
    summary = next(m.text for m in admin if m.document is None)
    for needle in (
        "Camille Martin",
        "camille.martin@example.fr",
        "Obligatoire",
        "22 indicateurs",
        "salon_lyon",
    ):
        assert needle in summary
    pdf = next(m for m in admin if m.document is not None)
    assert pdf.document.startswith(b"%PDF-")
    assert pdf.filename.startswith("contact-camille-martin-checklist-"), "the lead's own file"
    assert pdf.text == "Checklist de Camille Martin (Obligatoire)"
    alert = next(m for m in admin if m.document is None)
    assert "tg://user?id=42" in alert.data(), "the consultant opens the person's chat in a tap"


async def test_a_shared_phone_number_must_be_the_persons_own(bot: Ctx) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    await agree_to_be_contacted(p)
    await p.share_contact("+33600000000", owner=999_999)
    assert "votre propre numéro" in p.texts()[-1]
    await p.share_contact("+33612345678")
    await p.press("lead:skip")
    await p.say("Je lance mon activité en janvier.")
    [lead] = await store.rows("leads")
    assert (lead["phone"], lead["message"]) == (
        "+33612345678",
        "Je lance mon activité en janvier.",
    )
    alert = next(m.text for m in api.chat(ADMIN) if m.document is None)
    assert "Téléphone\u00a0: +33 6 12 34 56 78" in alert, "grouped, as a consultant dials it"
    assert "<b>Ses réponses</b>" in alert
    assert "• Financeurs\u00a0: OPCO" in alert, "the answers come with the lead"
    assert "• Formations de plus de 2 jours\u00a0: Oui" in alert
    pdf = next(m for m in api.chat(ADMIN) if m.document is not None)
    assert pdf.filename.startswith("contact-33612345678-checklist-"), "named by the number"
    await Person(app, api, ADMIN).say("/export")
    sheet = next(m.document for m in api.chat(ADMIN) if m.filename == "qualiopi-leads.csv")
    rows = list(csv.reader(io.StringIO(sheet.decode("utf-8-sig")), delimiter=";"))
    assert dict(zip(rows[0], rows[1], strict=True))["Téléphone"] == "06 12 34 56 78", (
        "as dialled from France: kept as text, leading 0 and all"
    )


@pytest.mark.parametrize(
    ("shared", "chat", "sheet"),
    [
        ("+33612345678", "+33 6 12 34 56 78", "06 12 34 56 78"),
        ("33612345678", "+33 6 12 34 56 78", "06 12 34 56 78"),
        ("+442079460958", "+44 20 7946 0958", "00 44 20 7946 0958"),
        ("+262692123456", "+262 692 12 34 56", "0692 12 34 56"),
        ("12", "12", None),
    ],
)
def test_phone_numbers_are_shown_as_a_consultant_dials_them(
    shared: str, chat: str, sheet: str | None
) -> None:
    from bot.consultancy.phone import for_chat, for_sheet

    assert (for_chat(shared), for_sheet(shared)) == (chat, sheet)


async def not_concerned(p: Person) -> None:
    """An independent whose only activity is leisure classes, to the result."""
    await p.say("/start")
    await p.tap("Formateur ou consultant")
    await p.tap("Rien de cela")
    await p.tap("Valider")
    await p.tap("Voir le résultat")


@pytest.mark.parametrize("offered", [False, True])
async def test_a_person_qualiopi_does_not_concern_gets_no_checklist_and_no_sales_pitch(
    tmp_path: Path, store: Any, offered: bool
) -> None:
    """Told "not concerned", a person gets the answer and its reasons: no empty checklist PDF,
    no "touch a criterion", and the consultancy's offer only if it asked for it."""
    api = FakeBotAPI()
    app, _ = make_app(
        tmp_path,
        api,
        store,
        admin_chat_ids=frozenset({ADMIN}),
        offer_not_concerned=offered,
        **BRAND,
    )
    async with app:
        p = Person(app, api, 42)
        await not_concerned(p)
        summary = next(m for m in api.chat(42) if "ne s’applique pas" in m.text)
        assert "Pas de checklist à préparer" in summary.text
        assert "Touchez un critère" not in summary.text
        assert not any(d.removeprefix("res:").isdigit() for d in summary.data())
        assert not any(m.document is not None for m in api.chat(42)), "no PDF of nothing"
        assert any("lead:yes" in m.data() for m in api.chat(42)) is offered
        assert not any("remind:yes" in m.data() for m in api.chat(42)), "no audits to remind"
        await p.say("/checklist")
        assert "pas d’indicateurs à préparer" in p.texts()[-1]
        assert "terminez d’abord" not in p.texts()[-1]
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
        assert await store.pdfs_due(later) == [], "and none owed for later"


async def test_agreeing_without_an_offer_sends_nothing(bot: Ctx) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await p.say("/start")
    await p.press("lead:agree")
    await p.say("camille.martin@example.fr")
    assert await store.rows("leads") == []
    assert (await store.load(42)).snapshot["answers"] == {}


@pytest.mark.parametrize("command", ["/stats", "/export"])
async def test_admin_commands_do_not_exist_for_other_people(bot: Ctx, command: str) -> None:
    app, api, _ = bot
    p = Person(app, api, 42)
    await p.say("/start")
    await p.say(command)
    assert "Répondez avec les boutons" in p.live().text
    assert not any(m.document or m.photo for m in api.chat(42))
    assert not any("Statistiques" in t for t in p.texts())


async def test_stats_in_an_admin_chat_with_a_chart(bot: Ctx) -> None:
    app, api, _ = bot
    await finish(Person(app, api, 42, "en"), source="newsletter")
    half = Person(app, api, 43)
    await half.say("/start")
    await half.press("ans:role:independent")
    admin = Person(app, api, ADMIN)
    await admin.say("/stats")
    text = next(t for t in admin.texts() if "Statistiques" in t)
    assert "Commencés\u00a0: 2" in text
    assert "Terminés\u00a0: 1 (50\u202f%)" in text
    assert "Obligatoire\u00a0: 1" in text
    assert "newsletter\u00a0: 1 · 1 · 0" in text
    assert "sans lien de suivi (accès direct)\u00a0: 1 · 0 · 0" in text, "no deep link, named"
    assert "• Prestations\u00a0: 2 · 1" in text, "both reached the services question, one stopped"
    chart = next(m for m in api.chat(ADMIN) if m.photo)
    assert chart.photo.startswith(b"\x89PNG")
    assert chart.text.startswith("📊 Statistiques du ")
    assert chart.text.endswith("\u00a0: parcours, verdicts.")
    await admin.say("/stats nonsense")
    assert "Période non comprise" in admin.texts()[-1]


async def test_export_sends_two_csv_files_a_french_spreadsheet_opens(bot: Ctx) -> None:
    app, api, _store = bot
    p = Person(app, api, 42)
    await finish(p)
    await agree_to_be_contacted(p)
    await p.say("camille.martin@example.fr")
    await p.say('=HYPERLINK("x")')
    await p.press("lead:skip")
    await Person(app, api, ADMIN).say("/export")
    files = {
        m.filename: m.document
        for m in api.chat(ADMIN)
        if m.filename and m.filename.endswith(".csv")
    }
    assert set(files) == {"qualiopi-leads.csv", "qualiopi-questionnaires.csv"}
    leads = files["qualiopi-leads.csv"]
    assert leads.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(leads.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:5] == ["N°", "Reçu le", "Statut (à remplir)", "Nom", "Téléphone"]
    lead = dict(zip(header, rows[1], strict=True))
    assert lead["E-mail"] == "camille.martin@example.fr"
    assert lead["Nom"].startswith("'="), "a typed formula is never run by the spreadsheet"
    assert lead["Verdict"] == "Obligatoire", "verdicts in words"
    assert lead["Financeurs"] == "OPCO", "one column per question, answers in words"
    assert lead["Statut (à remplir)"] == ""
    received = dt.datetime.strptime(lead["Reçu le"], "%Y-%m-%d %H:%M")
    paris = dt.datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    assert abs((paris - received).total_seconds()) < 300, "times in the consultancy's zone"
    done = list(
        csv.reader(
            io.StringIO(files["qualiopi-questionnaires.csv"].decode("utf-8-sig")), delimiter=";"
        )
    )
    questionnaire = dict(zip(done[0], done[1], strict=True))
    assert questionnaire["Verdict"] == "Obligatoire"
    assert questionnaire["Prestations"] == "Actions de formation"
    assert questionnaire["Établissement"] == "", "a question not asked stays empty"


async def test_delete_leaves_nothing_behind_but_statistics_keep_working(bot: Ctx) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    await p.press("remind:yes", offer(p).message_id)
    await p.say("15/03/2026")
    await p.press("remind:day:2026-03-15", p.last().message_id)
    await agree_to_be_contacted(p)
    await p.say("camille.martin@example.fr")
    await p.press("lead:skip")
    await p.press("lead:skip")
    await p.say("/checklist")
    await p.press("chk:1:done")
    await p.press("chk:2:partial")
    held = await store.dump_chat(42)
    tables = ("conversations", "questionnaires", "leads", "reminders", "assessments")
    assert all(held[t] for t in tables)
    await p.say("/privacy")
    shown = p.texts()[-1]
    assert "1 demande(s) de contact, 2 rappel(s), 2 indicateur(s) auto-évalué(s)" in shown
    assert "Auto-évaluation\u00a0: 2 indicateur(s) évalué(s), dont 1 en place" in shown
    assert "camille.martin@example.fr" in shown
    assert "Financeurs\u00a0: OPCO" in shown
    assert "Rappel le 15 mai 2027" in shown
    await p.say("/delete")
    await p.press("del:no", p.last().message_id)
    assert "Rien n’a été effacé" in p.texts()[-1]
    await p.say("/delete")
    await p.press("del:yes", p.last().message_id)
    assert "Effacé de ce bot" in p.texts()[-1]
    assert "2 statut(s) d’auto-évaluation" in p.texts()[-1]
    assert "demandez-lui de les effacer" in p.texts()[-1], "what it cannot erase is said"
    assert await store.dump_chat(42) == {t: [] for t in (*tables, "evidence")}
    figures = stats.compute(await store.tallies(None, None), None, None)
    assert (figures.started, figures.completed, figures.leads) == (1, 1, 1)


async def test_retention_purge_erases_old_personal_data_only(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bot.sqlite3")
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, data_retention_days=30)
    async with app:
        await finish(Person(app, api, 1))
        await finish(Person(app, api, 2))
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).isoformat(timespec="seconds")
        with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
            conn.execute("UPDATE conversations SET updated_at = ? WHERE chat_id = 1", (old,))
            conn.execute("UPDATE questionnaires SET completed_at = ? WHERE chat_id = 1", (old,))
        for chat in (1, 2):  # each asked for reminders of audits years ahead
            due = [(dt.date(2029, 5, 15), "surveillance")]
            await store.update(chat, 99, lambda r, d=due: (Change(r, reminders=("fr", d)), None))
        with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
            conn.execute("UPDATE conversations SET updated_at = ? WHERE chat_id = 1", (old,))
        handlers = app.handlers[0][0].callback.__self__
        await handlers.follow.purge(None)
        before = {chat: len(api.chat(chat)) for chat in (1, 2)}
        handlers.follow.now = lambda: dt.datetime(2029, 5, 16, 9, tzinfo=dt.UTC)
        await handlers.follow.send_due_reminders(app)
    assert (await store.load(1)).snapshot is None
    assert (await store.load(2)).snapshot is not None
    assert len(api.chat(1)) == before[1], "the purged person's reminder went with them"
    assert len(api.chat(2)) == before[2] + 1, "the other's is sent"
    assert [r["chat_id"] for r in await store.rows("questionnaires")] == [2]
    assert stats.compute(await store.tallies(None, None), None, None).completed == 2
    await store.close()


def test_reminder_dates_follow_the_audit_cycle() -> None:
    assert reminder_dates(dt.date(2026, 3, 15)) == [
        (dt.date(2027, 5, 15), "surveillance"),
        (dt.date(2028, 7, 15), "renewal"),  # 28th month: 8 months before the 3rd anniversary
    ]
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


async def test_reminders_are_stored_and_sent_after_a_restart(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    async with app:
        p = Person(app, api, 42)
        await finish(p)
        await p.press("remind:yes", offer(p).message_id)
        await p.say("un de ces jours")
        assert "Je n’ai pas compris cette date" in p.texts()[-1]
        await p.say("mars 2026")  # no day: the 1st, read back before it is used
        assert "Je lis\u00a0: le 1er mars 2026." in p.texts()[-1]
        await p.press("remind:yes", p.last().message_id)  # "no, let me fix it"
        await p.say("le 15 mars 2026")
        read_back = p.last()
        assert read_back.data() == ["remind:day:2026-03-15", "remind:yes"]
        assert await store.pending_reminders(42) == [], "nothing set before the person agrees"
        await p.press("remind:day:2026-03-15", read_back.message_id)
        assert "15 mai 2027" in p.texts()[-1]
        assert "15 juillet 2028" in p.texts()[-1]
    await store.close()

    later = FakeBotAPI()
    store = SQLiteStore(tmp_path / "bot.sqlite3")
    app, _ = make_app(tmp_path, later, store)
    async with app:
        follow = app.handlers[0][0].callback.__self__.follow
        follow.now = lambda: dt.datetime(2027, 5, 16, 9, tzinfo=dt.UTC)
        await follow.send_due_reminders(app)
        await follow.send_due_reminders(app)
    sent = [m.text for m in later.chat(42)]
    assert len(sent) == 1
    assert "audit de surveillance" in sent[0]
    assert [r.kind for r in await store.pending_reminders(42)] == ["renewal"]
    await store.close()


def test_tallies_follow_a_conversation() -> None:
    now = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    start = {"v": 1, "state": "role", "answers": {}, "lang": "fr"}
    meta, tallies = track(None, start, {}, "src", now=now)
    assert [(t.kind, t.detail, t.n) for t in tallies] == [
        ("started", "", 1),
        ("reached", "role", 1),
        ("stopped", "role", 1),
    ]
    second = {**start, "state": "activities", "answers": {"role": "independent"}}
    meta, tallies = track(start, second, meta, "src", now=now)
    assert ("stopped", "role", -1) in [(t.kind, t.detail, t.n) for t in tallies]
    back = {**start, "answers": {"role": "independent"}}
    meta, tallies = track(second, back, meta, "src", now=now)
    assert tallies == [], "going back reaches nothing new"
    done = {**second, "state": "result"}
    meta, tallies = track(
        second, done, meta, "src", now=now + dt.timedelta(seconds=95), verdict="required"
    )
    kinds = {(t.kind, t.detail, t.n) for t in tallies}
    assert {
        ("completed", "required", 1),
        ("duration", "90", 1),
        ("stopped", "activities", -1),
    } <= kinds
    assert all(isinstance(t, Tally) and "42" not in t.detail for t in tallies)


def test_cli_stats_and_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def prepare() -> None:
        api = FakeBotAPI()
        app, store = make_app(tmp_path, api)
        async with app:
            await finish(Person(app, api, 42))
        await store.close()

    asyncio.run(prepare())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.sqlite3")
    out, err = io.StringIO(), io.StringIO()
    png = tmp_path / "chart.png"
    assert (
        main(
            ["stats", "--period", "all", "--png", str(png), "--lang", "en"],
            io.StringIO(),
            out,
            err,
        )
        == 0
    ), err.getvalue()
    assert "Started: 1" in out.getvalue()
    assert png.read_bytes().startswith(b"\x89PNG")
    assert main(["export", "--out", str(tmp_path / "csv")], io.StringIO(), io.StringIO(), err) == 0
    assert (
        (tmp_path / "csv" / "qualiopi-questionnaires.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    )


async def test_a_version_1_database_is_migrated_without_losing_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute(
            "INSERT INTO conversations VALUES (42, ?, 7, 'src', 9, '2026-11-01', '2026-11-01')",
            (
                json.dumps(
                    {"v": 1, "state": "selling", "answers": {"role": "independent"}, "lang": "fr"}
                ),
            ),
        )
    store = SQLiteStore(path)
    record = await store.load(42)
    assert record.snapshot["answers"] == {"role": "independent"}
    assert (record.live_message_id, record.source, record.last_update_id) == (7, "src", 9)
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()


async def test_two_workers_complete_a_lead_once(store: Any, tmp_path: Path) -> None:
    """The follow-up steps are decided under the chat's lock too: every update of the lead
    conversation reaches two workers at once, and exactly one lead is stored, complete."""
    from telegram import Update

    from tests.bot.fakes import message_update

    other, (worker_a, api_a), (worker_b, api_b) = two_workers(store, tmp_path)
    async with worker_a, worker_b:
        p = Person(worker_a, api_a, 42)
        await finish(p)
        await agree_to_be_contacted(p)
        for typed in ("camille.martin@example.fr", "Camille Martin", "Un rappel mardi"):
            raw = message_update(42, "fr", text=typed)
            await asyncio.gather(
                worker_a.process_update(Update.de_json(raw, worker_a.bot)),
                worker_b.process_update(Update.de_json(raw, worker_b.bot)),
            )
    [lead] = await store.rows("leads")
    assert (lead["email"], lead["name"], lead["message"]) == (
        "camille.martin@example.fr",
        "Camille Martin",
        "Un rappel mardi",
    )
    leads = sum(n for _, kind, _, _, n in await store.tallies(None, None) if kind == "lead")
    assert leads == 1, "the lead is counted once"
    notified = [m for m in api_a.chat(ADMIN) + api_b.chat(ADMIN) if m.document is None]
    assert len(notified) == 1, "the consultancy is told once"
    await other.close()


async def test_the_offer_left_above_a_restart_starts_no_lead_and_says_why(bot: Ctx) -> None:
    """The offer and its consent stay in the chat after /restart: their "yes" led into a lead
    that failed at its last step ("Désolé, quelque chose s'est mal passé", the details typed
    lost), the new questionnaire having no result to send. Now nothing starts until there is
    a result, and the person is told so."""
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    old_offer = offer(p).message_id
    await p.press("lead:yes", old_offer)
    consent = p.last().message_id
    await p.say("/restart")
    await p.press("ans:role:organisation")
    for data, message in (("lead:yes", old_offer), ("lead:agree", consent)):
        await p.press(data, message)
        assert "rien n’a été envoyé" in p.texts()[-1]
        assert "Terminez le questionnaire" in p.texts()[-1]
    await p.say("camille.martin@example.fr")  # read as an answer typed, not as a lead
    assert "Désolé" not in "".join(p.texts())
    assert await store.rows("leads") == []
    await p.say("/restart")
    await finish(p)  # a result again: its offer leads as before
    await agree_to_be_contacted(p)
    await p.say("camille.martin@example.fr")
    await p.press("lead:skip")
    await p.press("lead:skip")
    assert "vous recontactera" in p.texts()[-1]
    assert len(await store.rows("leads")) == 1


@pytest.mark.parametrize("leaving", ["/restart", "/supprimer"])
async def test_every_button_left_above_answers_without_an_error(
    bot: Ctx, leaving: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages keep their buttons in the chat after the person moved on (a restart, their
    data erased): each one pressed then gets an answer, never "Désolé, quelque chose s'est mal
    passé" nor an error in the logs."""
    app, api, _ = bot
    p = Person(app, api, 42)
    await finish(p)
    await settle(app)
    result = next(m for m in reversed(p.api.chat(42)) if "chk:start" in m.data())
    await p.press("chk:start", result.message_id)
    await p.press(next(d for d in p.live().data() if d.startswith("chk:")))
    await p.say("/preuves")
    await p.press("lead:yes", offer(p).message_id)  # its consent's buttons stay too
    await p.say(leaving)
    if leaving == "/supprimer":
        await p.press("del:yes")
    await p.press("ans:role:organisation")
    caplog.set_level(logging.ERROR)
    pressed = 0
    for message in list(p.api.chat(42)):
        for data in message.data():
            if "://" in data:
                continue  # a link: Telegram opens it
            answers = len(api.of("answerCallbackQuery"))
            said = len(p.api.chat(42))
            await p.press(data, message.message_id)
            pressed += 1
            assert len(api.of("answerCallbackQuery")) > answers, data  # its spinner stops
            assert not any("Désolé" in m.text for m in p.api.chat(42)[said:]), data
    assert pressed > 10  # the result's, the offer's, the consent's, the dossier's…
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("leaving", ["/restart", "/start"])
async def test_a_contact_request_left_for_a_new_questionnaire_takes_its_phone_button_away(
    bot: Ctx, leaving: str
) -> None:
    """The button that shares the phone number stayed under the typing field after a restart
    in the middle of a contact request; a tap on it was answered "Je ne lis que le texte et les
    boutons". The restart now says the request is set aside and removes that keyboard."""
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    await agree_to_be_contacted(p)
    assert p.last().reply_keyboard[0][0]["request_contact"] is True
    sent = len(api.of("sendMessage"))
    await p.say(leaving)
    first = api.of("sendMessage")[sent]
    markup = first["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert markup == {"remove_keyboard": True}
    assert "rien n’a été envoyé à Cabinet Dupont &amp; Associés" in first["text"]
    assert "ans:role:independent" in p.live().data(), "then the first question, as always"
    await p.say("/restart")  # no request under way: nothing more is said about it
    assert not any(
        "Demande de contact" in str(c["text"]) for c in api.of("sendMessage")[sent + 3 :]
    )
    assert await store.rows("leads") == []


async def test_an_email_typed_instead_takes_the_phone_button_away(bot: Ctx) -> None:
    """The button that shares the phone number stayed under the typing field through the name
    and the message when the person typed an e-mail address instead (a one-time keyboard
    hides only once used): the address is acknowledged in a message that removes it."""
    app, api, _ = bot
    p = Person(app, api, 42)
    await finish(p)
    await agree_to_be_contacted(p)
    sent = len(api.of("sendMessage"))
    await p.say("a&b@example.fr")
    noted, asked = api.of("sendMessage")[sent:]
    markup = noted["reply_markup"]
    assert (json.loads(markup) if isinstance(markup, str) else markup) == {"remove_keyboard": True}
    assert noted["text"] == "✓ E-mail noté\xa0: a&amp;b@example.fr"
    assert "Votre nom" in asked["text"]
    assert "lead:skip" in str(asked["reply_markup"]), "the question keeps its skip button"


async def test_a_lead_carries_the_result_the_person_said_yes_to(bot: Ctx) -> None:
    """Answers changed between "yes" and the last step of the lead (the result's "Modifier mes
    réponses") do not change what the consultancy receives: the result the consent was given
    for."""
    app, api, store = bot
    p = Person(app, api, 42)
    await finish(p)
    result = next(m for m in reversed(p.api.chat(42)) if "res:why" in m.data())
    await agree_to_be_contacted(p)
    await p.press("back", result.message_id)  # to the answers, to change one
    await p.press("edit:role")
    await p.press("ans:role:organisation")  # and a question more is asked
    await p.say("camille.martin@example.fr")
    await p.press("lead:skip")
    await p.press("lead:skip")
    [lead] = await store.rows("leads")
    assert json.loads(lead["answers"])["role"] == "independent"
    assert (lead["verdict"], lead["indicator_count"]) == ("required", 22)


async def test_the_advisor_without_links_says_what_comes_instead_of_pointing_at_no_button(
    tmp_path: Path, store: Any
) -> None:
    """A consultancy with only its chats (no contact or booking link): /conseiller said "use the
    buttons below" over no button."""
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, admin_chat_ids=frozenset({ADMIN}),
                      consultancy_name="Cabinet Dupont")  # fmt: skip
    async with app:
        p = Person(app, api, 42)
        await p.say("/start")
        await p.say("/conseiller")
        before = p.api.chat(42)[-1]
        assert before.data() == []
        assert "boutons" not in before.text
        assert "À votre résultat, je vous proposerai que Cabinet Dupont" in before.text
        await p.say("/restart")
        await finish(p)
        await agree_to_be_contacted(p)
        await p.say("camille.martin@example.fr")
        await p.press("lead:skip")
        await p.press("lead:skip")
        await p.say("/conseiller")
        after = p.api.chat(42)[-1]
        assert after.data() == []
        assert "Votre demande a été transmise à Cabinet Dupont" in after.text


async def test_an_advisor_is_reachable_at_any_point(bot: Ctx) -> None:
    app, api, store = bot
    p = Person(app, api, 42)
    await p.say("/start")
    await p.press("ans:role:independent")
    await p.say("/conseiller")
    shown = p.api.chat(42)[-1]
    assert "Cabinet Dupont &amp; Associés" in shown.text
    assert "https://rdv.dupont.example" in shown.data(), "booking as a button"
    assert "mailto:contact@dupont.example" in shown.text, "a mail link stays in the text"
    assert "lead:yes" not in shown.data(), "no lead before there is a result to send"
    assert (await store.load(42)).snapshot["state"] == "activities", "the questionnaire waits"
    question = next(m for m in reversed(p.api.chat(42)) if "ans:activities:training" in m.data())
    for data in INDEPENDENT_OPCO_PRESSES[1:]:
        await p.press(data, question.message_id)  # the question is edited in place
    await p.say("/advisor")
    assert "lead:yes" in p.api.chat(42)[-1].data()


async def test_without_a_consultancy_the_advisor_command_is_unknown(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    async with app:
        p = Person(app, api, 42)
        await p.say("/start")
        await p.say("/conseiller")
        assert "Répondez avec les boutons" in p.live().text
    await store.close()


async def test_two_workers_send_each_due_reminder_and_owed_pdf_once(
    store: Any, tmp_path: Path
) -> None:
    """Jobs run in every worker: the reminders and the owed PDFs they find are claimed in the
    database, so two workers running the same job at the same moment send each one once."""
    from types import SimpleNamespace

    from bot.storage import Change, Record
    from tests.bot.test_storage import second_connection

    other = second_connection(store, tmp_path)
    slow = lambda endpoint, params: ("ok", 0.01)  # noqa: E731 — every call yields to the other
    api_a, api_b = FakeBotAPI(), FakeBotAPI()
    api_a.weather = api_b.weather = slow
    worker_a, _ = make_app(tmp_path, api_a, store)
    worker_b, _ = make_app(tmp_path, api_b, other)
    people = range(300, 306)
    due = [(dt.date(2027, 1, 10), "surveillance"), (dt.date(2027, 1, 11), "renewal")]
    seeded = Change(Record(), reminders=("fr", due))
    for chat in people:
        await store.update(chat, 1, lambda _: (seeded, None))
    async with worker_a, worker_b:
        for chat in (400, 401):  # results whose PDF Telegram refused: owed
            for _ in range(4):
                api_a.fail_next("sendDocument", 502, ok=False, error_code=502, description="x")
            await finish(Person(worker_a, api_a, chat))
        await settle(worker_a)
        handlers = [w.handlers[0][0].callback.__self__ for w in (worker_a, worker_b)]
        later = dt.datetime(2027, 1, 12, 9, tzinfo=dt.UTC)
        for h in handlers:
            h.follow.now = lambda: later
            h.now = lambda: later
        await asyncio.gather(
            *(
                h.follow.send_due_reminders(w)
                for h, w in zip(handlers, (worker_a, worker_b), strict=True)
            )
        )
        await asyncio.gather(
            *(
                h.resend_owed_pdfs(SimpleNamespace(application=w))
                for h, w in zip(handlers, (worker_a, worker_b), strict=True)
            )
        )
    for chat in people:
        sent = [m.text for m in api_a.chat(chat) + api_b.chat(chat)]
        assert len(sent) == 2, (chat, sent)  # surveillance and renewal, once each
    for chat in (400, 401):
        pdfs = [m for m in api_a.chat(chat) + api_b.chat(chat) if m.document is not None]
        assert len(pdfs) == 1, chat
    await other.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, (dt.date(2026, 11, 7), dt.date(2026, 12, 6))),
        ("7", (dt.date(2026, 11, 30), dt.date(2026, 12, 6))),
        ("all", (None, None)),
        ("2026-11", (dt.date(2026, 11, 1), dt.date(2026, 11, 30))),
        ("2024-02", (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("2026-11-01..2026-11-15", (dt.date(2026, 11, 1), dt.date(2026, 11, 15))),
    ],
)
def test_a_period_is_days_all_a_month_or_two_dates(given: str | None, expected: Any) -> None:
    """A consultant asking for November typed "/stats 2026-11" and was told the period was
    not understood: a month is one now."""
    assert stats.period(given, dt.date(2026, 12, 6)) == expected


@pytest.mark.parametrize("given", ["2026-13", "2026-11-15..2026-11-01", "0", "soon", "9999"])
def test_a_period_that_means_nothing_is_refused(given: str) -> None:
    """A month that does not exist, dates in the wrong order (an empty period said nothing of
    the mistake), no day, too many days."""
    with pytest.raises(ValueError):  # noqa: PT011 (the date, the number, the order: each its own words)
        stats.period(given, dt.date(2026, 12, 6))


def test_the_funnel_only_goes_down_and_an_empty_period_says_so() -> None:
    """A question only some paths ask (higher education, CPF subcontracting, sites…) is left
    out of the funnel: read in path order, its bars never go up."""
    from bot.consultancy.stats import Stats, chart_png, funnel_steps

    s = Stats(dt.date(2026, 10, 29), dt.date(2026, 11, 27), started=40, completed=28, leads=6)
    s.reached.update(
        {"role": 40, "higher_education": 2, "activities": 38, "selling": 36, "funders": 33,
         "cpf_subcontracting": 5, "certifying": 31, "certified": 29, "stage": 25, "sites": 8}
    )  # fmt: skip
    steps = funnel_steps(s)
    counts = [n for _, n in steps]
    assert counts == sorted(counts, reverse=True)
    assert [code for code, _ in steps][:3] == ["started", "role", "activities"]
    assert [code for code, _ in steps][-2:] == ["completed", "leads"]
    assert not {"higher_education", "cpf_subcontracting", "stage", "sites"} & dict(steps).keys()
    assert chart_png(Stats(None, None), "fr").startswith(b"\x89PNG")


def test_the_chart_shows_readiness_per_criterion_once_people_assessed_themselves() -> None:
    """A consultant sees where prospects stand per criterion, the weakest darker."""
    from bot.consultancy.stats import Stats, chart_figure

    s = Stats(dt.date(2026, 10, 29), dt.date(2026, 11, 27), started=40, completed=28, leads=6)
    s.verdicts.update({"required": 20, "not_required": 8})
    assert len(chart_figure(s, "fr").axes) == 2, "no self-assessment yet: no third panel"
    s.assessed = 3
    s.in_place.update({1: 6, 2: 3})
    s.audited.update({1: 9, 2: 15})
    axes = chart_figure(s, "fr").axes
    assert len(axes) == 3
    ready = axes[2]
    assert "Auto-évaluations terminées\u00a0: 3" in ready.get_title()
    assert [t.get_text() for t in ready.get_yticklabels()] == ["2. Conception", "1. Information"]
    assert [round(p.get_width()) for p in ready.patches] == [20, 66]
    labels = [t.get_text() for t in ready.texts]
    assert labels == ["20\u202f%", "66\u202f%"]
    dark, light = (p.get_facecolor() for p in ready.patches)
    assert dark != light, "the weakest criterion stands out"
    assert "66%" in [t.get_text() for t in chart_figure(s, "en").axes[2].texts]


async def test_a_lead_alert_that_failed_is_sent_later_once(store: Any, tmp_path: Path) -> None:
    """The consultancy's alert is owed until it goes out: Telegram refusing it when the lead
    is made, the job sends it after a grace, once, even with two workers running the job."""

    other, (worker_a, api_a), (worker_b, api_b) = two_workers(store, tmp_path)
    async with worker_a, worker_b:
        p = Person(worker_a, api_a, 42)
        await finish(p)
        await agree_to_be_contacted(p)
        await p.say("camille.martin@example.fr")
        await p.press("lead:skip")
        for _ in range(8):  # the alert (with and without its button) fails beyond the retries
            api_a.fail_next("sendMessage", 502, ok=False, error_code=502, description="x")
        await p.press("lead:skip")
        assert not [m for m in api_a.chat(ADMIN) if m.document is None], "not told yet"
        handlers = [w.handlers[0][0].callback.__self__ for w in (worker_a, worker_b)]
        await handlers[0].follow.send_owed_lead_alerts(worker_a)
        assert not api_a.chat(ADMIN), "not within the grace"
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)
        for h in handlers:
            h.follow.now = lambda: later
        await asyncio.gather(
            handlers[0].follow.send_owed_lead_alerts(worker_a),
            handlers[1].follow.send_owed_lead_alerts(worker_b),
        )
        await handlers[0].follow.send_owed_lead_alerts(worker_a)
    alerts = [m for m in api_a.chat(ADMIN) + api_b.chat(ADMIN) if m.document is None]
    assert len(alerts) == 1
    assert "camille.martin@example.fr" in alerts[0].text
    await other.close()


HOSTILE = {
    **BRAND,
    "consultancy_name": "<Atelier> Dupont & Associés",
    "consultancy_presentation": "Qualiopi <b>sans</b> stress & sans frais cachés",
}


async def test_configured_and_typed_values_are_escaped_wherever_they_are_shown(
    tmp_path: Path, store: Any
) -> None:
    """Telegram refuses a message whose HTML does not parse (the fake does too): each message
    that shows a consultancy's name or what a person typed must still arrive, reading what
    was configured or typed, character for character."""
    import messages

    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, admin_chat_ids=frozenset({ADMIN}), **HOSTILE)
    async with app:
        p = Person(app, api, 42)
        await finish(p)
        await p.say("/conseiller")
        advisor = p.api.chat(42)[-1]
        await p.press("lead:yes", offer(p).message_id)
        consent = p.api.chat(42)[-1]
        await p.press("lead:agree")
        await p.say("camille.martin@example.fr")
        await p.say("<i>Camille</i> & fils")
        await p.say("Rappelez-moi <demain> & merci")
        thanks = p.api.chat(42)[-1]
    welcome = p.api.chat(42)[0]
    seen = {
        "welcome": welcome,
        "offer": offer(p),
        "advisor": advisor,
        "consent": consent,
        "thanks": thanks,
    }
    for where, message in seen.items():
        assert "<Atelier> Dupont & Associés" in messages.to_plain(message.text), where
    for where in ("welcome", "offer", "advisor"):
        plain = messages.to_plain(seen[where].text)
        assert "Qualiopi <b>sans</b> stress & sans frais cachés" in plain, where
    alert = messages.to_plain(next(m.text for m in api.chat(ADMIN) if m.document is None))
    assert "<i>Camille</i> & fils" in alert
    assert "Rappelez-moi <demain> & merci" in alert
    errors = [c for c in api.calls if c[0] == "sendMessage" and "désolé" in str(c[1]).lower()]
    assert errors == [], "no apology: every message was accepted"


@pytest.mark.parametrize(
    ("seconds", "said"), [(0, "moins de 10 s"), (40, "40 s"), (130, "2 min 10 s")]
)
def test_the_median_time_reads_as_a_person_says_it(seconds: int, said: str) -> None:
    from bot.consultancy.stats import Stats, text

    s = Stats(dt.date(2026, 11, 1), dt.date(2026, 11, 30), started=3, completed=3)
    s.durations.append((seconds, 3))
    assert text(s, "fr").endswith(f"Durée médiane pour terminer\u00a0: {said}")
