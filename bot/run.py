"""``qualiopi-bot run``: settings, logging, storage, then polling or webhook
(``bot.telegram.web.serve``)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import TextIO

import messages
from bot.config import SettingError, Settings, load_settings
from bot.logs import configure_logging, secrets_of
from bot.storage import StorageError, open_store

LOGGER = logging.getLogger("qualiopi_bot")


def operator_language() -> str:
    """Returns the language of the person starting the bot (from LANG), for start-up lines."""
    return messages.language_or_default(os.environ.get("LANG", "")[:2] or None)


def _settings(lang: str, stderr: TextIO) -> Settings | None:
    """The settings, or None after one line saying which one is wrong."""
    try:
        return load_settings()
    except SettingError as exc:
        stderr.write(f"qualiopi-bot: {exc.line(lang)}\n")
        return None


def run_bot(stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Starts the bot; returns the exit status."""
    lang = operator_language()
    settings = _settings(lang, stderr)
    if settings is None:
        return 2
    if settings.token is None:
        if not stdin.isatty():  # a container, a service: not a person at a terminal
            stderr.write(f"qualiopi-bot: {messages.text(lang, 'settings', 'no_token_service')}\n")
            return 2
        from bot.console import run_console

        stderr.write(messages.text(lang, "settings", "no_token") + "\n")
        return run_console(settings.default_language, stdin, stdout)
    configure_logging(
        settings.log_level, secrets_of(settings), json_lines=settings.log_format == "json"
    )
    store = open_store(settings.database_url, migrate=settings.migrate_on_start)
    try:
        asyncio.run(store.open())
    except StorageError as exc:
        line = messages.text(lang, "settings", "database_unavailable", detail=str(exc))
        stderr.write(f"qualiopi-bot: {line}\n")
        return 2

    from bot.reading.days import warm_up_dates
    from bot.render import workers
    from bot.telegram import build_application
    from bot.telegram.web import serve

    warm_up_dates()  # before the first person waits on a typed date
    messages.warm_up()  # nor on a template compiled for them
    workers.start()  # nor their first PDF on a worker starting
    application = build_application(settings, store)
    asyncio.run(serve(application, store, settings))
    asyncio.run(store.close())
    return 0


def run_health(stdout: TextIO, stderr: TextIO) -> int:
    """``health``: asks the running bot's /health on its configured address (the image's
    HEALTHCHECK); 0 when it answers 200, 1 otherwise."""
    import urllib.error
    import urllib.request

    lang = operator_language()
    settings = _settings(lang, stderr)
    if settings is None:
        return 2
    if not settings.health_port:
        stderr.write(f"qualiopi-bot: {messages.text(lang, 'settings', 'no_health_port')}\n")
        return 2
    host = "127.0.0.1" if settings.health_listen in ("0.0.0.0", "") else settings.health_listen
    if ":" in host:
        host = "[::1]" if host == "::" else f"[{host}]"
    url = f"http://{host}:{settings.health_port}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            stdout.write(response.read().decode("utf-8", "replace") + "\n")
            return 0
    except urllib.error.HTTPError as exc:
        stdout.write(exc.read().decode("utf-8", "replace") + "\n")
    except OSError as exc:
        stderr.write(f"qualiopi-bot: {url}: {exc}\n")
    return 1


def run_report(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``stats`` and ``export`` from the command line, on the configured database."""
    lang = getattr(args, "lang", None) or operator_language()
    settings = _settings(lang, stderr)
    if settings is None:
        return 2
    return asyncio.run(_report(args, settings, lang, stdout, stderr))


async def _report(
    args: argparse.Namespace, settings: Settings, lang: str, stdout: TextIO, stderr: TextIO
) -> int:
    from bot.consultancy import stats
    from bot.consultancy.export import export_all

    store = open_store(settings.database_url)
    try:
        await store.open()
        if args.command == "stats":
            try:
                since, until = stats.period(args.period, dt.date.today())
            except ValueError:
                stderr.write(messages.text(lang, "stats", "bad_period", given=args.period) + "\n")
                return 2
            figures = stats.compute(await store.tallies(since, until), since, until)
            stdout.write(messages.to_plain(stats.text(figures, lang)) + "\n")
            if args.png:
                Path(args.png).write_bytes(await asyncio.to_thread(stats.chart_png, figures, lang))
            return 0
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, (content, count) in (await export_all(store, lang, settings.timezone)).items():
            (out / f"qualiopi-{name}.csv").write_bytes(content)
            stdout.write(
                messages.text(lang, "stats", "export_caption", kind=name, count=count) + "\n"
            )
        return 0
    except StorageError as exc:
        line = messages.text(lang, "settings", "database_unavailable", detail=str(exc))
        stderr.write(f"qualiopi-bot: {line}\n")
        return 2
    finally:
        await store.close()


def run_restore(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``qualiopi-bot restore BACKUP``: puts a SQLite backup in place of the configured
    database (the bot stopped), without the stale journal a crash may have left."""
    from bot.storage import sqlite_path
    from bot.storage.restore import RestoreError, restore_sqlite

    lang = operator_language()
    settings = _settings(lang, stderr)
    if settings is None:
        return 2
    if not settings.database_url.startswith("sqlite:///"):
        stderr.write(f"qualiopi-bot restore: {messages.text(lang, 'settings', 'restore_pg')}\n")
        return 2
    database = sqlite_path(settings.database_url)
    try:
        version = restore_sqlite(Path(args.backup), Path(database))
    except RestoreError as exc:
        line = messages.text(lang, "settings", exc.code, given=args.backup)
        stderr.write(f"qualiopi-bot restore: {line}\n")
        return 1
    line = messages.text(lang, "settings", "restored", path=str(database), version=version)
    stdout.write(line + "\n")
    return 0


def run_migrate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``qualiopi-bot migrate [--check]``: brings the database's schema to this version, or
    (``--check``) only tells whether it is current (exit 1 when it is not)."""
    lang = operator_language()
    settings = _settings(lang, stderr)
    if settings is None:
        return 2
    return asyncio.run(_migrate(settings.database_url, args.check, lang, stdout, stderr))


async def _migrate(
    database_url: str, check: bool, lang: str, stdout: TextIO, stderr: TextIO
) -> int:
    store = open_store(database_url, migrate=not check)
    try:
        await store.open()
        version = await store.schema_version()
    except StorageError as exc:
        stderr.write(f"qualiopi-bot migrate: {exc}\n")
        return 1
    finally:
        await store.close()
    stdout.write(messages.text(lang, "settings", "schema_current", version=version) + "\n")
    return 0
