"""The phone, second pass, through a real Application and the fake Bot API, read as the
person sees it: stopping the self-assessment half-way and coming back, one live screen at a
time, the answer given marked on Back, /recap and /langue beside a result, the admin's /help,
the French command menu, the self-assessment PDF named as such, the consultancy's presentation
in the person's language."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.cli import main
from bot.telegram import set_commands
from tests.bot.fakes import FakeBotAPI, Person, make_app
from tests.bot.test_assessment import ADMIN, CPF_TRAINER, at_result, on_screen, result_message


async def assess(p: Person, count: int) -> None:
    """Starts the self-assessment from the result and marks ``count`` indicators in place."""
    await p.press("chk:start", result_message(p).message_id)
    for _ in range(count):
        number = on_screen(p)
        await p.press(f"chk:{number}:done")


async def test_stopping_half_way_offers_a_reminder_and_coming_back_says_where(
    tmp_path: Path,
) -> None:
    async with at_result(tmp_path) as (p, _):
        await assess(p, 3)
        screen = p.live()
        assert "⏸ Finir plus tard" in screen.labels()
        await p.press("chk:later", screen.message_id)
        later = p.last()
        assert "3 indicateurs évalués sur 25" in later.text
        assert "reprendre à l’indicateur" in later.text
        assert "/checklist" in later.text
        assert later.labels() == ["▶ Reprendre", "🔔 Me le rappeler"]
        await p.press("chk:remind", later.message_id)
        assert any("reprendre votre auto-évaluation" in t for t in p.texts()[-3:])
        await p.say("/checklist")
        welcome, screen = p.api.chat(p.chat_id)[-2:]
        assert welcome.text.startswith("👋 Bon retour")
        assert "3 indicateurs sur 25" in welcome.text
        number = on_screen(p)
        assert f"on reprend à l’indicateur {number}." in welcome.text
        assert f"chk:{number}:done" in screen.data()


async def test_a_typed_status_leaves_one_live_screen(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, _):
        await assess(p, 1)
        before = p.live()
        number = on_screen(p)
        await p.say("en place")
        after = p.live()
        assert after.message_id != before.message_id
        assert on_screen(p) != number
        assert before.buttons == [], "the screen answered by typing has no buttons left"
        assert result_message(p).buttons, "the result keeps its own"
        assert not p.api.chat(p.chat_id)[-2].text.startswith("👋"), "no welcome on a step"


async def test_back_to_a_single_choice_question_marks_the_answer_given(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api)
    async with app:
        p = Person(app, api, 42, "fr")
        await p.say("/start")
        await p.tap("Formateur ou consultant")
        await p.say("/retour")
        labels = p.live().labels()
        assert "✅ Formateur ou consultant indépendant" in labels
        assert [label for label in labels if label.startswith("✅")] == [labels[0]]


async def test_recap_and_language_at_a_result_do_not_send_the_result_again(
    tmp_path: Path,
) -> None:
    async with at_result(tmp_path) as (p, _):
        result = result_message(p)
        sent = len(p.api.chat(p.chat_id))
        await p.say("/recap")
        recap = p.last()
        assert len(p.api.chat(p.chat_id)) == sent + 1
        assert recap.text.startswith("<b>Vos réponses</b>")
        assert recap.labels() == ["📋 Voir mon résultat", "✏️ Modifier mes réponses"]
        await p.say("/langue")
        note = p.last()
        assert len(p.api.chat(p.chat_id)) == sent + 2
        assert (
            note.text == "I will speak English from now on. Your result, above, is now in English."
        )
        assert result.text.startswith("<b>Yes: Qualiopi certification is compulsory")
        await p.press("res:summary", recap.message_id)
        assert recap.text.startswith("<b>Yes: Qualiopi"), "shown again when asked for"
        assert result.buttons == [], "one result with buttons at a time"


async def test_the_admins_help_lists_their_commands_and_asks_nothing(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, admin_chat_ids=frozenset({ADMIN}))
    async with app:
        admin = Person(app, api, ADMIN, "fr")
        await admin.say("/aide")
        said = api.chat(ADMIN)
        assert len(said) == 1
        assert "/stats" in said[0].text
        assert "/export" in said[0].text
        assert said[0].buttons == []
        person = Person(app, api, 42, "fr")
        await person.say("/aide")
        assert "/stats" not in api.chat(42)[0].text


async def test_the_french_menu_names_every_command_in_french(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api)
    async with app:
        await set_commands(app)
        menus = {c.get("language_code"): c["commands"] for c in api.of("setMyCommands")}
        if isinstance(menus["fr"], str):
            menus["fr"] = json.loads(menus["fr"])
        french = [c["command"] for c in menus["fr"]]
        assert "confidentialite" in french
        assert "supprimer" in french
        assert "privacy" not in french
        assert "delete" not in french
        p = Person(app, api, 42, "fr")
        await p.say("/supprimer")
        assert p.last().text.startswith("Effacer tout ce que ce bot garde sur vous")


async def test_the_self_assessment_pdf_is_named_and_captioned_as_such(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, _):
        await p.app.qualiopi.settle()
        checklist = next(m for m in p.api.chat(p.chat_id) if m.document)
        await assess(p, 2)
        await p.press("chk:sum", p.live().message_id)
        await p.press("chk:pdf", p.live().message_id)
        await p.app.qualiopi.settle()
        assessed = [m for m in p.api.chat(p.chat_id) if m.document][-1]
        assert checklist.filename == "checklist-qualiopi-2026-11-26.pdf"
        assert assessed.filename == "auto-evaluation-qualiopi-2026-11-26.pdf"
        assert checklist.text.startswith("Votre checklist Qualiopi, à imprimer.\n\n")
        assert "remind:yes" in checklist.data(), "the offer rides in the PDF's caption"
        assert assessed.text.startswith("Votre auto-évaluation Qualiopi")


PRESENTED = {
    "consultancy_name": "Cabinet Dupont",
    "consultancy_presentation": "Conseil Qualiopi depuis 2015.",
    "consultancy_presentations": (("en", "Qualiopi advice since 2015."),),
}


@pytest.mark.parametrize(("lang", "said"), [("fr", "Conseil"), ("en", "Qualiopi advice")])
async def test_the_consultancy_presents_itself_in_the_persons_language(
    tmp_path: Path, lang: str, said: str
) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, **PRESENTED)
    async with app:
        p = Person(app, api, 42, lang)
        await p.say("/start")
        welcome = api.chat(42)[0].text
        assert said in welcome
        assert ("Conseil" in welcome) == (lang == "fr")


def test_evaluate_pdf_carries_the_consultancy_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(CPF_TRAINER))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONSULTANCY_NAME", "Cabinet Dupont")
    monkeypatch.setenv("CONSULTANCY_PRESENTATION_EN", "Qualiopi advice since 2015.")
    monkeypatch.setenv("CONSULTANCY_CONTACT_URL", "https://dupont.example/contact")
    out = tmp_path / "r.pdf"
    status = main(["evaluate", str(answers), "--format", "pdf", "--out", str(out), "--lang", "en"])
    assert status == 0, capsys.readouterr().err
    text = PdfReader(out).pages[0].extract_text()
    assert "Cabinet Dupont" in text
    assert "Qualiopi advice since 2015." in text
    assert "https://dupont.example/contact" in text
