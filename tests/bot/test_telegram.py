"""The Telegram bot, a real Application against a fake Bot API, driven as a person acts."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from telegram import Update

from bot.render.screens import evaluation_of
from bot.telegram import set_commands
from tests.answers import INDEPENDENT_OPCO_PRESSES
from tests.bot.fakes import (
    TOKEN,
    FakeBotAPI,
    Person,
    callback_update,
    make_app,
    message_update,
)

Ctx = tuple[Any, FakeBotAPI, Any]


def person(bot: Ctx, chat_id: int = 42, lang: str | None = "fr") -> Person:
    app, api, _ = bot
    return Person(app, api, chat_id, lang)


async def answer_af_opco(p: Person, words: dict[str, str]) -> None:
    """Taps through an independent trainer paid by an OPCO (no certifying, no alternance)."""
    await p.tap(words["independent"])
    await p.tap(words["training"])
    await p.tap(words["confirm"])
    await p.tap(words["direct"])
    await p.tap("OPCO")
    await p.tap(words["confirm"])
    await p.press("ans:certifying:no")
    await p.press("ans:long_courses:yes")
    await p.press("ans:work_based:no")
    await p.press("ans:uses_subcontractors:no")
    await p.press("ans:certified:no")
    await p.press("ans:stage:established")


FR = {
    "independent": "Formateur ou consultant",
    "training": "Actions de formation",
    "confirm": "Valider",
    "direct": "En direct",
    "result": "Voir le résultat",
}
EN = {
    "independent": "Freelance trainer",
    "training": "Training actions",
    "confirm": "Confirm",
    "direct": "Directly",
    "result": "See the result",
}


@pytest.mark.parametrize(
    ("lang", "words", "headline"),
    [
        ("fr", FR, "Oui\u00a0: la certification Qualiopi est obligatoire pour vous."),
        ("en", EN, "Yes: Qualiopi certification is compulsory for you."),
    ],
)
async def test_happy_path_to_the_pdf(
    bot: Ctx, lang: str, words: dict[str, str], headline: str
) -> None:
    p = person(bot, lang=lang)
    await p.say("/start")
    assert ("Bonjour" if lang == "fr" else "Hello") in p.texts()[0]
    assert "1" in p.live().text.split("\n")[0]  # the progress line
    await answer_af_opco(p, words)
    assert ("Vos réponses" if lang == "fr" else "Your answers") in p.live().text
    await p.tap(words["result"])
    texts = p.texts()
    assert any(headline in t for t in texts)
    document = next(m for m in p.api.chat(42) if m.document is not None)
    assert document.filename.endswith(".pdf")
    assert "🔔" in p.last().labels()[0], "a compulsory result offers audit reminders"
    pdf_text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(document.document)).pages
    )
    assert " ".join(headline.split()) in " ".join(pdf_text.split())
    _, api, _ = bot
    for call in api.of("answerCallbackQuery"):
        assert call["callback_query_id"]


async def test_each_question_is_one_message_edited_in_place(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    first = p.live().message_id
    await p.tap(FR["independent"])
    assert p.live().message_id == first
    assert "prestations" in p.live().text
    await p.tap(FR["training"])
    assert "✅ Actions de formation" in p.live().labels()
    assert p.live().message_id == first


async def test_back_returns_to_the_previous_question_with_answers_kept(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await p.tap(FR["independent"])
    await p.tap(FR["training"])
    await p.tap(FR["confirm"])
    await p.tap("Retour")
    assert "prestations" in p.live().text
    assert "✅ Actions de formation" in p.live().labels()
    await p.say("/back")
    assert "situation" in p.live().text
    await p.say("/back")
    assert "première question" in p.live().text


async def test_restart_forgets_the_answers(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await p.tap(FR["independent"])
    await p.say("/restart")
    assert "Question 1 " in p.live().text
    _, _, store = bot
    record = await store.load(42)
    assert record.snapshot["answers"] == {}


async def test_an_answer_changed_from_the_review(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await answer_af_opco(p, FR)
    await p.tap("Financeurs")
    assert "✅ OPCO" in p.live().labels()
    await p.tap("OPCO")
    await p.tap("Particuliers")
    await p.tap(FR["confirm"])
    assert "plus tard" in p.live().text  # the outlook question is now needed
    await p.press("ans:future_public:no")
    assert "Vos réponses" in p.live().text
    await p.tap(FR["result"])
    assert any("facultative" in t for t in p.texts())


async def test_a_double_tap_changes_nothing_the_second_time(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    live = p.live().message_id
    await p.press("ans:role:independent", live)
    await p.press("ans:role:independent", live)
    _, api, store = bot
    record = await store.load(42)
    assert record.snapshot["state"] == "activities"
    assert "prestations" in p.live().text
    toasts = [c.get("text") for c in api.of("answerCallbackQuery")]
    assert toasts[0] is None
    assert "étape passée" in toasts[1]


async def test_a_stale_button_on_an_old_message_reshows_the_current_question(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    old = p.live().message_id
    await p.say("1")  # typed: a new message now shows the next question
    assert p.live().message_id != old
    await p.press("ans:role:organisation", old)
    _, _, store = bot
    assert (await store.load(42)).snapshot["answers"] == {"role": "independent"}
    assert "prestations" in p.live().text


@pytest.mark.parametrize(
    "data", ["ans:role:king", "ans:funders:opco", "hack", "ok:role", "x" * 64]
)
async def test_forged_button_data_changes_nothing(bot: Ctx, data: str) -> None:
    p = person(bot)
    await p.say("/start")
    await p.press(data)
    _, api, store = bot
    assert (await store.load(42)).snapshot["answers"] == {}
    assert "situation" in p.live().text
    assert api.of("answerCallbackQuery")[-1].get("text")


@pytest.mark.parametrize("typed", ["1", "independent", "FORMATEUR OU CONSULTANT INDEPENDANT"])
async def test_typed_answers_are_accepted(bot: Ctx, typed: str) -> None:
    p = person(bot)
    await p.say("/start")
    await p.say(typed)
    _, _, store = bot
    assert (await store.load(42)).snapshot["answers"] == {"role": "independent"}


async def test_typed_multi_choice_answer(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await p.say("1")
    await p.say("1 2")
    _, _, store = bot
    assert (await store.load(42)).snapshot["answers"]["activities"] == [
        "training",
        "skills_assessment",
    ]


@pytest.mark.parametrize("typed", ["bonjour", "x" * 5000, "🙂", "/unknown"])
async def test_unrecognised_text_gets_a_hint_and_the_question_again(bot: Ctx, typed: str) -> None:
    p = person(bot)
    await p.say("/start")
    await p.say(typed)
    assert "Répondez avec les boutons" in p.live().text
    assert "situation" in p.live().text


async def test_a_sticker_gets_one_short_line_and_no_crash(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    before = len(p.api.chat(42))
    await p.send_sticker()
    new = p.api.chat(42)[before:]
    assert len(new) == 1
    assert "Je ne lis que le texte et les boutons" in new[0].text
    assert len(new[0].text) < 100
    assert not new[0].buttons, "the question above stays the one to answer"
    assert "répondez à la question ci-dessus" in new[0].text


async def test_a_sticker_at_the_result_points_at_its_buttons_not_at_a_question(bot: Ctx) -> None:
    """The line said "répondez à la question ci-dessus" under a result, where no question is."""
    p = person(bot)
    await p.say("/start")
    for data in INDEPENDENT_OPCO_PRESSES:
        await p.press(data)
    before = len(p.api.chat(42))
    await p.send_sticker()
    (line,) = p.api.chat(42)[before:]
    assert "question" not in line.text
    assert "touchez un des boutons ci-dessus" in line.text


@pytest.mark.parametrize(
    ("alias", "expected"),
    [("/aide", "Aide"), ("/recap", "Vous n’avez encore répondu"), ("/langue", "English")],
)
async def test_french_commands_work(bot: Ctx, alias: str, expected: str) -> None:
    p = person(bot)
    await p.say("/start")
    await p.say(alias)
    assert any(expected in t for t in p.texts()[-3:])


async def test_back_and_restart_have_french_names(bot: Ctx) -> None:
    _, _, store = bot
    p = person(bot)
    await p.say("/start")
    await p.press("ans:role:independent")
    await p.say("/retour")
    assert (await store.load(42)).snapshot["state"] == "role"
    await p.press("ans:role:independent")
    await p.say("/recommencer")
    assert (await store.load(42)).snapshot["answers"] == {}


async def test_in_a_group_the_bot_only_asks_to_be_contacted_privately(bot: Ctx) -> None:
    app, api, store = bot
    raw = message_update(-100123, "fr", chat_type="supergroup", text="/start")
    await app.process_update(Update.de_json(raw, app.bot))
    sent = api.of("sendMessage")
    assert len(sent) == 1
    assert "https://t.me/qualiopi_test_bot" in sent[0]["text"]
    assert (await store.load(-100123)).snapshot is None
    chatter = message_update(-100123, "fr", chat_type="group", text="hello everyone")
    await app.process_update(Update.de_json(chatter, app.bot))
    assert len(api.of("sendMessage")) == 1, "ordinary group talk is not answered"


async def test_rate_limited_send_is_retried_after_retry_after(bot: Ctx) -> None:
    _, api, _ = bot
    api.flood_next("sendMessage", 1)
    p = person(bot)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await p.say("/start")
    assert loop.time() - started >= 1.0
    assert len(api.of("sendMessage")) == 3  # refused welcome, welcome again, first question
    assert "situation" in p.live().text


async def test_a_429_holds_back_its_chat_only(bot: Ctx) -> None:
    """Chat 42's welcome is refused (retry after 1 s); chat 43, starting meanwhile, is
    answered at once, before 42's retry: the wait is 42's alone."""
    app, api, _ = bot
    api.flood_next("sendMessage", 1)
    waiting, other = Person(app, api, 42), Person(app, api, 43)

    async def later() -> None:
        while not api.of("sendMessage"):  # 42's refusal first
            await asyncio.sleep(0.01)
        await other.say("/start")

    await asyncio.gather(waiting.say("/start"), later())
    order = [params["chat_id"] for params in api.of("sendMessage")]
    assert order[0] == 42, "the refused welcome"
    assert order[1:3] == [43, 43], "43's welcome and question went out while 42 waited"
    assert order[3:] == [42, 42]
    assert "situation" in waiting.live().text


async def test_a_button_answer_that_cannot_go_out_costs_the_person_nothing(bot: Ctx) -> None:
    """Answering a button only stops its spinner (which stops by itself): when Telegram keeps
    refusing it (429s past the retries, a network error), the new screen still comes and the
    person is not told that something went wrong."""
    _, api, _ = bot
    p = person(bot)
    await p.say("/start")
    first = p.live().text
    for _ in range(4):  # one refusal more than the retries
        api.flood_next("answerCallbackQuery", 0)
    await p.tap("indépendant")
    assert p.live().text != first, "the next screen came"
    assert not any("mal passé" in t for t in p.texts())
    for _ in range(4):
        api.fail_next(
            "answerCallbackQuery", 502, ok=False, error_code=502, description="Bad Gateway"
        )
    before = p.live().text
    await p.press(p.live().data()[0])
    assert p.live().text != before, "the next screen came"
    assert not any("mal passé" in t for t in p.texts())


async def test_a_429_on_a_buttons_answer_is_neither_retried_nor_waited_for(bot: Ctx) -> None:
    """A late answer to a button is worth nothing: a 429 on it drops it at once, and holds
    back neither the chat nor the bot."""
    app, api, _ = bot
    p = person(bot)
    await p.say("/start")
    first = p.live().text
    api.flood_next("answerCallbackQuery", 5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await p.tap("indépendant")
    await Person(app, api, 43).say("/start")
    assert loop.time() - started < 1.0, "nobody waited the 5 seconds"
    assert p.live().text != first
    assert len(api.of("answerCallbackQuery")) == 1, "not tried again"


async def test_a_bad_gateway_is_retried(bot: Ctx) -> None:
    _, api, _ = bot
    api.fail_next("sendMessage", 502, ok=False, error_code=502, description="Bad Gateway")
    p = person(bot)
    await p.say("/start")
    assert "situation" in p.live().text


CFA_EVERYTHING_PRESSES = [
    "ans:role:organisation",
    *(f"ans:activities:{o}" for o in ("training", "skills_assessment", "vae", "apprenticeship")),
    "ok:activities",
    "ans:selling:both",
    "ans:funders:opco",
    "ans:funders:cpf",
    "ok:funders",
    "ans:cpf_subcontracting:yes",
    "ans:micro_enterprise:no",
    "ans:certifying:yes",
    "ans:long_courses:yes",
    "ans:work_based:alternance",
    "ans:uses_subcontractors:yes",
    "ans:certified:no",
    "ans:stage:new_entrant",
    "ans:sites:several",
]


async def test_an_old_keyboard_that_cannot_be_cleared_costs_the_person_nothing(bot: Ctx) -> None:
    """Clearing the buttons of the last question at the result is best effort: when Telegram
    keeps failing it, the result still comes, without an error message."""
    _, api, _ = bot
    p = person(bot)
    await p.say("/start")
    for data in CFA_EVERYTHING_PRESSES:
        await p.press(data)
    for _ in range(4):  # one failure more than the retries
        api.fail_next("editMessageReplyMarkup", 502, ok=False, error_code=502,
                      description="Bad Gateway")  # fmt: skip
    await p.press("result")
    assert any("la certification Qualiopi est obligatoire" in t for t in p.texts())
    assert not any("mal passé" in t for t in p.texts())
    assert any(m.document is not None for m in api.chat(42)), "the PDF came too"


async def test_a_result_that_cannot_take_the_answers_place_comes_below_them(bot: Ctx) -> None:
    """The answers' message cannot be edited any more (deleted, too old): the result comes as
    a new message, and the answers lose their buttons."""
    p = person(bot)
    await p.say("/start")
    for data in CFA_EVERYTHING_PRESSES:
        await p.press(data)
    answers = p.api.chat(42)[-1]
    p.api.fail_next(
        "editMessageText", 400, ok=False, error_code=400,
        description="Bad Request: message can't be edited",
    )  # fmt: skip
    await p.press("result")
    line = "Oui\u00a0: la certification Qualiopi est obligatoire"
    (result,) = [m for m in p.api.chat(42) if line in m.text]
    assert result.message_id > answers.message_id, "a new message, below the answers"
    assert "res:why" in result.data()
    assert "Vos réponses" in p.api.messages[(42, answers.message_id)].text
    assert not p.api.messages[(42, answers.message_id)].buttons, "no button left to guess at"


async def test_the_result_is_a_short_summary_with_every_detail_one_tap_away(bot: Ctx) -> None:
    """The longest result there is (a CFA doing everything): one summary message under 1,500
    characters, then the PDF; each criterion, the reasons and the next steps open in place."""
    _, _, store = bot
    p = person(bot)
    await p.say("/start")
    for data in CFA_EVERYTHING_PRESSES:
        await p.press(data)
    answers = p.api.chat(42)[-1]
    assert "Vos réponses" in answers.text
    before = len(p.api.chat(42))
    await p.press("result")
    summary = p.api.messages[(42, answers.message_id)]
    assert "Vos réponses" not in summary.text, "the answers' message became the result"
    new = p.api.chat(42)[before:]
    after = [m for m in new if m.document is None]
    texts = [summary, *after]
    assert all(d.startswith(("remind:", "lead:")) for m in after for d in m.data()), (
        "the result in place of the answers, then only the offer"
    )
    assert "back" in summary.data(), "the answers are one tap away"
    assert len(summary.text) <= 1500
    assert sum(len(m.text) for m in texts) < 4096
    assert "Oui\u00a0: la certification Qualiopi est obligatoire" in summary.text
    assert len([m for m in new if m.document is not None]) == 1
    views = [d for d in summary.data() if d.startswith("res:")]
    criteria = [d for d in views if d.removeprefix("res:").isdigit()]
    assert criteria == [f"res:{n}" for n in range(1, 8)]
    assert {"res:why", "res:steps"} <= set(views)
    record = await store.load(42)
    expected = set(evaluation_of(record.snapshot).indicators)
    seen: set[int] = set()
    for data in criteria:
        await p.press(data, summary.message_id)
        shown = p.api.messages[(42, summary.message_id)]  # edited in place
        assert len(shown.text) <= 4096
        seen |= {n for n in expected if f"<b>{n}. " in shown.text}
        assert "Exemples de preuves" in shown.text
        assert "res:summary" in shown.data()
    assert seen == expected, "every indicator and its evidence is reachable"
    await p.press("res:why", summary.message_id)
    assert "Source\u00a0:" in p.api.messages[(42, summary.message_id)].text
    await p.press("res:steps", summary.message_id)
    steps = p.api.messages[(42, summary.message_id)]
    assert "Prochaines étapes" in steps.text
    while "res:steps:" in " ".join(steps.data()):  # a long list comes in pages
        following = next(d for d in steps.data() if d.startswith("res:steps:"))
        await p.press(following, summary.message_id)
        steps = p.api.messages[(42, summary.message_id)]
        assert len(steps.text) <= 4096
    await p.press("res:summary", summary.message_id)
    assert p.api.messages[(42, summary.message_id)].text == summary.text
    assert len(p.api.chat(42)) == before + len(new), "details never pile up new messages"


@pytest.mark.parametrize("leave", ["restart", "/start", "typed", "criterion then /start"])
async def test_a_result_left_keeps_what_it_said_without_its_buttons_or_their_hint(
    bot: Ctx, leave: str
) -> None:
    """Once the person leaves the result (the restart button, /start, or typing at it, which
    brings the result below), the message of the result they were looking at keeps the
    verdict and its reasons, without buttons and without the line telling them to tap one.
    A criterion's view left the same way keeps its own text."""
    p = person(bot)
    await p.say("/start")
    for data in INDEPENDENT_OPCO_PRESSES:
        await p.press(data)
    result = p.api.chat(42)[1]
    hint = "Touchez un critère"
    assert hint in result.text
    assert result.buttons
    verdict = result.text.split("\n")[0]
    if leave == "restart":
        await p.press("restart", result.message_id)
    elif leave == "typed":
        await p.say("bonjour")
    elif leave == "criterion then /start":
        await p.press("res:2", result.message_id)
        criterion = p.api.messages[(42, result.message_id)].text
        await p.say("/start")
    else:
        await p.say("/start")
    left = p.api.messages[(42, result.message_id)]
    assert not left.buttons
    if leave == "criterion then /start":
        assert left.text == criterion
        return
    assert left.text.startswith(verdict)
    assert "indicateurs</b>" in left.text
    assert hint not in left.text
    if leave == "typed":  # the result again, below, with its buttons and their hint
        again = p.live()
        assert again.message_id != result.message_id
        assert hint in again.text


async def test_an_indicator_screen_left_for_a_new_start_keeps_its_own_text(bot: Ctx) -> None:
    """The self-assessment's screen in front of the person when they type /start is not
    taken for the result: it only loses its buttons."""
    p = person(bot)
    await p.say("/start")
    for data in INDEPENDENT_OPCO_PRESSES:
        await p.press(data)
    result = p.api.chat(42)[1]
    await p.press("chk:start", result.message_id)
    screen = p.live()
    assert "Auto-évaluation" in screen.text
    await p.say("/start")
    left = p.api.messages[(42, screen.message_id)]
    assert left.text == screen.text
    assert not left.buttons


async def test_result_buttons_before_the_result_change_nothing(bot: Ctx) -> None:
    _, _, store = bot
    p = person(bot)
    await p.say("/start")
    await p.press("res:3")
    await p.press("res:steps:7")
    await p.press("res:9")
    assert (await store.load(42)).snapshot["state"] == "role"
    assert "situation" in p.live().text


async def test_language_follows_telegram_and_switches_without_losing_answers(bot: Ctx) -> None:
    p = person(bot, lang="en-GB")
    await p.say("/start")
    assert "Which best describes you?" in p.live().text
    await p.tap(EN["independent"])
    await p.say("/language")
    assert "prestations" in p.live().text
    _, _, store = bot
    assert (await store.load(42)).snapshot["answers"] == {"role": "independent"}
    nobody = person(bot, chat_id=43, lang=None)
    await nobody.say("/start")
    assert "situation" in nobody.live().text  # DEFAULT_LANGUAGE (fr)


async def test_deep_link_payload_is_kept_as_the_source(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start salon_lyon-2026")
    _, _, store = bot
    assert (await store.load(42)).source == "salon_lyon-2026"
    q = person(bot, chat_id=44)
    await q.say("/start <script>")
    assert (await store.load(44)).source is None


async def test_summary_and_help(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await p.say("/summary")
    assert any("aucune question" in t for t in p.texts())
    await p.tap(FR["independent"])
    await p.say("/summary")
    assert any("Situation" in t and "Formateur ou consultant" in t for t in p.texts())
    await p.say("/help")
    assert any(t.startswith("<b>Aide</b>") for t in p.texts())
    assert "prestations" in p.live().text


async def test_an_update_delivered_twice_is_applied_once(bot: Ctx) -> None:
    app, _, store = bot
    p = person(bot)
    await p.say("/start")
    raw = message_update(42, "fr", text="1")
    await app.process_update(Update.de_json(raw, app.bot))
    await app.process_update(Update.de_json(raw, app.bot))
    assert (await store.load(42)).snapshot["answers"] == {"role": "independent"}


async def test_commands_are_registered_in_both_languages(bot: Ctx) -> None:
    app, api, _ = bot
    await set_commands(app)
    calls = api.of("setMyCommands")
    assert {c.get("language_code") for c in calls} == {"fr", None}
    assert all(len(c["commands"]) == 10 for c in calls)


async def test_an_unexpected_error_is_logged_without_the_token_and_told_to_the_person(
    bot: Ctx, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.replies as module

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"kaboom with {TOKEN}")

    monkeypatch.setattr(module, "screen_for", boom)
    p = person(bot)
    with caplog.at_level(logging.ERROR):
        await p.say("/start")
    assert any("quelque chose s’est mal passé" in t for t in p.texts())
    assert "kaboom" in caplog.text


async def test_updates_of_one_chat_are_handled_in_order(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api)
    async with app:
        await app.start()
        try:
            start = message_update(7, "fr", text="/start")
            await app.update_queue.put(Update.de_json(start, app.bot))
            for typed in ["1", "1", "1", "1"]:
                await app.update_queue.put(
                    Update.de_json(message_update(7, "fr", text=typed), app.bot)
                )
            for other in range(100, 110):
                await app.update_queue.put(
                    Update.de_json(message_update(other, "fr", text="/start"), app.bot)
                )
            for _ in range(200):
                record = await store.load(7)
                if record.snapshot and record.snapshot["state"] == "certifying":
                    break
                await asyncio.sleep(0.02)
        finally:
            await app.stop()
    record = await store.load(7)
    assert record.snapshot["answers"] == {
        "role": "independent",
        "activities": ["training"],
        "selling": "direct",
        "funders": ["opco"],
    }
    assert record.snapshot["state"] == "certifying"
    for other in range(100, 110):
        assert (await store.load(other)).snapshot["state"] == "role"
    await store.close()


async def test_no_memory_is_kept_per_person_between_updates(bot: Ctx) -> None:
    """State lives in the store: after many people, the application holds nothing per chat
    (no lock, no chat/user data, no "to be persisted" id)."""
    app, _, _ = bot
    for chat_id in range(500, 540):
        p = person(bot, chat_id)
        await p.say("/start")
        await p.say("1")
    processor = app.update_processor
    assert not processor._locks
    assert not processor._users
    assert not app.chat_data
    assert not app.user_data
    assert not app._chat_ids_to_be_updated_in_persistence
    assert not app._user_ids_to_be_updated_in_persistence


async def test_storage_unavailable_tells_the_person_to_retry(
    bot: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.storage import StorageError

    _, _, store = bot
    p = person(bot)
    await p.say("/start")

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StorageError("database is locked")

    monkeypatch.setattr(store, "step", down)
    await p.say("1")
    assert "Réessayez dans quelques instants" in p.texts()[-1]
    monkeypatch.undo()
    await p.say("1")
    assert (await store.load(42)).snapshot["answers"] == {"role": "independent"}


async def test_callback_query_too_old_is_a_normal_outcome(bot: Ctx) -> None:
    _app, api, store = bot
    p = person(bot)
    await p.say("/start")
    api.fail_next(
        "answerCallbackQuery",
        400,
        ok=False,
        error_code=400,
        description="Bad Request: query is too old and response timeout expired",
    )
    await p.press("ans:role:independent")
    assert (await store.load(42)).snapshot["state"] == "activities"


async def test_a_double_tap_on_a_multi_choice_option_does_not_untick_it(bot: Ctx) -> None:
    app, _, store = bot
    p = person(bot)
    await p.say("/start")
    await p.press("ans:role:independent")
    screen = p.live()
    old_buttons = [list(row) for row in screen.buttons]  # the screen before it refreshes
    for _ in range(2):
        raw = callback_update(42, "ans:activities:training", screen.message_id, "fr", old_buttons)
        await app.process_update(Update.de_json(raw, app.bot))
    assert (await store.load(42)).snapshot["pending"] == ["training"]
    await p.press("ans:activities:training")  # tapped on the refreshed, ticked button
    assert "pending" not in (await store.load(42)).snapshot


async def test_polling_network_errors_are_a_warning_not_an_error(
    bot: Ctx, caplog: pytest.LogCaptureFixture
) -> None:
    from telegram.error import NetworkError

    app, _, _ = bot
    with caplog.at_level(logging.WARNING):
        await app.process_error(None, NetworkError("no connection in time"))
    assert "Telegram unreachable for now" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_pdf_that_could_not_be_sent_is_sent_by_the_owed_pdf_job(bot: Ctx) -> None:
    """The result is committed with "a PDF is owed"; if the PDF never goes out (Telegram
    refusing it here; a killed process alike), the job sends it later, once."""
    import datetime as dt
    from types import SimpleNamespace

    app, api, store = bot
    for _ in range(4):  # more than the retries
        api.fail_next("sendDocument", 502, ok=False, error_code=502, description="Bad Gateway")
    p = person(bot)
    await p.say("/start")
    await answer_af_opco(p, FR)
    await p.tap(FR["result"])
    assert not [m for m in api.chat(42) if m.document is not None]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert [chat for chat, _ in await store.pdfs_due(later)] == [42]
    handlers = app.qualiopi
    await handlers.resend_owed_pdfs(SimpleNamespace(application=app))
    assert not [m for m in api.chat(42) if m.document is not None], "not within the grace"
    handlers.now = lambda: later
    await handlers.resend_owed_pdfs(SimpleNamespace(application=app))
    await handlers.resend_owed_pdfs(SimpleNamespace(application=app))
    documents = [m for m in api.chat(42) if m.document is not None]
    assert len(documents) == 1
    assert documents[0].document.startswith(b"%PDF-")
    assert await store.pdfs_due(later) == []


async def test_a_pdf_sent_normally_is_not_owed(bot: Ctx) -> None:
    import datetime as dt

    _app, api, store = bot
    p = person(bot, 43)
    await p.say("/start")
    await answer_af_opco(p, FR)
    await p.tap(FR["result"])
    assert len([m for m in api.chat(43) if m.document is not None]) == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert await store.pdfs_due(later) == []


async def test_a_review_stored_before_the_certified_question_asks_it_then_shows_the_result(
    bot: Ctx,
) -> None:
    from bot.storage import Change, Record
    from tests.answers import INDEPENDENT_OPCO

    _, _, store = bot
    old = {k: v for k, v in INDEPENDENT_OPCO.items() if k != "certified"}
    stored = {"v": 1, "state": "review", "answers": old, "lang": "fr"}
    await store.update(42, 1, lambda _: (Change(Record(stored)), None))
    p = person(bot)
    await p.say("bonjour")  # the person comes back after the deployment
    assert "Êtes-vous déjà certifié Qualiopi" in p.live().text
    await p.press("result")  # an old "see the result" button changes nothing
    assert "Êtes-vous déjà certifié Qualiopi" in p.live().text
    await p.press("ans:certified:yes")
    await p.press("ans:audit_cycle:before_renewal")
    await p.press("ans:scope:covers_all")
    assert "Vos réponses" in p.live().text
    await p.tap("Voir le résultat")
    result = "\n".join(p.texts())
    assert "Ce qui change pour vous au 1er novembre 2026" in result
    assert "Votre prochain audit est le renouvellement" in result
    await p.press("res:1", next(m for m in p.api.chat(42) if "res:1" in m.data()).message_id)
    assert "Changé au 1er novembre 2026" in "\n".join(p.texts())
    record = await store.load(42)
    assert record.snapshot["answers"]["certified"] == "yes"
    assert "stage" not in record.snapshot["answers"]


async def test_a_language_switch_after_the_result_resends_the_summary_only(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await answer_af_opco(p, FR)
    await p.tap(FR["result"])
    summary = next(m for m in p.api.chat(42) if "res:why" in m.data())
    before = len(p.api.chat(42))
    await p.press("lang:en", summary.message_id)
    assert len(p.api.chat(42)) == before, "no second result, PDF or offer"
    shown = p.api.messages[(42, summary.message_id)]
    assert "Yes: Qualiopi certification is compulsory for you." in shown.text
    assert "res:why" in shown.data()


async def test_a_typed_question_about_a_word_is_answered_with_its_meaning(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    for data in ["ans:role:independent", "ans:activities:training", "ok:activities"]:
        await p.press(data)
    await p.press("ans:selling:direct")
    question = p.live()
    await p.say("c'est quoi un OPCO ?")
    said = p.api.chat(42)[-1]
    assert "Opérateur de compétences" in said.text
    assert "L6332-1" in said.text, "with its source"
    assert "Répondez avec les boutons" not in said.text
    assert p.live().message_id == question.message_id, "the question above stays current"


async def test_jargon_questions_explain_their_words_and_accept_i_dont_know(bot: Ctx) -> None:
    _, _, store = bot
    p = person(bot)
    await p.say("/start")
    for data in ["ans:role:independent", "ans:activities:training", "ok:activities"]:
        await p.press(data)
    await p.press("ans:selling:direct")
    assert "info:funders" in p.live().data()
    await p.press("info:funders")
    explained = p.api.chat(42)[-1].text
    for word in ("OPCO", "CPF", "France Travail", "Transitions Pro", "Agefiph", "FAF"):
        assert f"<b>{word}</b>" in explained
    assert len(explained) <= 4096
    await p.press("ans:funders:opco", p.live().message_id)
    await p.press("ok:funders")
    assert {"idk:certifying", "info:certifying"} <= set(p.live().data())
    await p.press("idk:certifying")
    record = await store.load(42)
    assert record.snapshot["answers"]["certifying"] == "yes", "the answer that omits nothing"
    assert record.snapshot["assumed"] == ["certifying"]
    for data in ["ans:long_courses:yes", "ans:work_based:no"]:
        await p.press(data)
    await p.say("je ne sais pas")  # typed, on "subcontractors or portage salarial?"
    record = await store.load(42)
    assert record.snapshot["answers"]["uses_subcontractors"] == "yes"
    assert record.snapshot["assumed"] == ["certifying", "uses_subcontractors"]
    for data in ["ans:certified:no", "ans:stage:established"]:
        await p.press(data)
    await p.tap(FR["result"])
    summary = next(m for m in p.api.chat(42) if "res:why" in m.data())
    assert "Vous ne saviez pas" in summary.text
    assert "Formations certifiantes" in summary.text
    assert len(summary.text) <= 1500


async def test_a_certified_provider_adding_vae_picks_among_its_own_categories(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await p.tap(FR["independent"])
    await p.tap(FR["training"])
    await p.tap("Accompagnement VAE")
    await p.tap(FR["confirm"])
    await p.tap(FR["direct"])
    await p.tap("OPCO")
    await p.tap(FR["confirm"])
    for data in (
        "ans:certifying:no",
        "ans:long_courses:yes",
        "ans:work_based:no",
        "ans:uses_subcontractors:no",
        "ans:certified:yes",
        "ans:audit_cycle:before_surveillance",
        "ans:scope:missing_category",
    ):
        await p.press(data)
    shown = p.live()
    assert [d for d in shown.data() if d.startswith("ans:")] == [
        "ans:missing_categories:training",
        "ans:missing_categories:vae",
    ]
    await p.press("ans:missing_categories:apprenticeship")  # forged: not one of its own
    _, _, store = bot
    assert (await store.load(42)).snapshot.get("pending", []) == []
    await p.press("ans:missing_categories:vae")
    await p.tap(FR["confirm"])
    await p.tap(FR["result"])
    await p.press(
        "res:steps", next(m for m in p.api.chat(42) if "res:steps" in m.data()).message_id
    )
    steps = "\n".join(p.texts()).replace("\u202f", " ").replace("\u00a0", " ")
    assert "audit d’extension" in steps
    assert "la VAE" in steps


async def test_a_company_confirms_it_trains_only_its_staff_before_being_told_no(bot: Ctx) -> None:
    p = person(bot)
    await p.say("/start")
    await p.tap("Entreprise, seuls ses salariés")
    shown = p.live()
    assert "uniquement vos propres salariés" in shown.text
    assert "ne vous est pas demandé" in shown.text
    assert shown.data() == ["cfm:role:employer_internal", "ans:role:organisation", "back"]
    await p.press("cfm:role:independent")  # forged: not an answer that is confirmed
    assert p.live().data() == shown.data()
    await p.tap("CFA ou externes")  # a company CFA: a provider after all
    assert "Quelles prestations proposez-vous" in p.live().text
    await p.tap("Retour")
    await p.tap("Entreprise, seuls ses salariés")
    await p.tap("Oui, nos seuls salariés")
    assert "Vos réponses" in p.live().text
    await p.tap(FR["result"])
    assert any("ne vous est pas demandée" in t for t in p.texts())


async def test_typed_no_never_ends_the_questionnaire_on_not_concerned(bot: Ctx) -> None:
    """On "Quelles prestations proposez-vous ?", a typed "non" is not "Rien de cela"; everyday
    sentences pick the option they name; an exclusive option typed is ticked, shown, and only
    validated by the person."""
    p = person(bot)
    await p.say("/start")
    await p.tap(FR["independent"])
    await p.say("non")
    assert "ne s’applique pas" not in " ".join(p.texts())
    assert "Quelles prestations" in p.live().text  # asked again, nothing chosen
    assert not any("✅" in label for label in p.live().labels())

    await p.say("je fais des formations")
    live = p.live()
    assert "Quelles prestations" not in live.text  # training chosen and validated: next question
    _, _, store = bot
    assert (await store.load(42)).snapshot["answers"]["activities"] == ["training"]

    await p.say("/back")
    await p.say("loisirs")  # the exclusive option: ticked, shown, not validated
    live = p.live()
    assert "Quelles prestations" in live.text
    assert [label for label in live.labels() if "✅" in label] == [
        next(label for label in live.labels() if "Rien de cela" in label)
    ]
    kept = (await store.load(42)).snapshot
    assert kept["answers"]["activities"] == ["training"]
    assert kept["pending"] == ["other"]
    assert "ne s’applique pas" not in " ".join(p.texts())
    await p.say("c'est bon")  # the person validates it themself
    assert (await store.load(42)).snapshot["answers"]["activities"] == ["other"]


@pytest.mark.parametrize(("lang", "words"), [("fr", FR), ("en", EN)])
async def test_criterion_buttons_name_their_criterion_and_lead_to_the_others(
    bot: Ctx, lang: str, words: dict[str, str]
) -> None:
    """ "Critère 3 (4)" told a person nothing: each button names its criterion, short enough
    for two per row on a phone, and a criterion's screen offers the other criteria."""
    p = person(bot, lang=lang)
    await p.say("/start")
    await answer_af_opco(p, words)
    await p.tap(words["result"])
    summary = next(m for m in p.api.chat(42) if "res:1" in m.data())
    buttons = {
        data: label
        for row in summary.buttons
        for button in row
        if (data := button.get("callback_data", "")).removeprefix("res:").isdigit()
        for label in [button["text"]]
    }
    assert len(buttons) == 7
    assert buttons["res:1"].startswith("1. Information (")
    assert buttons["res:3"].startswith("3. Suivi (" if lang == "fr" else "3. Follow-up (")
    assert all(len(label) <= 20 for label in buttons.values()), buttons
    assert all(len(row) <= 2 for row in summary.buttons)
    await p.press("res:3", summary.message_id)
    screen = p.api.messages[(42, summary.message_id)]
    others = [d for d in screen.data() if d.removeprefix("res:").isdigit()]
    assert sorted(others) == [f"res:{n}" for n in (1, 2, 4, 5, 6, 7)]
    assert screen.data()[0] == "res:summary", "the way back comes first"


async def test_a_certified_provider_reads_what_changed_in_2026_in_one_tap_and_on_page_1(
    bot: Ctx,
) -> None:
    """ "What changed on 1 November 2026" was a list of numbers pointing elsewhere (the chat said
    the top of the checklist, the PDF its annex on page 7): one button opens each changed
    indicator with its change, and the PDF's first pages say the same."""
    from tests.answers import INDEPENDENT_OPCO, presses

    p = person(bot)
    await p.say("/start")
    certified = {k: v for k, v in INDEPENDENT_OPCO.items() if k != "stage"}
    certified |= {"certified": "yes", "audit_cycle": "before_renewal", "scope": "covers_all"}
    for data in presses(certified):
        await p.press(data)
    summary = next(m for m in p.api.chat(42) if "res:changed" in m.data())
    assert "🆕 Ce qui change\u202f» les détaille" in summary.text
    _, _, store = bot
    changed = evaluation_of((await store.load(42)).snapshot).changed_at_next_audit
    assert changed
    await p.press("res:changed", summary.message_id)
    screen = p.api.messages[(42, summary.message_id)]
    assert "Ce qui change pour vous au 1er novembre 2026" in screen.text
    assert all(f"<b>{n}. " in screen.text for n in changed)
    assert "interdit toute mention trompeuse" in screen.text, "indicator 1's change, in words"
    assert screen.data()[0] == "res:summary"
    pdf = next(m for m in p.api.chat(42) if m.document is not None).document
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    first = " ".join(" ".join(pages[:2]).split())
    assert "interdit toute mention trompeuse" in first, "the change itself, on the first pages"
    assert "détaillé en annexe" not in " ".join(pages)
