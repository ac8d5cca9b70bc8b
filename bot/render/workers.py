"""CPU-heavy work off the bot's event loop and off its core: the PDF in a worker process.

Laying out a checklist PDF costs about 150 ms of CPU; in a thread it would still hold the GIL
and stall every other chat. Worker processes (spawned, so nothing of the bot's threads or
connections is inherited; one per core beyond the bot's own) keep their own cache of PDFs per
distinct result.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 (one pool per process, created on first use)
    if _pool is None:
        workers = max(1, (os.cpu_count() or 2) - 1)  # the bot itself keeps one core
        _pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


async def render_pdf(snapshot: Mapping[str, Any], brand: Mapping[str, Any] | None) -> bytes:
    """Returns the checklist PDF of a finished conversation, built in the worker process."""
    from bot.render.screens import result_pdf

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), result_pdf, dict(snapshot), brand)
