"""Building the application: handlers, per-chat processor, rate limiter, jobs, command menu."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import (
    BotCommand,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
)

import messages
from bot.config import Settings
from bot.consultancy.offer import has_advisor
from bot.storage import (
    Store,
)
from bot.telegram.answers import WebhookAcks, WebhookAnswers
from bot.telegram.gauges import GAUGES_INTERVAL, Gauges
from bot.telegram.handlers import COMMANDS, QualiopiBot
from bot.telegram.logref import use_key
from bot.telegram.processing import BotApplication, PerChatUpdateProcessor
from bot.telegram.ratelimit import RetryingRateLimiter, background
from bot.telegram.transport import AiohttpRequest

REPLY_CHECK = 10
"""Seconds between looks for owed replies whose worker died (see ``bot.telegram.delivery``)."""
BOT_API_CONNECTIONS = 8
"""Connections to the Bot API, kept alive (bench/load.py: more brings nothing on loopback)."""


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Registers the command menu in each language (the fallback language's for the others)."""
    for lang in messages.LANGUAGES:
        handlers = getattr(application, "qualiopi", None)
        listed: tuple[str, ...] = COMMANDS
        if handlers is not None and has_advisor(handlers.settings):
            listed = (*COMMANDS, "advisor")
        names = [messages.text(lang, "bot", "command_name", name=n) for n in listed]
        commands = [
            BotCommand(shown, messages.text(lang, "bot", "command", name=name))
            for shown, name in zip(names, listed, strict=True)
        ]
        # the fallback language's menu is the one of every other Telegram language
        fallback = lang == messages.FALLBACK_LANGUAGE
        await application.bot.set_my_commands(commands, language_code=None if fallback else lang)


async def settle_background(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Finishes the background work (PDFs in hand) when the bot stops."""
    handlers = getattr(application, "qualiopi", None)
    if handlers is not None:
        await handlers.settle()


def build_application(
    settings: Settings,
    store: Store,
    *,
    request: Any = None,
    updates_request: Any = None,
    today: Callable[[], dt.date] = dt.date.today,
    rate_limiter: AIORateLimiter | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Builds the application: handlers, per-chat processor, rate limiter, command menu."""
    assert settings.token is not None
    use_key(settings.token)
    answers = WebhookAnswers()
    acks = WebhookAcks()
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .concurrent_updates(PerChatUpdateProcessor(answers=answers, acks=acks))
        .rate_limiter(
            rate_limiter or RetryingRateLimiter(overall_max_rate=settings.max_messages_per_second)
        )
        .post_init(set_commands)
        .post_stop(settle_background)
    )
    # aiohttp rather than python-telegram-bot's default httpx: a quarter of the CPU per Bot API
    # call (bot/transport.py); requests wait their turn for one of the pooled connections.
    builder = builder.request(
        request or AiohttpRequest(BOT_API_CONNECTIONS, pool_timeout=30)
    ).get_updates_request(updates_request or AiohttpRequest(1))
    application = builder.build()
    handlers: QualiopiBot = QualiopiBot(store, settings, today)
    handlers.register(application)
    if isinstance(application, BotApplication):
        application.qualiopi = handlers
        application.webhook_answers = answers
        application.webhook_acks = acks
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            as_background(handlers.follow.send_due_reminders),
            interval=3600,
            first=10,
            name="reminders",
        )
        application.job_queue.run_repeating(
            handlers.follow.purge, interval=86400, first=60, name="retention"
        )
        application.job_queue.run_repeating(
            handlers.say_owed_replies, interval=REPLY_CHECK, first=1, name="owed-replies"
        )
        application.job_queue.run_repeating(
            as_background(handlers.resend_owed_pdfs), interval=60, first=30, name="owed-pdfs"
        )
        application.job_queue.run_repeating(
            as_background(handlers.follow.send_owed_lead_alerts),
            interval=60,
            first=45,
            name="owed-leads",
        )
        gauges = Gauges(store, lambda: handlers.now(), webhook=settings.uses_webhook)  # noqa: PLW0108 (read at each call: tests move the clock)
        application.job_queue.run_repeating(
            gauges.refresh, interval=GAUGES_INTERVAL, first=5, name="gauges"
        )
    return application


def as_background(
    job: Callable[[Any], Awaitable[None]],
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    """A job whose requests are background work: the taps' requests go first."""

    async def run(context: Any) -> None:
        with background():
            await job(context)

    return run
