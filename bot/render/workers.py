"""CPU-heavy work off the bot's event loop and off its core: the PDF in a worker process.

Laying out a checklist PDF costs about 45 ms of CPU; in a thread it would still hold the GIL
and stall every other chat. Worker processes (spawned, so nothing of the bot's threads or
connections is inherited; one per core beyond the bot's own, at a lower CPU priority) keep
their own cache of PDFs per distinct result. A worker ends when the bot does, however it
ends (a SIGKILL leaves no one to shut the pool down: each worker watches its parent), and
leaves Ctrl-C to the bot (no traceback of its own).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import messages

if TYPE_CHECKING:
    from bot.render.documents import Checklist

LOGGER = logging.getLogger("qualiopi_bot")
_pool: ProcessPoolExecutor | None = None
_broken = False


def _cpus() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 2


def _executor() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 (one pool per process, created on first use)
    if _pool is None:
        workers = max(1, _cpus() - 1)  # the bot itself keeps one core
        _pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


PDF_NICENESS = 10
"""How much lower than the bot's the PDF workers' CPU priority is (Unix ``nice``)."""


PARENT_CHECK_SECONDS = 0.5
"""How often a PDF worker checks that the bot that started it is still there."""


def _start_worker(parent: int) -> None:
    """Runs in each PDF worker as it starts. A PDF is background work and a tap waits for its
    answer: a lower CPU priority lets the scheduler serve the bot's event loop first. Ctrl-C
    is the bot's to handle (it shuts the pool down). And the worker exits once its parent is
    gone (about 75 MB each would otherwise outlive a killed bot)."""
    with contextlib.suppress(AttributeError, OSError):  # no nice() on Windows
        os.nice(PDF_NICENESS)
    with contextlib.suppress(ValueError):  # not the main thread (never, in a worker)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with Ctrl-C held back: now ignored
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(
        target=_watch_parent, args=(parent,), name="qualiopi-parent-watch", daemon=True
    ).start()
    _warm_up()


def _warm_up() -> None:
    """Loads, as the worker starts, what its first PDF would otherwise wait for: fpdf2 and its
    imports, and the templates compiled (0.55 s of a first checklist's 0.6 s, measured on the
    2-core machine; the next ones take 60–130 ms)."""
    try:
        import bot.render.pdf  # noqa: F401 (fpdf2 loads with it)

        messages.warm_up()
    except Exception:  # a worker that could not warm up still lays out PDFs, only slower
        LOGGER.exception("a PDF worker could not load its fonts and templates ahead")


def start() -> None:
    """Starts the first PDF worker now, in the background, so that the first result after the
    bot starts does not wait for a process to start and warm up (the others start when PDFs
    queue: one does the work of a quiet hour)."""
    try:
        with _no_interrupt():
            _executor().submit(_started)
    except (OSError, RuntimeError) as exc:  # no process now: the first PDF tries again
        LOGGER.warning("the first PDF worker could not start ahead: %s", exc)
        _discard_pool()


def _started() -> None:
    """Nothing: what a worker is given to make the pool start it."""


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Holds Ctrl-C back while a worker may be started: a child keeps the signal mask it is
    started with, so a Ctrl-C while it imports cannot print a traceback from it (the worker
    ignores the signal once started). A Ctrl-C held back reaches the bot right after."""
    if not hasattr(signal, "pthread_sigmask"):  # not on Windows
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _watch_parent(parent: int) -> None:
    """Ends this worker when the bot is gone (it is then the child of another process)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _discard_pool() -> None:
    global _pool  # noqa: PLW0603 (the broken pool is replaced on the next call)
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None


def pdf_workers_ok() -> bool:
    """Tells whether PDFs can be rendered (False after the workers died twice in a row)."""
    return not _broken


async def render_pdf(order: Checklist) -> bytes:
    """Returns a result's checklist PDF, built in a worker process (once per distinct
    ``Checklist`` there)."""
    from bot.render.documents import checklist_pdf

    return await _in_worker(checklist_pdf, order)


async def lay_out_dossier(
    snapshot: Mapping[str, Any],
    statuses: Mapping[int, str],
    files: Sequence[tuple[Any, bytes]],
    today: dt.date,
) -> tuple[list[tuple[str, Any, bytes]], bytes]:
    """A dossier de preuves laid out (``dossier.layout``: each piece at its path) and its index
    PDF, built in a worker process like the checklist: a PDF's CPU never holds up the taps.
    ``dossier.pack`` then makes the ZIP part(s)."""
    from bot.render.dossier import index_pdf, layout

    placed = layout(snapshot, files)
    about = [(path, evidence) for path, evidence, _ in placed]
    index = await _in_worker(index_pdf, dict(snapshot), dict(statuses), about, today)
    return placed, index


async def _in_worker(fn: Callable[..., bytes], *args: Any) -> bytes:
    """Runs ``fn`` in a worker process. A pool whose worker died (killed, out of memory) is
    rebuilt and the work tried once more."""
    global _broken  # noqa: PLW0603 (one state for the one pool of the process)
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        try:
            with _no_interrupt():  # a worker started here starts deaf to Ctrl-C
                job = loop.run_in_executor(_executor(), fn, *args)
            content = await job
        except BrokenProcessPool:
            LOGGER.error("a PDF worker process died: starting new ones (attempt %s)", attempt)
            _discard_pool()
            if attempt == 2:
                _broken = True
                raise
            continue
        _broken = False
        return content
    raise AssertionError("unreachable")
