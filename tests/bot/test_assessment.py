"""The self-assessment through a real Application: one indicator per screen, statuses kept
across a restart, the summary, stale buttons, typed answers, the PDF, the lead, /stats and
the reminders."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.consultancy.export import export_all
from bot.render.evidence import evidence_list, evidence_screen
from bot.storage import Evidence
from tests.answers import presses
from tests.bot.fakes import FakeBotAPI, Person, make_app
from tests.bot.stores import SQLiteStore

CPF_TRAINER: dict[str, Any] = {
    "role": "independent",
    "activities": ["training"],
    "selling": "direct",
    "funders": ["cpf"],
    "certifying": "yes",
    "long_courses": "yes",
    "work_based": "no",
    "uses_subcontractors": "no",
    "certified": "no",
    "stage": "established",
}
"""An independent trainer selling certifying courses on Mon Compte Formation: 25 indicators."""
ADMIN = 7000


async def to_result(p: Person, answers: dict[str, Any] = CPF_TRAINER) -> None:
    await p.say("/start")
    for data in presses(answers):
        await p.press(data)


@asynccontextmanager
async def at_result(
    tmp_path: Path, store: Any = None, lang: str = "fr", **changes: Any
) -> AsyncIterator[tuple[Person, Any]]:
    """A running bot and a person at the certifying CPF trainer's result; the store stays
    open after the bot stops (its owner closes it)."""
    api = FakeBotAPI()
    app, used = make_app(tmp_path, api, store, **changes)
    async with app:
        person = Person(app, api, 42, lang)
        await to_result(person)
        yield person, used


def result_message(p: Person) -> Any:
    return next(m for m in reversed(p.api.chat(p.chat_id)) if "chk:start" in m.data())


def on_screen(p: Person) -> int | None:
    """The indicator the live message asks about (None on the summary)."""
    for data in p.live().data():
        if data.endswith(":done"):
            return int(data.split(":")[1])
    return None


def half_in_place(position: int) -> str:
    """Every other indicator in place; of the rest, half partly, half not yet."""
    return "done" if position % 2 == 0 else ("partial" if position % 4 == 1 else "todo")


async def assess_all(p: Person) -> dict[int, str]:
    """Starts from the result and answers every indicator; returns what was said."""
    await p.press("chk:start", result_message(p).message_id)
    said: dict[int, str] = {}
    while (number := on_screen(p)) is not None:
        said[number] = half_in_place(len(said))
        await p.press(f"chk:{number}:{said[number]}")
        assert len(said) <= 33
    return said


async def test_assessing_every_indicator_survives_a_restart(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        said = await assess_all(p)
        summary = p.live().text
    assert len(said) == 25, "one screen per indicator of a certifying CPF trainer"
    assert (await store.load(42)).statuses == said
    assert "Votre préparation\u00a0: 52\u202f% en place" in summary  # 13 of 25, rounded down
    assert "13 indicateurs en place sur 25, 6 en partie, 6 pas encore." in summary
    assert "1. Information du public sur l’offre" in summary
    assert "Plan d’actions" in summary
    plan = summary[summary.index("Plan d’actions") :].splitlines()[1:]
    marks = [line[0] for line in plan if line and line[0] in "‼•"]
    assert marks == sorted(marks, key=lambda m: m != "‼"), "major-only gaps come first"
    assert "chk:start" not in p.live().data(), "nothing left to continue"
    await store.close()

    later = FakeBotAPI()
    store = SQLiteStore(tmp_path / "bot.sqlite3")
    app, _ = make_app(tmp_path, later, store)
    async with app:
        again = Person(app, later, 42)
        await again.say("/checklist")
        assert again.live().text == summary
    assert (await store.load(42)).statuses == said
    await store.close()


async def test_statuses_are_kept_in_both_databases(store: Any, tmp_path: Path) -> None:
    async with at_result(tmp_path, store) as (p, _):
        await p.press("chk:start", result_message(p).message_id)
        await p.press("chk:1:done")
        await p.press("chk:2:todo")
        await p.press("chk:3:done")
        await p.press("chk:3:partial")  # indicator 4 is on screen: stale
        assert on_screen(p) == 4
        await p.press("chk:4:back")
        await p.press("chk:3:partial")  # changed on its own screen
    assert (await store.load(42)).statuses == {1: "done", 2: "todo", 3: "partial"}
    assert {r["indicator"] for r in (await store.dump_chat(42))["assessments"]} == {1, 2, 3}


async def test_stale_forged_and_double_taps_change_nothing(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.press("chk:start", result_message(p).message_id)
        screen = p.live().message_id
        await p.press("chk:1:done", screen)
        await p.press("chk:1:done", screen)  # a double tap: the screen shows indicator 2 now
        assert on_screen(p) == 2, "the second tap did not skip indicator 2"
        toasts = [c["text"] for c in p.api.of("answerCallbackQuery") if c.get("text")]
        assert "Cet écran n’est plus à jour" in toasts[-1]
        before = await store.load(42)
        for forged in ("chk:99:done", "chk:2:maybe", "chk:x:done", "chk:2", "chk:" + "9" * 70):
            await p.press(forged, screen)
        after = await store.load(42)
        assert after.statuses == before.statuses == {1: "done"}
        assert on_screen(p) == 2
        await p.say("/restart")
        await p.press("chk:2:done", screen)  # the questionnaire started again: no result
        assert (await store.load(42)).statuses == {1: "done"}
        assert "terminez d’abord le questionnaire" in p.texts()[-1]


async def test_typed_answers_moves_and_explanations(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.say("/checklist")
        await p.say("Oui")
        await p.say("en partie")
        await p.say("pas encore")
        assert (await store.load(42)).statuses == {1: "done", 2: "partial", 3: "todo"}
        await p.say("passer")
        assert on_screen(p) == 5
        await p.say("retour")
        assert on_screen(p) == 4
        await p.say("bonjour")
        assert "écrivez «\u202foui\u202f», «\u202fen partie\u202f»" in p.texts()[-2]
        assert on_screen(p) == 4, "the screen is shown again, nothing changed"
        await p.press("chk:4:info")
        explained = p.texts()[-1]
        assert "Indicateur 4 en clair" in explained
        assert "non-conformité majeure" in explained
        await p.press("chk:4:skip")
        await p.press("chk:5:skip")
        await p.press("chk:6:skip")
        await p.press("chk:7:skip")
        await p.press("chk:8:info")
        assert "Positionnement" in p.texts()[-1], "the jargon of the indicator is explained"
        await p.press("chk:8:back")
        await p.press("chk:sum")
        summary = p.live().text
        assert "3 à évaluer" not in summary
        assert "22 à évaluer" in summary
        assert "chk:start" in p.live().data()
        await p.press("chk:start")
        assert on_screen(p) == 4, "continue goes to the first indicator not assessed"
        await p.send_sticker()
        assert (await store.load(42)).statuses == {1: "done", 2: "partial", 3: "todo"}


async def test_the_plan_is_dated_from_the_audit_date_and_in_the_pdf(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await assess_all(p)
        await p.press("chk:date")
        await p.say("quand vous voulez")
        assert "Je n’ai pas compris cette date" in p.texts()[-1]
        await p.say("01/01/2020")
        assert "Le 1er janvier 2020 est passé" in p.texts()[-1]
        await p.say("le 15 mars")  # in words, no year: the next 15 March, read back first
        read_back = p.last()
        assert "Je lis\u00a0: le 15 mars 2027." in read_back.text
        assert read_back.data() == ["chk:day:2027-03-15", "chk:date"]
        assert "Votre audit" not in p.live().text, "nothing is used before the person agrees"
        await p.press("chk:day:2027-03-15", read_back.message_id)
        summary = p.live().text
        assert "Votre audit\u00a0: le 15 mars 2027" in summary
        assert "‼ 4. Analyse du besoin (pas encore)\u00a0: d’ici le 3 décembre 2026" in summary
        await p.press("chk:pdf")
        pdf = p.last().document
    assert pdf is not None
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Votre auto-évaluation : 52 % en place" in " ".join(text.split()).replace("\u202f", " ")
    assert "Plan d’actions" in text
    assert "01/03/2027" in text, "the last action is due two weeks before the audit"
    await store.close()


async def test_a_new_questionnaire_keeps_the_statuses_that_still_apply(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        said = await assess_all(p)
        assert {3, 7, 16} <= said.keys()
        await to_result(p, {**CPF_TRAINER, "funders": ["opco"], "certifying": "no"})
        kept = (await store.load(42)).statuses
        pdf = next(m.document for m in reversed(p.api.chat(42)) if m.document)
    assert kept == {n: s for n, s in said.items() if n not in (3, 7, 16)}
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Votre auto-évaluation" in text, "the new result's PDF carries the kept statuses"
    await store.close()


async def test_checklist_before_anything_answers_in_the_persons_language(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    async with app:
        p = Person(app, api, 42, "en")
        await p.say("/checklist")
        assert "finish the questionnaire first" in p.texts()[-1]
    await store.close()


async def test_a_not_required_result_offers_no_assessment(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    async with app:
        p = Person(app, api, 42)
        await p.say("/start")
        await p.press("ans:role:employed_trainer")
        await p.press("result")
        assert not any("chk:start" in m.data() for m in api.chat(42))
        await p.say("/checklist")
        assert "terminez d’abord" in p.texts()[-1] or "rien à évaluer" in p.texts()[-1]
        assert (await store.load(42)).statuses == {}
    await store.close()


async def test_the_lead_and_the_statistics_carry_readiness(tmp_path: Path) -> None:
    async with at_result(tmp_path, admin_chat_ids=frozenset({ADMIN})) as (p, store):
        app, api = p.app, p.api
        await assess_all(p)
        offer = next(m for m in reversed(api.chat(42)) if "lead:yes" in m.data())
        await p.press("lead:yes", offer.message_id)
        assert "votre part d’indicateurs en place et vos trois premières actions" in p.texts()[-1]
        await p.press("lead:agree")
        await p.say("camille.martin@example.fr")
        await p.press("lead:skip")
        await p.press("lead:skip")
        alert = next(m.text for m in api.chat(ADMIN) if "Nouveau contact" in m.text)
        admin = Person(app, api, ADMIN)
        await admin.say("/stats")
        stats = next(t for t in admin.texts() if "Statistiques" in t)
    assert "Auto-évaluation\u00a0: 52\u202f% en place" in alert
    assert "premières actions\u00a0: 4. Analyse du besoin" in alert
    lead = (await store.rows("leads"))[0]
    assert lead["readiness"] == 52
    assert lead["first_actions"] == "[4, 6, 10]"
    csv_text = (await export_all(store))["leads"][0].decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(csv_text), delimiter=";"))[:2]
    cells = dict(zip(header, row, strict=True))
    assert cells["Préparation (% en place)"] == "52"
    assert cells["Premières actions (indicateurs)"].startswith(
        "4. Analyse du besoin\u202f; 6. Contenus"
    ), "a consultant reads titles, not a list of numbers"
    english = (await export_all(store, lang="en"))["leads"][0].decode("utf-8-sig")
    assert "4. Needs analysis; 6. " in english, "English punctuation in English"
    assert "Auto-évaluations terminées</b>\u00a0: 1" in stats
    assert "1. Information\u00a0: 66\u202f%" in stats  # 2 of the 3 indicators of criterion 1
    tallies = await store.tallies(None, None)
    assert all((source == "" and detail.isdigit()) or kind == "assess_finished"
               for _, kind, detail, source, _ in tallies if kind.startswith("assess"))  # fmt: skip
    await store.close()


@pytest.mark.parametrize("finished", [False, True])
async def test_reminders_to_continue_and_before_the_audit(tmp_path: Path, finished: bool) -> None:
    async with at_result(tmp_path) as (p, store):
        if finished:
            await assess_all(p)
        else:
            await p.say("/checklist")
            await p.press("chk:1:done")
            await p.press("chk:sum")
        await p.press("chk:date")
        await p.say("15 March 2027")  # either language
        await p.press("chk:day:2027-03-15", p.last().message_id)
        await p.press("chk:remind")
        said = p.texts()[-1]
        pending = [(r.due_on, r.kind) for r in await store.pending_reminders(42)]
        follow = p.app.handlers[0][0].callback.__self__.follow
        follow.now = lambda: dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)
        await follow.send_due_reminders(p.app)
        week_later = p.texts()[-1]
        follow.now = lambda: dt.datetime(2027, 2, 13, 9, tzinfo=dt.UTC)
        await follow.send_due_reminders(p.app)
        before_audit = p.texts()[-1]
    assert "13 février 2027" in said
    gaps = (dt.date(2027, 2, 13), "assess_gaps")
    if finished:
        assert pending == [gaps]
        assert "Votre audit Qualiopi approche (15 mars 2027)" in before_audit
        assert "‼ 4. Analyse du besoin (pas encore)" in before_audit
    else:
        assert pending == [(dt.date(2026, 12, 3), "assess_continue"), gaps]
        assert "1 indicateur évalué sur 25" in week_later
        assert "/checklist" in week_later
    assert await store.pending_reminders(42) == []
    await store.close()


async def test_reminders_can_be_stopped(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.say("/checklist")
        await p.press("chk:sum")
        await p.press("chk:remind")
        assert "chk:noremind" in p.live().data()
        await p.press("chk:noremind")
        assert "arrêtés" in p.texts()[-1]
        assert await store.pending_reminders(42) == []
    await store.close()


async def test_language_on_an_indicator_shows_it_again_in_the_other_language(
    tmp_path: Path,
) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.say("/checklist")
        await p.say("oui")
        assert "Auto-évaluation · 2 sur 25" in p.live().text
        await p.say("/language")
        assert "Self-assessment · 2 of 25" in p.live().text, "the same indicator, in English"
        await p.say("partly")
        assert "Self-assessment · 3 of 25" in p.live().text
        await p.say("/langue")
        assert "Auto-évaluation · 3 sur 25" in p.live().text
    assert (await store.load(42)).statuses == {1: "done", 2: "partial"}
    await store.close()


async def test_in_english_too(tmp_path: Path) -> None:
    async with at_result(tmp_path, lang="en") as (p, store):
        await p.say("/checklist")
        assert "Self-assessment · 1 of 25" in p.live().text
        await p.say("yes")
        await p.say("not yet")
        await p.press("chk:sum")
        summary = p.live().text
    assert (await store.load(42)).statuses == {1: "done", 2: "todo"}
    assert "Your readiness: 4% in place" in summary
    assert "1 indicator in place out of 25, 0 partly, 1 not yet, 23 to assess. What is" in summary
    assert "‼" not in summary.split("Action plan")[1].split("\n")[1]  # 2 is not major-only
    await store.close()


async def test_the_retention_purge_erases_statuses(store: Any, tmp_path: Path) -> None:
    async with at_result(tmp_path, store) as (p, _):
        await p.say("/checklist")
        await p.press("chk:1:done")
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    counts = await store.purge_before(future)
    assert counts["assessments"] == 1
    assert (await store.dump_chat(42))["assessments"] == []


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_screen_fits_telegram_for_the_widest_profile(lang: str) -> None:
    """Every activity, certifying, alternance, subcontractors, certified under the 2026 text:
    the most indicators, changes and proofs; every screen and button within Telegram's limits."""
    import messages
    from bot.reading.buttons import parse_chk
    from bot.render.assessment import explain_text, indicator_screen, summary_screen
    from bot.render.screens import evaluation_of

    widest = {
        "role": "organisation",
        "activities": ["training", "skills_assessment", "vae", "apprenticeship"],
        "selling": "direct",
        "funders": ["opco", "cpf"],
        "certifying": "yes",
        "long_courses": "yes",
        "work_based": "alternance",
        "uses_subcontractors": "yes",
        "certified": "yes",
        "audit_cycle": "surveillance_window",
        "scope": "covers_all",
        "sites": "several",
    }
    snapshot = {"v": 1, "state": "result", "answers": widest, "lang": lang, "date": "2026-11-27"}
    numbers = evaluation_of(snapshot).indicators
    assert len(numbers) == 33
    screens = [indicator_screen(snapshot, {}, n) for n in numbers]
    everything_missing = dict.fromkeys(numbers, "todo")
    day = dt.date(2026, 11, 27)
    screens.append(summary_screen(snapshot, everything_missing, day, dt.date(2027, 6, 1), True))
    pieces = [
        Evidence(k, n, "document", "x" * 120, "y" * 80, "application/pdf", 9_999_999, "2026-12-04")
        for k, n in enumerate(numbers * 3, start=1)
    ]  # every indicator with three long-named pieces: the widest evidence screens
    screens += [evidence_screen(snapshot, {}, pieces, n, suggest=True) for n in numbers]
    grid = evidence_list(snapshot, {}, pieces)
    numbers_rows = [row for row in grid.buttons if row[0].data != "ev:zip"]
    assert all(len(row) <= 5 for row in numbers_rows)
    assert all(len(b.label) <= 4 for row in numbers_rows for b in row), "five fit a phone's row"
    screens.append(replace(grid, buttons=grid.buttons[len(numbers_rows) :]))
    for screen in screens:
        assert messages.telegram_length(screen.text) <= messages.TELEGRAM_LIMIT
        for row in screen.buttons:
            assert len(row) <= 3
            for button in row:
                assert len(button.data.encode()) <= 64
                assert (
                    button.data.startswith("res:")
                    or parse_chk(button.data) is not None
                    or re.fullmatch(r"ev:(\d+(:back|:rm:\d+)?|list|zip)", button.data)
                ), button.data
    for n in numbers:
        assert messages.telegram_length(explain_text(snapshot, n)) <= messages.TELEGRAM_LIMIT


async def test_an_owed_pdf_carries_the_statuses_too(tmp_path: Path) -> None:
    from types import SimpleNamespace

    async with at_result(tmp_path) as (p, store):
        await p.say("/checklist")
        await p.press("chk:1:done")
        for _ in range(4):  # more than the retries: the new result's PDF is refused
            p.api.fail_next("sendDocument", 502, ok=False, error_code=502, description="Bad")
        await to_result(p)
        handlers = p.app.qualiopi  # type: ignore[attr-defined]
        handlers.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
        await handlers.resend_owed_pdfs(SimpleNamespace(application=p.app))
        pdf = next(m.document for m in reversed(p.api.chat(42)) if m.document)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Votre auto-évaluation" in text
    await store.close()


async def test_a_forged_or_past_date_button_sets_no_audit_date(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.say("/checklist")
        for forged in ("chk:day:2027-02-30", "chk:day:soon", "chk:day:2027-03-15-x"):
            await p.press(forged)
        await p.press("chk:day:2026-01-15")
        assert "Le 15 janvier 2026 est passé" in p.texts()[-1]
        record = await store.load(42)
        assert "audit_on" not in (record.meta.get("assessment") or {}) or (
            record.meta["assessment"]["audit_on"] is None
        )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_explain_says_what_the_auditor_looks_for_in_each_indicator(lang: str) -> None:
    """ "❓ Expliquer" gave one paragraph for every indicator: each explanation now names its
    indicator and what the audit checks there (the reading guide's expected level), sourced."""
    import messages
    from bot.render.assessment import explain_text
    from bot.render.screens import evaluation_of
    from tests.answers import COMPANY_CFA

    snapshot = {"state": "result", "answers": COMPANY_CFA, "lang": lang, "date": "2026-12-04"}
    numbers = evaluation_of(snapshot).indicators
    assert len(numbers) >= 30, "a CFA: nearly every indicator"
    texts = {n: messages.to_plain(explain_text(snapshot, n)) for n in numbers}
    looks_for = "Ce que l’auditeur regarde" if lang == "fr" else "What the auditor looks for"
    for n, text in texts.items():
        assert f" {n} " in text.split("\n")[0], n
        assert looks_for in text, n
        assert len(text) <= 4096
    bodies = {text.split("\n\n")[1] for text in texts.values()}
    assert len(bodies) == len(texts), "no two indicators explained alike"
    sourced = [t for t in texts.values() if "V9 du 8 janvier 2024" in t or "V9 of 8 January" in t]
    assert len(sourced) >= len(texts) - 1, "every indicator the guide covers cites it"
