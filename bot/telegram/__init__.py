"""The Telegram front end (python-telegram-bot 22): the only package that imports ``telegram``.

- ``processing``: one update per chat at a time, in order; chats concurrently.
- ``ratelimit``: flood limits and 429 honoured, transient errors retried with a bound.
- ``transport``: the Bot API over aiohttp.
- ``port``: the one way out (messages, edits, button answers, files).
- ``handlers``: updates become events; the step is decided, committed, then replied to.
- ``app``: ``build_application`` puts it together, with the jobs and the command menu.
"""

import os

# Opt in to python-telegram-bot's timedelta durations (retry_after…) before it is imported, as
# its deprecation warning asks: the bot then behaves the same under PTB 22 and the next major.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.telegram.app import build_application, set_commands, settle_background
from bot.telegram.handlers import COMMANDS, QualiopiBot
from bot.telegram.logref import chat_ref
from bot.telegram.processing import BotApplication, PerChatUpdateProcessor
from bot.telegram.ratelimit import RetryingRateLimiter

__all__ = [
    "COMMANDS",
    "PDF_GRACE",
    "BotApplication",
    "PerChatUpdateProcessor",
    "QualiopiBot",
    "RetryingRateLimiter",
    "build_application",
    "chat_ref",
    "set_commands",
    "settle_background",
]
