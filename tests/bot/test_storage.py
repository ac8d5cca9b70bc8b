"""Storage on SQLite and PostgreSQL: the same behaviour, and several workers sharing it."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.storage import (
    MIGRATIONS,
    PG_MIGRATIONS,
    Change,
    DuplicateUpdate,
    Record,
    SQLStore,
    Tally,
    open_store,
)
from tests.bot.fakes import FakeBotAPI, make_app, message_update
from tests.bot.stores import PostgresStore, SQLiteStore


def second_connection(store: SQLStore, tmp_path: Path) -> SQLStore:
    """Another store on the same database, as a second worker process would open it."""
    if isinstance(store, PostgresStore):
        return PostgresStore(store.url)
    return SQLiteStore(tmp_path / "bot.sqlite3")


def tables(sql: str) -> list[str]:
    return sorted(w.split()[0] for w in sql.split("CREATE TABLE ")[1:])


def test_both_backends_have_the_same_schema_steps() -> None:
    assert len(MIGRATIONS) == len(PG_MIGRATIONS)
    for sqlite_step, pg_step in zip(MIGRATIONS, PG_MIGRATIONS, strict=True):
        assert tables(sqlite_step) == tables(pg_step)
    every_pg_step = "".join(PG_MIGRATIONS)
    for column in ("chat_id", "live_message_id", "last_update_id"):
        assert f"{column} BIGINT" in every_pg_step  # Telegram ids exceed 32 bits
        assert f"{column} INTEGER" not in every_pg_step
    assert "AUTOINCREMENT" not in every_pg_step
    assert every_pg_step.count("BIGSERIAL PRIMARY KEY") == 4


def test_database_urls_choose_the_backend(tmp_path: Path) -> None:
    assert type(open_store(f"sqlite:///{tmp_path}/x.db")).__name__ == "SQLiteStore"
    assert type(open_store("postgresql://u:p@127.0.0.1/db")).__name__ == "PostgresStore"


async def test_round_trip_and_schema_version(store: SQLStore) -> None:
    await store.open()
    assert await store.schema_version() == len(MIGRATIONS)
    assert await store.load(1) == Record()
    record = Record({"v": 1, "state": "role", "answers": {}, "lang": "fr"}, 5, "src", 9, {"k": 1})
    await store.save(1, record, [Tally("started", "", "src")])
    assert await store.load(1) == record
    await store.set_live_message(1, 6)
    assert (await store.load(1)).live_message_id == 6


async def test_update_applies_once_per_update_id(store: SQLStore) -> None:
    def decide(record: Record) -> tuple[Change, int]:
        count = record.meta.get("count", 0) + 1
        return Change(Record(None, None, None, 10, {"count": count})), count

    assert await store.update(1, 10, decide) == 1
    with pytest.raises(DuplicateUpdate):
        await store.update(1, 10, decide)
    assert (await store.load(1)).meta["count"] == 1
    assert await store.update(1, 12, decide) == 2
    assert await store.update(1, 11, decide) == 3, "an older update arriving late is not lost"
    with pytest.raises(DuplicateUpdate):
        await store.update(1, 11, decide)


async def test_a_step_whose_decision_fails_writes_nothing_and_the_next_one_works(
    store: SQLStore,
) -> None:
    """A decision that raises (after the reads, inside the transaction) leaves the chat as it
    was, its owed replies untouched, and the connection fit for the next step."""
    lease = dt.timedelta(seconds=30)

    def says(record: Record) -> tuple[Change, None]:
        return Change(Record(None, None, None, 1, {"n": 1}), says=({"kind": "x"},)), None

    def fails(record: Record) -> tuple[Change, None]:
        raise ValueError("a bug in the decision")

    await store.update(5, 1, says)  # an owed reply nobody holds yet
    for _ in range(3):  # more than once: every pooled connection comes back clean
        with pytest.raises(ValueError, match="a bug"):
            await store.step(5, 2, fails, lease)
    assert (await store.load(5)).meta["n"] == 1
    _, owed = await store.step(5, 3, lambda r: (None, None), lease)
    assert [action for _, action in owed] == [{"kind": "x"}], "still owed, and held now"


async def test_concurrent_steps_of_one_chat_never_interleave(
    store: SQLStore, tmp_path: Path
) -> None:
    second = second_connection(store, tmp_path)

    def bump(update_id: int) -> Any:
        def decide(record: Record) -> tuple[Change, None]:
            seen = list(record.meta.get("seen", []))
            return Change(Record(None, None, None, None, {"seen": [*seen, update_id]})), None

        return decide

    await store.open()
    await second.open()
    # Forty updates, increasing ids, sent to two "workers" at once: each is applied once, and
    # none is lost to a lost update (read-modify-write under the chat lock).
    jobs = [(store if i % 2 else second).update(7, i, bump(i)) for i in range(1, 41)]
    await asyncio.gather(*jobs)
    seen = (await store.load(7)).meta["seen"]
    assert sorted(seen) == list(range(1, 41)), "each update applied once, none lost"
    await second.close()


async def test_two_workers_share_a_database_safely(store: SQLStore, tmp_path: Path) -> None:
    """Two bot workers get updates of the same chats at once: stored answers are exact."""
    second_store = second_connection(store, tmp_path)
    api_a, api_b = FakeBotAPI(), FakeBotAPI()
    worker_a, _ = make_app(tmp_path, api_a, store)
    worker_b, _ = make_app(tmp_path, api_b, second_store)
    chats = range(300, 310)
    async with worker_a, worker_b:
        starts = [message_update(c, "fr", text="/start") for c in chats]
        await asyncio.gather(
            *(worker_a.process_update(Update.de_json(u, worker_a.bot)) for u in starts)
        )
        typed = [message_update(c, "fr", text="1") for _ in range(4) for c in chats]
        # Same chats, both workers, concurrently; each update is also delivered to both.
        jobs = []
        for raw in typed:
            jobs.append(worker_a.process_update(Update.de_json(raw, worker_a.bot)))
            jobs.append(worker_b.process_update(Update.de_json(raw, worker_b.bot)))
        await asyncio.gather(*jobs)
    for chat in chats:
        record = await store.load(chat)
        assert record.snapshot["answers"] == {
            "role": "independent", "activities": ["training"], "selling": "direct",
            "funders": ["opco"]}, chat  # fmt: skip
        assert record.snapshot["state"] == "certifying"
    tallies = await store.tallies(None, None)
    started = sum(n for _, kind, _, _, n in tallies if kind == "started")
    assert started == len(chats), "no conversation counted twice"
    await second_store.close()


async def test_delete_and_purge(store: SQLStore) -> None:
    record = Record({"v": 1, "state": "role", "answers": {}, "lang": "fr"})
    reminders = ("fr", [(dt.date(2027, 5, 15), "surveillance")])
    await store.update(1, 1, lambda _: (Change(record, reminders=reminders), None))
    assert [r.kind for r in await store.due_reminders(dt.date(2027, 5, 15))] == ["surveillance"]
    counts = await store.delete_person(1)
    assert counts["conversations"] == 1
    assert counts["reminders"] == 1
    assert await store.dump_chat(1) == {
        "conversations": [],
        "questionnaires": [],
        "leads": [],
        "reminders": [],
        "assessments": [],
        "evidence": [],
    }
    await store.save(2, Record({"v": 1, "state": "role", "answers": {}, "lang": "fr"}))
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert (await store.purge_before(future))["conversations"] == 1


async def test_tallies_add_up(store: SQLStore) -> None:
    await store.save(1, Record(), [Tally("reached", "role", "x"), Tally("reached", "role", "x")])
    await store.save(2, Record(), [Tally("reached", "role", "x", -1)])
    rows = await store.tallies(None, None)
    assert [(kind, detail, src, n) for _, kind, detail, src, n in rows] == [
        ("reached", "role", "x", 1)
    ]


async def test_sqlite_steps_wait_for_a_file_held_briefly_by_another_process(
    tmp_path: Path,
) -> None:
    """A step normally runs in place; when another process holds the file, it waits for it
    off the event loop (other work goes on meanwhile) and then applies exactly once."""
    import sqlite3

    store = SQLiteStore(tmp_path / "bot.sqlite3", busy_timeout=5.0)
    calls = 0

    def decide(record: Record) -> tuple[Change, int]:
        nonlocal calls
        calls += 1
        count = record.meta.get("count", 0) + 1
        return Change(Record(None, None, None, 10, {"count": count})), count

    assert await store.update(1, 10, decide) == 1
    other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    ticks = 0

    async def loop_keeps_running() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.02)
            ticks += 1
        other.execute("ROLLBACK")
        other.close()

    result, _ = await asyncio.gather(store.update(1, 11, decide), loop_keeps_running())
    assert result == 2
    assert ticks == 10, "the event loop was not blocked while the step waited"
    assert (await store.load(1)).meta["count"] == 2
    assert calls == 2, "decide ran once per applied step (the busy attempt failed before it)"
    await store.close()


def test_migrate_command_checks_then_brings_the_schema_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from bot.cli import main
    from bot.storage import SCHEMA_VERSION

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.sqlite3")
    monkeypatch.chdir(tmp_path)  # no .env here

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        status = main(["migrate", *argv], io.StringIO(), out, err)
        return status, out.getvalue(), err.getvalue()

    status, _, err = run("--check")
    assert status == 1
    assert "run `qualiopi-bot migrate`" in err
    status, out, _ = run()
    assert status == 0
    assert f"({SCHEMA_VERSION})" in out or f"version {SCHEMA_VERSION}" in out
    assert run("--check")[0] == 0


async def test_a_worker_that_does_not_migrate_refuses_an_old_schema(tmp_path: Path) -> None:
    from bot.storage import StorageError, open_store

    store = open_store(f"sqlite:///{tmp_path}/old.sqlite3", migrate=False)
    with pytest.raises(StorageError, match="qualiopi-bot migrate"):
        await store.open()
    await store.close()


async def test_evidence_is_kept_in_chunks_and_erased_with_the_person(store: SQLStore) -> None:
    """A piece larger than a chunk comes back byte for byte; /delete and the purge take it."""
    from bot.storage import NewEvidence
    from bot.storage.evidence import CHUNK

    content = bytes(range(256)) * (CHUNK // 256 * 2 + 3)  # two chunks and a bit
    snapshot = {"v": 1, "state": "result", "answers": {}, "lang": "fr"}

    def attach(number: int, body: bytes) -> Any:
        def decide(record: Record) -> tuple[Change, None]:
            new = NewEvidence(number, 4, "document", f"p{number}.pdf", "", "application/pdf", body)
            return Change(Record(snapshot), evidence_added=new), None

        return decide

    await store.update(7, 1, attach(1, content))
    await store.update(7, 2, attach(2, b"small"))
    listed = (await store.record(7)).evidence
    assert [(e.id, e.name, e.size) for e in listed] == [
        (1, "p1.pdf", len(content)),
        (2, "p2.pdf", 5),
    ]
    files = await store.evidence_files(7)
    assert [body for _, body in files] == [content, b"small"]
    held = await store.dump_chat(7)
    assert [e["name"] for e in held["evidence"]] == ["p1.pdf", "p2.pdf"]
    assert "data" not in held["evidence"][0], "the privacy view lists, it does not dump files"
    counts = await store.delete_person(7)
    assert counts["evidence"] == 2
    assert await store.evidence_files(7) == []
    await store.update(8, 3, attach(1, b"old"))
    await store.delete_person(8)  # its conversation gone, as the purge finds it…
    await store.update(8, 4, attach(2, b"orphan"))
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await store.purge_before(future)
    assert await store.evidence_files(8) == []


async def test_a_tap_on_postgresql_costs_three_round_trips_on_the_event_loop(
    tmp_path: Path,
) -> None:
    """A step is two round trips (its reads, then its writes with the commit), the reply's
    bookkeeping one, and so is each later write (the PDF sent). Counted in libpq's trace while
    a person goes through the questionnaire, the result (evidence read) and the
    self-assessment. The step and the reply's bookkeeping run in the event loop's thread (no
    hand-off to a worker thread); for a screen edited in place, the bookkeeping is one
    statement (the step recorded the live message already)."""
    from tests.answers import presses
    from tests.bot.conftest import POSTGRES_URL, reset_postgres
    from tests.bot.fakes import Person
    from tests.bot.stores import Traced

    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL here: set QUALIOPI_TEST_POSTGRES_URL (.ci/run does)")
    reset_postgres(POSTGRES_URL)
    store = Traced(POSTGRES_URL)
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api, store)
    per_tap: list[list[int]] = []
    loop_thread = threading.current_thread().name
    async with app:
        person = Person(app, api, 42)
        await person.say("/start")
        answers = {"role": "independent", "activities": ["training"], "selling": "direct",
                   "funders": ["cpf"], "certifying": "no", "long_courses": "no",
                   "work_based": "no", "uses_subcontractors": "no", "certified": "no",
                   "stage": "established"}  # fmt: skip
        taps = [*presses(answers), "chk:start"]
        for data in taps:
            store.trips.clear()
            store.threads.clear()
            store.statements.clear()
            await person.press(data)
            per_tap.append(list(store.trips))
            assert store.threads[:2] == [loop_thread] * 2, (data, store.threads)
            if data.startswith(("ans:", "ok:", "cfm:")):  # a question edited in place
                assert store.statements[1] == 1, "its bookkeeping: the reply said, nothing more"
        live = person.live()
        store.trips.clear()
        await person.press(next(d for d in live.data() if d.endswith(":done")), live.message_id)
        per_tap.append(list(store.trips))
    await store.close()
    assert person.live().text, "the taps were answered"
    for data, trips in zip([*taps, "chk:n:done"], per_tap, strict=True):
        step, *rest = trips
        assert step == 2, (data, trips)
        assert rest, (data, trips)
        assert all(t == 1 for t in rest), (data, trips)  # the reply's, then the PDF's
        assert step + rest[0] <= 3, (data, trips)
