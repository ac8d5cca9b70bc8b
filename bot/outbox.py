"""What the bot says, as plain data, and the one protocol through which it is said.

Decisions (the conversation, the follow-ups) return ``Out`` messages; only a front end's port
turns them into calls (``bot.telegram.port.Port`` for Telegram). Nothing outside
``bot.telegram`` sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import messages
from bot.render.screens import Button

Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Out:
    """One message: its text and what comes with it."""

    text: str
    """Telegram HTML when ``html``: a template's ``Markup`` is kept, any other text is
    escaped (a consultancy's name, what a person typed)."""
    buttons: Rows = ()
    """Inline buttons under the message."""
    html: bool = True
    """The text is Telegram HTML (else plain text, sent as is)."""
    ask_contact: str | None = None
    """A keyboard with one button, so labelled, that shares the person's own phone number."""
    clear_keyboard: bool = False
    """Removes a keyboard shown by ``ask_contact``."""

    def __post_init__(self) -> None:
        if self.html:  # escaped by construction: only a template's Markup stays HTML
            object.__setattr__(self, "text", messages.safe(self.text))


class Unreachable(Exception):
    """Telegram refuses to write to this chat (the person blocked the bot, or their account
    is gone): an expected outcome, not an error; retrying cannot succeed."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(f"chat {chat_id} is unreachable")
        self.chat_id = chat_id


def rows(*lines: tuple[tuple[str, str], ...]) -> Rows:
    """Builds button rows from (label, data) pairs, one tuple per row."""
    return tuple(tuple(Button(label, data) for label, data in line) for line in lines)


class Outbox(Protocol):
    """Everything a follow-up needs to say, to a person or to the consultancy's chats."""

    async def deliver(self, chat_id: int, out: Out) -> int | None:
        """Sends one message; returns its id when known."""
        ...

    async def send_document(
        self, chat_id: int, content: bytes, filename: str, caption: str | None
    ) -> None:
        """Sends a file."""
        ...

    async def send_photo(self, chat_id: int, content: bytes, caption: str | None = None) -> None:
        """Sends a picture (the statistics chart), with its caption (plain text)."""
        ...
