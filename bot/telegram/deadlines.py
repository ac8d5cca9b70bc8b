"""A deadline on reading each request, in front of aiohttp's server.

aiohttp's server waits as long as a client likes for a request's headers and body: sockets
that send one byte every two seconds stay open for ever (measured: 60 of 60 after 40 s),
each one a file descriptor and a little memory. ``ReadDeadline`` wraps aiohttp's protocol
(its public ``asyncio.Protocol`` side, as aiohttp's low-level server is meant to be used):
from a request's first byte, its headers and its ``Content-Length`` body must arrive within
``timeout`` seconds, or the connection is closed. Handling the request (waiting for a step's
commit, say) is not counted; an idle keep-alive connection is aiohttp's own timeout.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

from bot import metrics

LOGGER = logging.getLogger("qualiopi_bot")
_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r\n", re.IGNORECASE)
_END_OF_HEAD = b"\r\n\r\n"
_MAX_HEAD = 256 * 1024
"""Past this, the head is aiohttp's to refuse (its own limits are smaller)."""


class ReadDeadline(asyncio.Protocol):
    """Forwards everything to ``inner`` (aiohttp's request handler) and closes a connection
    whose request is not read in time."""

    def __init__(self, inner: asyncio.Protocol, timeout: float) -> None:
        self.inner = inner
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._body_left: int | None = None
        """Bytes of the current request's body still to come; None while reading a head."""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._follow(data)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def _follow(self, data: bytes) -> None:
        """Tracks where the bytes stand: in a request's head, in its body, or between two
        requests; the deadline runs from a request's first byte to its last."""
        view = memoryview(data)
        while view:
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expired)
            if self._body_left is None:
                start = max(0, len(self._head) - 3)
                self._head += view
                end = self._head.find(_END_OF_HEAD, start)
                if end < 0:
                    if len(self._head) > _MAX_HEAD:
                        del self._head[: -len(_END_OF_HEAD)]
                    return
                head_length = end + len(_END_OF_HEAD)
                found = _LENGTH.search(self._head, 0, head_length)
                rest = len(self._head) - head_length
                view = view[len(view) - rest :]
                self._body_left = int(found.group(1)) if found else 0
                self._head.clear()
            taken = min(self._body_left, len(view))
            self._body_left -= taken
            view = view[taken:]
            if self._body_left == 0:
                self._body_left = None
                self._stop()

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        metrics.SLOW_REQUESTS.inc()
        LOGGER.info("a request not read within %.0f s: connection closed", self.timeout)
        if self.transport is not None:
            self.transport.close()


def with_deadline(
    factory: Callable[[], asyncio.Protocol], timeout: float
) -> Callable[[], ReadDeadline]:
    """A protocol factory for ``loop.create_server``: aiohttp's, behind a read deadline."""
    return lambda: ReadDeadline(factory(), timeout)
