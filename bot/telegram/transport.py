"""The HTTP transport to the Bot API: python-telegram-bot's ``BaseRequest`` over aiohttp.

python-telegram-bot ships an httpx transport; measured on this project's load benchmark it was
the bot's largest cost (about 1 ms of CPU per Bot API call, against about 0.13 ms for aiohttp,
whose HTTP parser is compiled). python-telegram-bot documents ``BaseRequest`` as the place to
plug another HTTP library; this is that, and nothing more: timeouts and errors are mapped to
python-telegram-bot's own exceptions, so retries and flood control above it are unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

USER_AGENT = "qualiopi-bot (python-telegram-bot; aiohttp)"
JSON = {"Content-Type": "application/json"}
SENT_MESSAGE_KEEPS = ("message_id", "date", "chat", "message_thread_id")
EDITS = ("/editMessageText", "/editMessageReplyMarkup")
EDITED = b'{"ok": true, "result": true}'
"""An edit's answer as the bot reads it: done (python-telegram-bot takes ``True`` for an edit;
the edited message itself is not read)."""
"""What the bot reads of a message it has sent: its id (and what a Message needs)."""


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded pool of keep-alive connections."""

    def __init__(
        self,
        connections: int = 8,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, in seconds."""
        return self._read_timeout

    @staticmethod
    def parse_json_payload(payload: bytes) -> Any:
        """Reads Telegram's answer; of a message the bot has just sent or edited, keeps only
        what identifies it (id, date, chat). The bot reads nothing else of what it sent (a
        button press carries its own message, keyboard included), and python-telegram-bot
        turning the rest back into objects (the keyboard the bot itself sent, the text's
        entities) was a third of a tap's CPU, profiled in-process."""
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise TelegramError("Invalid server response") from exc
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, dict) and "message_id" in result:
            data["result"] = {k: result[k] for k in SENT_MESSAGE_KEEPS if k in result}
        return data

    async def initialize(self) -> None:
        """Opens the session (inside the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                headers={"User-Agent": USER_AGENT},
                # Telegram answers with JSON bodies; the status is interpreted by PTB.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        """Closes the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917 (python-telegram-bot's signature)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one request; returns the status code and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else {}
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's "connect" is the wait for a pooled connection plus opening one.
            connect=_sum(_given(pool_timeout, self._pool_timeout), connect),
            sock_connect=connect,
            # aiohttp has no separate write timeout: a body must be sent and answered in time.
            sock_read=_sum(read, write),
        )
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if files and request_data:
            body = aiohttp.FormData(request_data.json_parameters)  # a form: each value a string
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data and (fields := request_data.parameters):
            # JSON, as the Bot API takes it: encoded in C, where form-encoding quotes every
            # accented character in Python (20 µs for a question, against 2), and in one pass,
            # numbers as numbers (python-telegram-bot's json_payload encodes each value apart,
            # twice: 9.6 µs for an edit, against 4.4).
            body = json.dumps(fields).encode()
            headers = JSON
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                payload = await response.read()
                if response.status == 200 and url.endswith(EDITS):
                    return 200, EDITED  # nothing to parse: the bot knows what it edited
                return response.status, payload
        except aiohttp.ConnectionTimeoutError as exc:
            # No connection, so nothing was sent: a plain network error, safe to retry.
            raise NetworkError(f"aiohttp.{type(exc).__name__}: no connection in time") from exc
        except TimeoutError as exc:
            # Sent, but no answer in time: Telegram may have done it (see the rate limiter).
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: Any, default: float | None) -> float | None:
    """Returns the timeout a call asked for, or the default when it asked for none."""
    if isinstance(value, DefaultValue):
        return default
    return None if value is None else float(value)


def _sum(first: float | None, second: float | None) -> float | None:
    """Adds two timeouts; no limit on either part means no limit."""
    if first is None or second is None:
        return None
    return first + second
