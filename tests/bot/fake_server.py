"""A local HTTP fake of the Telegram Bot API, for running the real ``qualiopi-bot run`` process.

It answers on 127.0.0.1 only, like ``FakeBotAPI`` (whose answers it reuses), plus
``getUpdates`` long polling fed by the test. Bounded: every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.bot.fakes import FakeBotAPI, _BadRequest


class FakeTelegramServer:
    """Serves the Bot API for one token on a free loopback port, in a background thread."""

    def __init__(self) -> None:
        self.api = FakeBotAPI()
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0
        self.delivered: set[int] = set()
        self.cond = threading.Condition()
        self.hang: Callable[[str, dict[str, Any]], bool] | None = None
        """Requests to leave unanswered (as a Bot API that never replies) until ``unhang``:
        neither recorded nor done."""
        self.hung: list[tuple[str, dict[str, Any]]] = []
        self._unhung = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test reads calls, not access logs

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                endpoint = self.path.rsplit("/", 1)[-1]
                params, files = _parse(self.headers.get("Content-Type", ""), body)
                status, payload = server.answer(endpoint, params, files)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot process was killed mid-request: that is the point

            do_GET = do_POST

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeTelegramServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._unhung.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def push(self, update: dict[str, Any]) -> None:
        with self.cond:
            self.updates.append(update)
            self.cond.notify_all()

    def answer(
        self, endpoint: str, params: dict[str, Any], files: dict[str, Any]
    ) -> tuple[int, Any]:
        if endpoint == "getUpdates":
            return 200, {"ok": True, "result": self._updates(params)}
        if self.hang is not None and self.hang(endpoint, params):
            with self.cond:
                self.hung.append((endpoint, params))
                self.cond.notify_all()
            self._unhung.wait(timeout=60)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        with self.cond:
            self.api.calls.append((endpoint, params))
            try:
                result = self.api._answer(endpoint, params, files)
            except _BadRequest as exc:
                return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
            finally:
                self.cond.notify_all()
        return 200, {"ok": True, "result": result}

    def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        with self.cond:
            self.confirmed = max(self.confirmed, offset - 1)
            while True:
                # Like Telegram: an offset confirms every update before it, for good.
                pending = [
                    u
                    for u in self.updates
                    if u["update_id"] >= offset and u["update_id"] > self.confirmed
                ]
                if pending or time.monotonic() >= deadline:
                    self.delivered.update(u["update_id"] for u in pending)
                    self.cond.notify_all()
                    return pending
                self.cond.wait(timeout=max(0.0, deadline - time.monotonic()))

    def unhang(self) -> None:
        """Answers no more request by hanging (those hung get a 502, as a proxy would)."""
        self.hang = None
        self._unhung.set()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        """Waits until ``predicate`` holds (checked after each call), or fails."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the bot did not answer in time")
                self.cond.wait(timeout=left)

    def count(self, *endpoints: str) -> int:
        return sum(1 for name, _ in self.api.calls if name in endpoints)


def _parse(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Reads form-encoded or multipart parameters the way python-telegram-bot sends them."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename:
                files[str(name)] = (filename, payload, part.get_content_type())
            else:
                params[str(name)] = payload.decode()
        return params, files
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}"), {}
    return dict(parse_qsl(body.decode())), {}


async def wait_async(
    server: FakeTelegramServer, predicate: Callable[[], bool], timeout: float = 20
) -> None:
    await asyncio.to_thread(server.wait_for, predicate, timeout)
