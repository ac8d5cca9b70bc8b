"""A fake Telegram Bot API at the transport, and a test client that acts like a person.

``FakeBotAPI`` is a python-telegram-bot ``BaseRequest``: the real ``Application`` and ``Bot``
run unchanged, only the HTTP exchange is answered here. It keeps the messages it "sent" so a
test can look at the chat as the person sees it. Nothing touches the network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.config import Settings
from bot.telegram import RetryingRateLimiter, build_application
from bot.telegram import settle_background as settle
from tests.bot.stores import SQLiteStore

BOT_ID = 999
BOT_USERNAME = "qualiopi_test_bot"
TOKEN = "1234567:AAtesttokenthatisnotrealatallxyzxyz12"


@dataclass
class Sent:
    """A message as it stands in the chat."""

    message_id: int
    chat_id: int
    text: str
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    document: bytes | None = None
    filename: str | None = None
    reply_keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    photo: bytes | None = None

    def labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def data(self) -> list[str]:
        return [b.get("callback_data") or b.get("url", "") for row in self.buttons for b in row]


class FakeBotAPI(BaseRequest):
    """Answers the Bot API methods the bot uses, like Telegram would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[tuple[int, int], Sent] = {}
        self.failures: deque[tuple[str, int, dict[str, Any]]] = deque()
        self._ids = itertools.count(100)
        self.migrated: dict[int, int] = {}
        """Groups that became supergroups: old id → new id (a call naming the old one is a
        400 carrying the new id, as Telegram answers)."""
        self.webhook_info: dict[str, Any] = {"url": "", "pending_update_count": 0}
        """What getWebhookInfo answers."""
        self.blocked: set[int] = set()
        """Chats whose person blocked the bot: every call naming them is a 403."""
        self.files: dict[str, bytes] = {}
        """Files people sent, by file id (``getFile`` names them, the file URL serves them)."""
        self.weather: Callable[[str, dict[str, Any]], tuple[str, float]] | None = None
        """Per call (method, parameters): ("ok" | "429" | "502" | "lost", seconds of delay).
        "lost": Telegram did it, but its answer never came back (the transport's timeout)."""

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    def fail_next(self, endpoint: str, status: int, **response: Any) -> None:
        """Makes the next call to ``endpoint`` fail with this HTTP status and body."""
        self.failures.append((endpoint, status, response))

    def flood_next(self, endpoint: str, seconds: int) -> None:
        """Makes the next call to ``endpoint`` a 429 asking to retry after ``seconds``."""
        self.fail_next(
            endpoint,
            429,
            ok=False,
            error_code=429,
            description=f"Too Many Requests: retry after {seconds}",
            parameters={"retry_after": seconds},
        )

    def of(self, endpoint: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == endpoint]

    def chat(self, chat_id: int) -> list[Sent]:
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    async def do_request(  # noqa: PLR0917 (python-telegram-bot's signature)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file's content, as Telegram's file server sends it
            self.calls.append(("file", {"url": url}))
            content = self.files.get(url.rsplit("/", 1)[-1])
            return (200, content) if content is not None else (404, b"Not Found")
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = request_data.multipart_data if request_data and request_data.contains_files else {}
        self.calls.append((endpoint, params))
        if self.failures and self.failures[0][0] == endpoint:
            _, status, body = self.failures.popleft()
            return status, json.dumps(body).encode()
        if params.get("chat_id") is not None and int(params["chat_id"]) in self.blocked:
            body = {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
            return 403, json.dumps(body).encode()
        if params.get("chat_id") is not None and int(params["chat_id"]) in self.migrated:
            body = {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": self.migrated[int(params["chat_id"])]},
            }
            return 400, json.dumps(body).encode()
        kind, delay = self.weather(endpoint, params) if self.weather else ("ok", 0.0)
        if delay:
            await asyncio.sleep(delay)
        if kind in ("429", "502"):
            body = {"ok": False, "error_code": int(kind), "description": "flaky"}
            if kind == "429":
                body["parameters"] = {"retry_after": 1}  # Telegram's smallest
            return int(kind), json.dumps(body).encode()
        try:
            result = self._answer(endpoint, params, files or {})
        except _BadRequest as exc:
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
            return 400, json.dumps(body).encode()
        if kind == "lost":
            raise TimedOut("the answer did not come back in time")
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _message(self, sent: Sent) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(dt.datetime(2026, 11, 26, tzinfo=dt.UTC).timestamp()),
            "chat": {"id": sent.chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Qualiopi"},
            "text": sent.text,
        }
        if sent.buttons:
            out["reply_markup"] = {"inline_keyboard": sent.buttons}
        return out

    def _answer(self, endpoint: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Qualiopi",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if endpoint in ("setMyCommands", "deleteWebhook", "answerCallbackQuery", "setWebhook"):
            return True
        if endpoint == "getUpdates":
            return []
        if endpoint == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                raise _BadRequest("invalid file_id")
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        if endpoint == "getWebhookInfo":
            return {"has_custom_certificate": False, **self.webhook_info}
        chat_id = int(params.get("chat_id", 0))
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        buttons = (markup or {}).get("inline_keyboard", [])
        if params.get("parse_mode") == "HTML":
            check_html(str(params.get("text", params.get("caption", ""))))
        if endpoint == "sendMessage":
            if len(params["text"]) > 4096:
                raise _BadRequest("message is too long")
            sent = Sent(next(self._ids), chat_id, params["text"], buttons)
            sent.reply_keyboard = (markup or {}).get("keyboard", [])
            self.messages[(chat_id, sent.message_id)] = sent
            return self._message(sent)
        if endpoint == "sendPhoto":
            upload = next(iter(files.values()))
            sent = Sent(next(self._ids), chat_id, params.get("caption", ""), [])
            sent.photo = upload[1]
            self.messages[(chat_id, sent.message_id)] = sent
            return {
                **self._message(sent),
                "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
            }
        if endpoint in ("editMessageText", "editMessageReplyMarkup"):
            key = (chat_id, int(params["message_id"]))
            if key not in self.messages:
                raise _BadRequest("message to edit not found")
            sent = self.messages[key]
            text = params.get("text", sent.text)
            if text == sent.text and buttons == sent.buttons:
                raise _BadRequest(
                    "message is not modified: specified new message content and "
                    "reply markup are exactly the same"
                )
            sent.text, sent.buttons = text, buttons
            return self._message(sent)
        if endpoint == "sendDocument":
            upload = next(iter(files.values()))
            sent = Sent(next(self._ids), chat_id, params.get("caption", ""), buttons)
            sent.filename, sent.document = upload[0], upload[1]
            self.messages[(chat_id, sent.message_id)] = sent
            return {**self._message(sent), "document": {"file_id": "f", "file_unique_id": "u"}}
        raise _BadRequest(f"method {endpoint} not faked")


class _BadRequest(Exception):
    pass


_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
})  # fmt: skip
_MARKUP = re.compile(r"<(/?)([a-zA-Z-]*)([^<>]*)>|&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]")


def check_html(text: str) -> None:
    """Refuses what Telegram's HTML parse mode refuses: a tag it does not know, a tag left
    open or closed out of order, a bare ``<``, ``>`` or ``&`` outside a tag or an entity."""
    open_tags: list[str] = []
    for found in _MARKUP.finditer(text):
        at = len(text[: found.start()].encode("utf-16-le")) // 2
        if found.group(0) in "<>&":
            raise _BadRequest(f"can't parse entities: unexpected {found.group(0)!r} at {at}")
        if found.group(4):
            continue
        closing, name = found.group(1), found.group(2).lower()
        if name not in _TAGS:
            raise _BadRequest(f"can't parse entities: unsupported start tag {name!r} at {at}")
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            raise _BadRequest(f"can't parse entities: unmatched end tag {name!r} at {at}")
    if open_tags:
        raise _BadRequest(f"can't parse entities: can't find end tag for {open_tags[-1]!r}")


_update_ids = itertools.count(1)


def user(user_id: int, lang: str | None = "fr") -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Camille"}
    if lang:
        out["language_code"] = lang
    return out


def message_update(
    chat_id: int, lang: str | None = "fr", chat_type: str = "private", **content: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_update_ids) + 10_000,
        "date": 1_795_000_000,
        "chat": {"id": chat_id, "type": chat_type},
        "from": user(abs(chat_id), lang),
        **content,
    }
    if "text" in content and content["text"].startswith("/"):
        length = len(content["text"].split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": next(_update_ids), "message": message}


def callback_update(
    chat_id: int,
    data: str,
    message_id: int,
    lang: str | None = "fr",
    buttons: list[list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": 1_795_000_000,
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Qualiopi"},
        "text": "…",
    }
    if buttons:
        message["reply_markup"] = {"inline_keyboard": buttons}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": user(chat_id, lang),
            "chat_instance": "ci",
            "data": data,
            "message": message,
        },
    }


class Person:
    """A person in a private chat with the bot: sends text, taps buttons, reads the chat."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        api: FakeBotAPI,
        chat_id: int,
        lang: str | None = "fr",
    ) -> None:
        self.app = app
        self.api = api
        self.chat_id = chat_id
        self.lang = lang

    async def feed(self, raw: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(raw, self.app.bot))
        await settle(self.app)  # the PDF and offer after a result go out in the background

    async def say(self, text: str) -> None:
        await self.feed(message_update(self.chat_id, self.lang, text=text))

    async def share_contact(self, phone: str, owner: int | None = None) -> None:
        contact = {
            "phone_number": phone,
            "first_name": "Camille",
            "user_id": self.chat_id if owner is None else owner,
        }
        await self.feed(message_update(self.chat_id, self.lang, contact=contact))

    async def send_sticker(self) -> None:
        sticker = {
            "file_id": "s",
            "file_unique_id": "s",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        await self.feed(message_update(self.chat_id, self.lang, sticker=sticker))

    async def send_file(  # noqa: PLR0917 (a file's description, as Telegram gives it)
        self,
        content: bytes,
        name: str = "",
        mime: str = "",
        caption: str = "",
        media: str = "document",
        size: int | None = None,
    ) -> None:
        """Sends a file as Telegram delivers it: a document (name, MIME type), a photo (its
        sizes, the largest last), or another media; ``size`` as Telegram states it."""
        file_id = f"f{len(self.api.files) + 1}"
        self.api.files[file_id] = content
        about = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        about["file_size"] = len(content) if size is None else size
        content_field: dict[str, Any]
        if media == "photo":
            small = {"file_id": "thumb", "file_unique_id": "thumb", "width": 90, "height": 90}
            content_field = {"photo": [small, {**about, "width": 1280, "height": 960}]}
        elif media == "document":
            content_field = {"document": {**about, "file_name": name, "mime_type": mime}}
        elif media == "video":
            content_field = {"video": {**about, "width": 640, "height": 480, "duration": 60}}
        elif media == "voice":
            content_field = {"voice": {**about, "duration": 5}}
        else:
            raise ValueError(media)
        if caption:
            content_field["caption"] = caption
        await self.feed(message_update(self.chat_id, self.lang, **content_field))

    async def press(self, data: str, message_id: int | None = None) -> None:
        """Presses a button by its data, on the live message unless told otherwise."""
        target = message_id if message_id is not None else self.live().message_id
        shown = self.api.messages.get((self.chat_id, target))
        buttons = shown.buttons if shown else None
        await self.feed(callback_update(self.chat_id, data, target, self.lang, buttons))

    async def tap(self, label_part: str) -> None:
        """Taps the button of the live message whose label contains ``label_part``."""
        live = self.live()
        for row in live.buttons:
            for button in row:
                if label_part.lower() in button["text"].lower():
                    await self.press(button["callback_data"], live.message_id)
                    return
        raise AssertionError(f"no button {label_part!r} in {live.labels()}")

    def live(self) -> Sent:
        """The newest message that has buttons."""
        with_buttons = [m for m in self.api.chat(self.chat_id) if m.buttons]
        assert with_buttons, "no message with buttons"
        return with_buttons[-1]

    def last(self) -> Sent:
        return self.api.chat(self.chat_id)[-1]

    def texts(self) -> list[str]:
        return [m.text for m in self.api.chat(self.chat_id)]


def settings(tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(
        token=TOKEN,
        base_url="http://127.0.0.1:1/bot",
        database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
        default_language="fr",
        log_level="INFO",
        webhook_url=None,
        webhook_secret=None,
        webhook_listen="127.0.0.1",
        webhook_port=8443,
    )
    return replace(base, **changes)


def make_app(
    tmp_path: Path,
    api: FakeBotAPI,
    store: SQLiteStore | None = None,
    day: dt.date = dt.date(2026, 11, 26),
    **changes: Any,
) -> tuple[Application[Any, Any, Any, Any, Any, Any], SQLiteStore]:
    store = store or SQLiteStore(tmp_path / "bot.sqlite3")
    app = build_application(
        settings(tmp_path, **changes),
        store,
        request=api,
        updates_request=api,
        today=lambda: day,
        rate_limiter=RetryingRateLimiter(
            max_retries=3, network_retries=3, backoff=0.01, overall_max_rate=100_000
        ),
    )
    return app, store
