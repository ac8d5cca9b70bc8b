"""Logging: one line per event (JSON by default), chat ids hashed, never the bot token; each
line names the worker that wrote it (``WORKER_ID``, else host and process id).

httpx logs every request URL at INFO, and Bot API URLs contain the token: its logger is
quietened, and every line is scrubbed of the token whatever emitted it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from typing import Any, TextIO


def worker_id() -> str:
    """Which worker a line comes from: ``WORKER_ID`` if set, else ``host:pid``."""
    return os.environ.get("WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"


STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RedactingFormatter(logging.Formatter):
    """Formats as text or as one JSON object per line, then replaces every secret."""

    def __init__(self, secrets: list[str], json_lines: bool = True) -> None:
        self.worker = worker_id()
        super().__init__(f"%(asctime)s {self.worker} %(levelname)s %(name)s: %(message)s")
        self.secrets = [s for s in secrets if s]
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        """Returns the line with the secrets replaced."""
        if self.json_lines:
            entry: dict[str, Any] = {
                "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                "worker": self.worker,
                "level": record.levelname,
                "logger": record.name,
                "msg": record.getMessage(),
            }
            entry.update({k: v for k, v in vars(record).items() if k not in STANDARD})
            if record.exc_info:
                entry["exc"] = self.formatException(record.exc_info)
            text = json.dumps(entry, ensure_ascii=False, default=str)
        else:
            text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


def secrets_of(settings: Any) -> list[str]:
    """The values no log line may show: the bot token, the webhook secret, the database
    password (each also where a URL carries it)."""
    from urllib.parse import urlsplit

    found = [settings.token, settings.webhook_secret]
    password = urlsplit(settings.database_url).password
    if password:
        found.append(password)
    return [s for s in found if s]


def configure_logging(
    level: str, secrets: list[str], stream: TextIO | None = None, json_lines: bool = True
) -> None:
    """Sends logs to stderr at ``level``, secrets redacted, chatty loggers quietened (the HTTP
    client's, and the state machine's, which logs every halted transition at DEBUG)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets, json_lines))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # python-telegram-bot logs whole Bot API answers at DEBUG (updates, with phone numbers and
    # e-mail addresses): never below INFO, whatever LOG_LEVEL says.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
