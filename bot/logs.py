"""Logging: one line per event, and never the bot token (httpx logs URLs, which carry it)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then replaces every secret (message, arguments, traceback)."""

    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        """Returns the line with the secrets replaced."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


def configure_logging(level: str, secrets: list[str], stream: TextIO | None = None) -> None:
    """Sends logs to stderr at ``level``, secrets redacted, chatty HTTP loggers quietened."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
