"""What the deciders read: one update as an ``Event``, whatever it came as (``bot.telegram``
makes them; the terminal mode and the tests make them too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

Kind = Literal["command", "button", "text", "contact", "file", "other"]


class Event(NamedTuple):
    """One update: a command (``data`` its name, ``args`` its words), a button (``data`` its
    callback data, ``args`` how it looked: "ticked" or "unticked"), a typed text, a shared
    contact (``data`` the phone, ``args`` its owner's id), a file (``data`` its kind,
    ``args`` what ``Upload.of`` reads), or anything else (a sticker, a voice note…)."""

    kind: Kind
    data: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Upload:
    """What Telegram said of a file a person sent: ``media`` is ``document``, ``photo`` or
    one of ``MEDIA_REFUSED``; ``content`` is None until it was downloaded."""

    media: str
    name: str
    size: int
    mime: str
    caption: str
    content: bytes | None = None

    @classmethod
    def of(cls, event: Event) -> Upload:
        """Reads a ``file`` event's arguments (media, name, size, mime, caption)."""
        media, name, size, mime, caption = (*event[2], "", "", "0", "", "")[:5]
        return cls(media, name, int(size) if size.isdigit() else 0, mime, caption)
