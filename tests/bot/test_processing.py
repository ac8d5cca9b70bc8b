"""One chat at a time, in order; chats concurrently; a chat's backlog holds one slot at most."""

from __future__ import annotations

import asyncio

from telegram import Bot, Update

from bot.telegram.processing import PerChatUpdateProcessor
from tests.bot.fakes import TOKEN, message_update


def update(chat: int, update_id: int) -> Update:
    raw = {**message_update(chat, "fr", text="x"), "update_id": update_id}
    return Update.de_json(raw, Bot(TOKEN))


async def test_a_chats_backlog_does_not_hold_the_slots_other_chats_need() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()
    order: list[str] = []

    async def slow(name: str) -> None:
        order.append(f"start {name}")
        await release.wait()
        order.append(f"end {name}")

    async def quick() -> None:
        order.append("other chat")

    busy = [
        asyncio.create_task(processor.process_update(update(1, i), slow(f"a{i}")))
        for i in range(5)
    ]
    await asyncio.sleep(0.05)
    other = asyncio.create_task(processor.process_update(update(2, 99), quick()))
    await asyncio.wait_for(other, 2)  # before: the backlog of chat 1 held both slots
    assert order == ["start a0", "other chat"]
    release.set()
    await asyncio.gather(*busy)
    ends = [entry for entry in order if entry.startswith("end")]
    assert ends == [f"end a{i}" for i in range(5)], "one chat's updates stay in order"
    assert not processor._locks, "nothing kept per chat once done"
