"""What an operator meets in production: people who blocked the bot, files Telegram refuses."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from bot import metrics
from bot.storage import Change, Record
from tests.answers import INDEPENDENT_OPCO_PRESSES
from tests.bot.fakes import FakeBotAPI, Person, make_app, settle

BRAND = {
    "consultancy_name": "Cabinet Dupont",
    "consultancy_booking_url": "https://rdv.dupont.example",
    "admin_chat_ids": frozenset({7000}),
}
BLOCKED = {
    "ok": False,
    "error_code": 403,
    "description": "Forbidden: bot was blocked by the user",
}


def handlers_of(app: Any) -> Any:
    return app.handlers[0][0].callback.__self__


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_person_who_blocked_the_bot_is_not_an_error(
    bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 403 is what Telegram answers for a person who blocked the bot: INFO, no traceback,
    no apology sent into the blocked chat, each button answered once, and nothing owed to
    that chat is retried by the jobs."""
    app, api, store = bot
    p = Person(app, api, 42)
    await p.say("/start")
    for data in INDEPENDENT_OPCO_PRESSES[:-1]:
        await p.press(data)
    api.blocked.add(42)
    before = len(api.calls)
    errors_before = metrics.ERRORS._value.get()
    caplog.set_level(logging.INFO, logger="qualiopi_bot")
    await p.press(INDEPENDENT_OPCO_PRESSES[-1])  # the result: its screen and PDF refused
    for said in ("/privacy", "/recap", "bonjour"):
        await p.say(said)
    await p.send_sticker()
    calls = api.calls[before:]
    assert errors(caplog) == []
    assert not any(r.exc_info for r in caplog.records), "no traceback"
    assert any("blocked the bot" in r.getMessage() for r in caplog.records)
    assert metrics.ERRORS._value.get() == errors_before
    answered = [c[1]["callback_query_id"] for c in calls if c[0] == "answerCallbackQuery"]
    assert len(answered) == len(set(answered)) == 1, "the button answered once"
    apologies = [c for c in calls if "mal passé" in str(c[1].get("text", ""))]
    assert apologies == [], "no apology into a blocked chat"
    assert (await store.record(42)).snapshot["state"] == "result", "the step is kept"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    handlers_of(app).now = lambda: later
    before = len(api.calls)
    await handlers_of(app).resend_owed_pdfs(SimpleNamespace(application=app))
    await settle(app)
    assert api.calls[before:] == [], "the owed PDF of a blocked chat is not retried"
    assert await store.claim_owed_replies(dt.timedelta(seconds=1)) == {}


async def test_a_pdf_refused_with_403_is_dropped_and_not_retried(
    tmp_path: Any, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, **BRAND)
    caplog.set_level(logging.INFO, logger="qualiopi_bot")
    async with app:
        p = Person(app, api, 42)
        api.fail_next("sendDocument", 403, **BLOCKED)
        await p.say("/start")
        for data in INDEPENDENT_OPCO_PRESSES:
            await p.press(data)
        await settle(app)  # the PDF went in the background, and was refused
        refused = len(api.calls)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        handlers_of(app).now = lambda: later
        await handlers_of(app).resend_owed_pdfs(SimpleNamespace(application=app))
        await settle(app)
    assert errors(caplog) == []
    assert [c[0] for c in api.calls[refused:]] == [], "not rendered nor sent again"
    assert not any("lead:yes" in m.data() for m in api.chat(42)), "no offer to a blocked chat"


async def test_the_offer_follows_the_result_even_when_its_pdf_fails(
    tmp_path: Any, store: Any
) -> None:
    """The consultancy's offer does not depend on the PDF: a PDF Telegram refuses (past the
    retries) leaves the offer sent, and the PDF owed to the job."""
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, **BRAND)
    async with app:
        p = Person(app, api, 42)
        for _ in range(4):  # past the transport's retries
            api.fail_next("sendDocument", 502, ok=False, error_code=502, description="down")
        await p.say("/start")
        for data in INDEPENDENT_OPCO_PRESSES:
            await p.press(data)
        assert not any(m.document for m in api.chat(42)), "the PDF did not go"
        assert any("lead:yes" in m.data() for m in api.chat(42)), "the offer did"
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        handlers_of(app).now = lambda: later
        await handlers_of(app).resend_owed_pdfs(SimpleNamespace(application=app))
        await settle(app)
    assert len([m for m in api.chat(42) if m.document]) == 1, "the job sends the PDF later"
    offers = [m for m in api.chat(42) if "lead:yes" in m.data()]
    assert len(offers) == 1, "the offer once"


async def test_a_reminder_for_a_blocked_chat_is_dropped_not_retried(
    tmp_path: Any, store: Any
) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store)
    due = [(dt.date(2027, 1, 10), "surveillance")]
    await store.update(42, 1, lambda _: (Change(Record(), reminders=("fr", due)), None))
    api.blocked.add(42)
    async with app:
        follow = handlers_of(app).follow
        follow.now = lambda: dt.datetime(2027, 1, 12, 9, tzinfo=dt.UTC)
        await follow.send_due_reminders(app)
        follow.now = store.clock = lambda: dt.datetime(2027, 1, 13, 9, tzinfo=dt.UTC)
        api.blocked.clear()
        await follow.send_due_reminders(app)
    assert api.chat(42) == [], "tried once, refused, dropped"


async def test_a_lead_alert_is_not_repeated_to_other_admins_for_a_blocked_one(
    tmp_path: Any, store: Any
) -> None:
    """Two admin chats, one of which blocked the bot: the other gets the alert once."""
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, **{**BRAND, "admin_chat_ids": frozenset({7000, 7001})})
    api.blocked.add(7000)
    async with app:
        p = Person(app, api, 42)
        await p.say("/start")
        for data in INDEPENDENT_OPCO_PRESSES:
            await p.press(data)
        offer = next(m for m in api.chat(42) if "lead:yes" in m.data())
        await p.press("lead:yes", offer.message_id)
        await p.press("lead:agree")
        await p.say("camille@example.fr")
        await p.say("Camille")
        await p.press("lead:skip")
        follow = handlers_of(app).follow
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        follow.now = store.clock = lambda: later
        await follow.send_owed_lead_alerts(app)
        await follow.send_owed_lead_alerts(app)
    alerts = [m for m in api.chat(7001) if m.document is None]
    assert len(alerts) == 1


async def test_an_admin_group_that_became_a_supergroup_is_followed(
    tmp_path: Any, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram answers a call naming a group upgraded to a supergroup with its new id: the
    lead alert goes there, later ones go there directly, and the operator is told."""
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, **{**BRAND, "admin_chat_ids": frozenset({-555})})
    api.migrated[-555] = -100_555
    caplog.set_level(logging.INFO, logger="qualiopi_bot")
    async with app:
        for chat in (42, 43):
            p = Person(app, api, chat)
            await p.say("/start")
            for data in INDEPENDENT_OPCO_PRESSES:
                await p.press(data)
            offer = next(m for m in api.chat(chat) if "lead:yes" in m.data())
            await p.press("lead:yes", offer.message_id)
            await p.press("lead:agree")
            await p.say(f"camille{chat}@example.fr")
            await p.say("Camille")
            await p.press("lead:skip")
    alerts = [m for m in api.chat(-100_555) if m.document is None]
    assert len(alerts) == 2
    assert len([m for m in api.chat(-100_555) if m.document]) == 2, "with their PDFs"
    refused = [c for c in api.calls if c[1].get("chat_id") in (-555, "-555")]
    assert len(refused) == 1, "the old id is tried once, then the new one is used"
    assert any("ADMIN_CHAT_IDS" in r.getMessage() for r in caplog.records)
    assert (await store.rows("leads"))[0]["notified_at"] is not None


async def test_the_migration_notice_in_the_old_group_is_followed_too(
    tmp_path: Any, store: Any
) -> None:
    from bot.outbox import Out
    from bot.telegram.port import Port
    from tests.bot.fakes import message_update

    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store, **{**BRAND, "admin_chat_ids": frozenset({-555})})
    async with app:
        notice = message_update(-555, chat_type="group", migrate_to_chat_id=-100_555)
        await Person(app, api, -555).feed(notice)
        api.migrated[-555] = -100_555
        await Port(app).deliver(-555, Out("Nouveau contact"))
    assert [m.text for m in api.chat(-100_555)] == ["Nouveau contact"]
    assert not [c for c in api.calls if c[1].get("chat_id") in (-555, "-555")]


def test_without_a_token_and_without_a_terminal_run_fails_loudly(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a container (stdin closed, not a terminal) ``run`` without a token would run the
    terminal questionnaire on nothing and exit 0: ``restart: unless-stopped`` then restarts
    it for ever, silently. It exits 2 with one line saying what to set."""
    import io

    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main(["run"], io.StringIO(""), stdout, stderr) == 2
    assert "TELEGRAM_BOT_TOKEN" in stderr.getvalue()
    assert stdout.getvalue() == "", "no questionnaire on a closed stdin"


async def test_the_health_command_reads_the_configured_port(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image's HEALTHCHECK runs ``qualiopi-bot health``: it asks /health where the
    settings say it is served, whatever the port (not a port written in the Dockerfile)."""
    import asyncio
    import io

    from bot.cli import main
    from bot.telegram.web import WebServer
    from tests.bot.fakes import settings
    from tests.bot.test_web import free_port

    port = free_port()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTH_PORT", str(port))
    monkeypatch.setenv("HEALTH_LISTEN", "0.0.0.0")
    out = io.StringIO()
    assert await asyncio.to_thread(main, ["health"], io.StringIO(), out, io.StringIO()) == 1
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    await store.open()
    server = WebServer(app, store, settings(tmp_path, health_port=port))
    await server.start()
    try:
        assert await asyncio.to_thread(main, ["health"], io.StringIO(), out, io.StringIO()) == 0
    finally:
        await server.stop()
        await store.close()
    assert '"status": "ok"' in out.getvalue()


INSERT = (
    "INSERT INTO conversations (chat_id, snapshot, created_at, updated_at)"
    " VALUES (?, '{}', 'x', 'x')"
)


def test_a_sqlite_restore_does_not_replay_a_stale_journal(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's restore: a crash leaves a ``-wal`` beside the database; the file put back
    by hand replays it (rows the backup does not hold); ``qualiopi-bot restore`` does not."""
    import io
    import shutil
    import sqlite3
    import subprocess
    import sys

    from bot.cli import main

    database = tmp_path / "data" / "bot.sqlite3"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    assert main(["migrate"], io.StringIO(), io.StringIO(), io.StringIO()) == 0
    with sqlite3.connect(database) as db:
        db.executemany(
            INSERT,
            [(n,) for n in range(2000)],
        )
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(database) as db, sqlite3.connect(backup) as copy:
        db.backup(copy)
    # 50 more rows, then killed before any checkpoint: they stay in the -wal
    crash = """
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA wal_autocheckpoint=0")
rows = [(n,) for n in range(5000, 5050)]
db.executemany(sys.argv[2], rows)
os._exit(9)
"""
    subprocess.run([sys.executable, "-c", crash, str(database), INSERT], check=False)
    assert (tmp_path / "data" / "bot.sqlite3-wal").exists()

    def rows(path: Any) -> int:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT count(*) FROM conversations").fetchone()[0])

    by_hand = tmp_path / "by_hand"
    shutil.copytree(tmp_path / "data", by_hand)
    shutil.copy(backup, by_hand / "bot.sqlite3")
    assert rows(by_hand / "bot.sqlite3") == 2050, "put back by hand: the stale journal replays"
    out = io.StringIO()
    assert main(["restore", str(backup)], io.StringIO(), out, io.StringIO()) == 0
    assert rows(database) == 2000
    assert not (tmp_path / "data" / "bot.sqlite3-wal").exists()
    err = io.StringIO()
    (tmp_path / "junk").write_bytes(b"not a database")
    assert main(["restore", str(tmp_path / "junk")], io.StringIO(), io.StringIO(), err) == 1
    assert rows(database) == 2000, "a bad backup changes nothing"


async def test_the_operators_gauges_show_what_is_late_and_the_webhooks_backlog(
    tmp_path: Any, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An owed PDF, an unnotified lead, an overdue reminder, Telegram's webhook backlog and
    last error become gauges an alert rule can page on (deploy/alerts.yml)."""
    from bot.telegram.gauges import Gauges

    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store)
    due = [(dt.date(2026, 1, 10), "surveillance")]
    await store.update(77, 1, lambda _: (Change(Record(), reminders=("fr", due)), None))
    api.webhook_info = {
        "url": "https://bot.example/telegram",
        "pending_update_count": 42,
        "last_error_date": 1_795_000_000,
        "last_error_message": "Connection timed out",
    }
    caplog.set_level(logging.WARNING, logger="qualiopi_bot")
    async with app:
        p = Person(app, api, 42)
        for _ in range(4):
            api.fail_next("sendDocument", 502, ok=False, error_code=502, description="down")
        await p.say("/start")
        for data in INDEPENDENT_OPCO_PRESSES:
            await p.press(data)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        gauges = Gauges(store, lambda: later, webhook=True)
        await gauges.refresh(app)
        await gauges.refresh(app)

    def value(name: str, **labels: str) -> float | None:
        return metrics.REGISTRY.get_sample_value(name, labels)

    assert value("qualiopi_backlog", kind="owed_pdfs") == 1
    assert value("qualiopi_backlog", kind="overdue_reminders") == 1
    assert value("qualiopi_backlog", kind="unnotified_leads") == 0
    assert value("qualiopi_webhook_pending_updates") == 42
    assert value("qualiopi_webhook_last_error_timestamp_seconds") == 1_795_000_000
    said = [r.getMessage() for r in caplog.records if "Connection timed out" in r.getMessage()]
    assert len(said) == 1, "the same error is logged once, not at every refresh"
