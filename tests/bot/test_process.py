"""The real ``qualiopi-bot run`` process against a local fake Bot API, killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.answers import INDEPENDENT_OPCO, INDEPENDENT_OPCO_PRESSES, owes_pdf, result_shown
from tests.bot.fake_server import FakeTelegramServer
from tests.bot.fakes import TOKEN, callback_update, message_update

pytestmark = pytest.mark.slow  # real processes: seconds each

ANSWERS = INDEPENDENT_OPCO_PRESSES


@pytest.fixture
def server() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as fake:
        yield fake


def start_bot(
    server: FakeTelegramServer, tmp_path: Path, log: Path, **extra: str
) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": server.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3",
        "LOG_LEVEL": "DEBUG",
        "DEFAULT_LANGUAGE": "fr",
        **extra,
    }
    with log.open("ab") as handle:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    """Stops the bot (SIGTERM), killing it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def replies(server: FakeTelegramServer, chat_id: int | None = None) -> int:
    """Counts the replies that end the bot's answer to an update (a keyboard, or the PDF)."""
    return sum(
        1
        for name, params in server.api.calls
        if (chat_id is None or int(params.get("chat_id", 0)) == chat_id)
        and (
            name == "sendDocument"
            or (name in ("sendMessage", "editMessageText") and params.get("reply_markup"))
        )
    )


def act(server: FakeTelegramServer, update: dict[str, Any]) -> None:
    """Sends one update and waits until the bot has answered it in that chat."""
    chat = (update.get("message") or update["callback_query"]["message"])["chat"]["id"]
    before = replies(server, chat)
    server.push(update)
    server.wait_for(lambda: replies(server, chat) > before)


def live_message(server: FakeTelegramServer, chat_id: int) -> int:
    """The newest message with the questionnaire's buttons (not a follow-up offer)."""
    with_buttons = [
        m
        for m in server.api.chat(chat_id)
        if m.buttons and not any(d.startswith(("lead:", "remind:")) for d in m.data())
    ]
    return with_buttons[-1].message_id


def press(server: FakeTelegramServer, chat_id: int, data: str) -> None:
    act(server, callback_update(chat_id, data, live_message(server, chat_id)))


def test_the_bot_process_survives_sigkill_without_losing_answers(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    process = start_bot(server, tmp_path, log)
    try:
        act(server, message_update(501, "fr", text="/start"))
        for data in ANSWERS:
            press(server, 501, data)
        server.wait_for(lambda: server.count("sendDocument") >= 1)

        act(server, message_update(502, "en", text="/start"))
        for data in ANSWERS[:5]:
            press(server, 502, data)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        process = start_bot(server, tmp_path, log)
        for data in ANSWERS[5:]:
            press(server, 502, data)
        server.wait_for(lambda: server.count("sendDocument") >= 2)
    finally:
        stop_bot(process)
    texts = [m.text for m in server.api.chat(502)]
    assert any("Yes: Qualiopi certification is compulsory for you." in t for t in texts)
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        stored = dict(conn.execute("SELECT chat_id, snapshot FROM conversations").fetchall())
    kept = json.loads(stored[502])["answers"]
    assert kept == INDEPENDENT_OPCO, "answers before the kill were kept"
    output = log.read_text(errors="replace")
    assert TOKEN not in output
    assert "Traceback" not in output
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    handled = [e for e in events if e["msg"] == "update handled"]
    assert len(handled) >= len(ANSWERS)
    assert all(e["chat"] not in ("501", "502") and len(e["chat"]) == 12 for e in handled)
    workers = {e["worker"] for e in events}
    assert len(workers) == 2, "each line names its worker: the killed one, then the restarted"


RESULT_LINE = "la certification Qualiopi est obligatoire pour vous."


def test_a_reply_lost_to_sigkill_after_its_commit_is_said_once_after_the_restart(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    """The step "see the result" is committed, then the Bot API never answers its result
    screen and the bot is killed: the restarted bot says that screen, once, then the PDF."""
    log = tmp_path / "bot.log"
    process = start_bot(server, tmp_path, log, REPLY_LEASE_SECONDS="2")
    try:
        act(server, message_update(801, "fr", text="/start"))
        for data in ANSWERS[:-1]:
            press(server, 801, data)
        server.hang = lambda name, params: (  # the result, edited into the answers' message
            name == "editMessageText" and RESULT_LINE in str(params.get("text", ""))
        )
        server.push(callback_update(801, ANSWERS[-1], live_message(server, 801)))
        server.wait_for(lambda: bool(server.hung))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
            state = conn.execute("SELECT snapshot FROM conversations").fetchone()[0]
            owed = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        assert json.loads(state)["state"] == "result", "the step was committed"
        assert owed >= 2, "its result screen and its PDF are owed"
        assert not any(RESULT_LINE in m.text for m in server.api.chat(801))
        server.unhang()

        process = start_bot(server, tmp_path, log, REPLY_LEASE_SECONDS="2")
        server.wait_for(lambda: server.count("sendDocument") >= 1, timeout=40)
        time.sleep(1.5)  # room for a second delivery, were there one
    finally:
        stop_bot(process)
    results = [m for m in server.api.chat(801) if RESULT_LINE in m.text]
    assert len(results) == 1, "the result screen was said once"
    assert results[0].buttons, "with its buttons"
    assert server.count("sendDocument") == 1
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0, "nothing owed"
        live = conn.execute("SELECT live_message_id FROM conversations").fetchone()[0]
    assert live == results[0].message_id, "the next tap is read from the result screen"
    assert "Traceback" not in log.read_text(errors="replace")


def test_sigterm_stops_cleanly_and_loses_no_update(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    """SIGTERM: the bot finishes what it has in hand and exits 0; an update fetched but not
    yet started is not confirmed to Telegram, so the next start answers it, once."""
    log = tmp_path / "bot.log"
    process = start_bot(server, tmp_path, log)
    try:
        act(server, message_update(701, "fr", text="/start"))
        update = message_update(701, "fr", text="1")
        server.push(update)
        server.wait_for(lambda: update["update_id"] in server.delivered)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        process = start_bot(server, tmp_path, log)
        server.wait_for(
            lambda: any("prestations" in m.text for m in server.api.chat(701)), timeout=20
        )
    finally:
        process.terminate()
        process.wait(timeout=20)
    answered = [m for m in server.api.chat(701) if "prestations" in m.text]
    assert len(answered) == 1, "answered once"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_webhook_mode_checks_the_secret_token(server: FakeTelegramServer, tmp_path: Path) -> None:
    import json
    import time
    import urllib.error
    import urllib.request

    port, health = free_port(), free_port()
    env_extra = {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram-hook",
        "WEBHOOK_SECRET": "s3cret-token_1",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "HEALTH_PORT": str(health),
    }
    log = tmp_path / "bot.log"
    process = start_bot(server, tmp_path, log, **env_extra)
    try:
        server.wait_for(lambda: server.count("setWebhook") >= 1)
        hook = server.api.of("setWebhook")[0]
        assert hook["url"] == env_extra["WEBHOOK_URL"]
        assert hook["secret_token"] == env_extra["WEBHOOK_SECRET"]

        def post(secret: str) -> int:
            body = json.dumps(message_update(601, "fr", text="/start")).encode()
            request = urllib.request.Request(
                env_extra["WEBHOOK_URL"],
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": secret,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                with exc:  # an error response holds its socket until closed
                    return exc.code

        deadline = time.monotonic() + 20
        while True:  # the webhook server starts right after setWebhook
            try:
                status = post("wrong")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 403
        assert not server.api.chat(601)
        before = replies(server)
        assert post(env_extra["WEBHOOK_SECRET"]) == 200
        server.wait_for(lambda: replies(server) > before)
        assert any("situation" in m.text for m in server.api.chat(601))
        with urllib.request.urlopen(f"http://127.0.0.1:{health}/health", timeout=5) as r:
            assert r.status == 200
            assert json.loads(r.read())["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{health}/metrics", timeout=5) as r:
            assert 'qualiopi_updates_total{event="command"} 1.0' in r.read().decode()
        for path in ("/health", "/metrics"):  # not on the webhook's address
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
            with refused.value:  # an error response holds its socket until closed
                assert refused.value.code == 404
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert TOKEN not in log.read_text(errors="replace")


def next_tap(live: Any, answers: dict[str, Any]) -> str | None:
    """Returns what a person with these answers taps on the screen shown."""
    data = live.data()
    confirming = next((d for d in data if d.startswith("cfm:")), None)
    if confirming is not None:  # "yes, that is me": the answer was the planned one
        return confirming
    question = next((d.split(":")[1] for d in data if d.startswith("ans:")), None)
    if question is None:
        return "result" if "result" in data else None
    if isinstance(answers[question], str):
        return f"ans:{question}:{answers[question]}"
    ticked = {
        b["callback_data"] for row in live.buttons for b in row if b["text"].startswith("✅")
    }
    missing = [
        f"ans:{question}:{o}" for o in answers[question] if f"ans:{question}:{o}" not in ticked
    ]
    return missing[0] if missing else f"ok:{question}"


def assert_one_result_each(
    server: FakeTelegramServer, tmp_path: Path, planned: dict[int, dict[str, Any]]
) -> None:
    """Each chat completed exactly one questionnaire, with exactly its answers, one PDF."""
    import sqlite3

    from flows.contract import QUESTIONS

    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        completed = conn.execute("SELECT chat_id, answers FROM questionnaires").fetchall()
    for chat, answers in planned.items():
        expected = {
            q: v if isinstance(v, str) else sorted(v, key=QUESTIONS[q].options.index)
            for q, v in answers.items()
        }
        results = [json.loads(a) for c, a in completed if c == chat]
        assert results == [expected], chat  # one result, with exactly the answers given
        documents = [m for m in server.api.chat(chat) if m.document is not None]
        assert len(documents) == owes_pdf(answers), "one result, one PDF (none if not concerned)"


def test_sigkill_at_random_points_loses_no_acknowledged_answer(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    """Eight people answer at once while the bot is killed with SIGKILL three times at random
    and restarted: each acts on what the chat shows (as a person would, tapping again when
    nothing happens), and every conversation reaches its result with exactly its answers."""
    import random
    import time

    from tests.answers import INDEPENDENT_OPCO

    rng = random.Random(11)
    planned = {chat: dict(INDEPENDENT_OPCO) for chat in range(901, 909)}
    for chat in (903, 906):
        planned[chat] |= {"funders": ["cpf", "region"], "stage": "new_entrant"}
    log = tmp_path / "bot.log"
    process = start_bot(server, tmp_path, log)
    kills = 0
    next_kill = time.monotonic() + rng.uniform(0.3, 0.8)
    deadline = time.monotonic() + 90

    def done(chat: int) -> bool:
        return result_shown(server.api.chat(chat), planned[chat])

    started: dict[int, float] = {}
    last_tap: dict[int, tuple[Any, float]] = {}
    try:
        for chat in planned:
            server.push(message_update(chat, "fr", text="/start"))
            started[chat] = time.monotonic()
        while not all(done(c) for c in planned):
            assert time.monotonic() < deadline, "conversations did not finish"
            for chat, answers in planned.items():
                if done(chat):
                    continue
                shown = [m for m in server.api.chat(chat) if m.buttons]
                if not shown:  # nothing to tap yet: a person would send /start again
                    if time.monotonic() - started.get(chat, 0) > 1.5:
                        server.push(message_update(chat, "fr", text="/start"))
                        started[chat] = time.monotonic()
                    continue
                live = shown[-1]
                press_data = next_tap(live, answers)
                if press_data:
                    # As a person: tap what the screen shows; tap again only when nothing
                    # happened for a while (the bot may have been killed meanwhile).
                    seen = (live.message_id, live.text, tuple(live.data()), press_data)
                    if last_tap.get(chat, (None, 0.0))[0] == seen and (
                        time.monotonic() - last_tap[chat][1] < 2.0
                    ):
                        continue
                    last_tap[chat] = (seen, time.monotonic())
                    server.push(
                        callback_update(chat, press_data, live.message_id, "fr", live.buttons)
                    )
            time.sleep(0.25)
            if kills < 3 and time.monotonic() > next_kill:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                kills += 1
                process = start_bot(server, tmp_path, log)
                next_kill = time.monotonic() + rng.uniform(0.8, 1.6)
    finally:
        stop_bot(process)
    assert kills == 3

    assert_one_result_each(server, tmp_path, planned)
    assert "Traceback" not in log.read_text(errors="replace")


def test_two_webhook_workers_on_one_database_each_update_to_both(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    """Two real ``qualiopi-bot run`` processes in webhook mode share one database (SQLite here:
    the file lock is the cross-process lock). Every update of six people is posted to both
    workers at once, as a proxy retrying on the other worker would: each person completes
    exactly one questionnaire with exactly its answers, and gets one PDF."""
    import random
    import threading
    import time
    import urllib.request

    from bench.__main__ import random_answers

    rng = random.Random(3)
    planned = {chat: random_answers(rng) for chat in range(951, 957)}
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = [
        start_bot(server, tmp_path, log, WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
                  WEBHOOK_SECRET="two-workers", WEBHOOK_LISTEN="127.0.0.1",
                  WEBHOOK_PORT=str(port))
        for port, log in zip(ports, logs, strict=True)
    ]  # fmt: skip

    def post(port: int, update: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/hook",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json",
                     "X-Telegram-Bot-Api-Secret-Token": "two-workers"},
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5):
                    return
            except OSError:  # the worker's webhook server is starting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def to_both(update: dict[str, Any]) -> None:
        threads = [threading.Thread(target=post, args=(port, update)) for port in ports]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def done(chat: int) -> bool:
        return result_shown(server.api.chat(chat), planned[chat])

    last: dict[int, Any] = {}
    deadline = time.monotonic() + 90
    try:
        for chat in planned:
            to_both(message_update(chat, "fr", text="/start"))
        while not all(done(c) for c in planned):
            assert time.monotonic() < deadline, "conversations did not finish"
            for chat, answers in planned.items():
                shown = [m for m in server.api.chat(chat) if m.buttons]
                if done(chat) or not shown:
                    continue
                live = shown[-1]
                tap = next_tap(live, answers)
                seen = (live.message_id, live.text, tuple(live.data()), tap)
                if tap is None or last.get(chat) == seen:
                    continue  # already tapped: wait for the screen to change
                last[chat] = seen
                to_both(callback_update(chat, tap, live.message_id, "fr", live.buttons))
            time.sleep(0.1)
    finally:
        for worker in workers:
            stop_bot(worker)
    assert_one_result_each(server, tmp_path, planned)
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace")


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_pdf_workers_end_with_a_killed_bot(server: FakeTelegramServer, tmp_path: Path) -> None:
    """The PDF worker processes (about 75 MB each) do not outlive a bot killed with SIGKILL,
    which leaves no one to shut them down; nor does Ctrl-C make them print a traceback."""
    log = tmp_path / "bot.log"
    process = start_bot(server, tmp_path, log)
    try:
        act(server, message_update(901, "fr", text="/start"))
        for data in ANSWERS:
            press(server, 901, data)
        server.wait_for(lambda: server.count("sendDocument") >= 1)
        workers = _children(process.pid)
        assert workers, "the PDF was made in worker processes"
        for pid in workers:
            os.kill(pid, signal.SIGINT)  # as Ctrl-C sends it to the whole group
        time.sleep(0.5)
        assert all(_alive(pid) for pid in workers), "Ctrl-C is the bot's to handle"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "the workers ended with the bot"
    finally:
        if process.poll() is None:
            stop_bot(process)
    assert "KeyboardInterrupt" not in log.read_text(errors="replace")
