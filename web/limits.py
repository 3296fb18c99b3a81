"""Bounds on what a request may bring: its body's size, counted as it arrives, and the time
it may take to arrive.

A body announced larger than the limit is refused before a byte is read; a body sent
without a length (chunked) is counted and refused as soon as it passes the limit: the part
that passed it is the last one read, so an upload can never fill the memory or the disk.
Whatever the endpoint behind made of a body cut short (FastAPI calls it a malformed body,
400), the caller is answered 413, and nothing is written: no endpoint runs on a body it has
not read whole. A body that does not arrive whole within `timeout` seconds (a client that
sends its headers, then a byte now and then) is answered 408 and its connection closed, so
it cannot hold the service's place for anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jamsos_ledger.web.problems import PROBLEM, SLUGS, TITLES, TYPE_BASE

# Set in the request's scope when the body limit refused it: the access log logs the status
# the caller got (the app behind answered something else to a body cut short).
REFUSED_STATUS = "jamsos.refused_status"


class BodyLimit:
    """ASGI middleware refusing bodies larger than `limit` bytes with a 413 problem, and bodies
    slower than `timeout` seconds with a 408 problem."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 120.0) -> None:
        self.app, self.limit, self.timeout = app, limit, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                announced = int(length)
            except ValueError:
                await _refuse(send, 400, "the Content-Length header is not a number")
                return
            if announced > self.limit:
                await _refuse(send, 413, self._said(announced))
                return
        seen = 0
        started = False
        refused: tuple[int, str] | None = None
        # From the app's first read of the body: a slow endpoint that reads it late, or only
        # listens for the client leaving, finds its body buffered, not late.
        deadline: float | None = None

        async def counted() -> Message:
            nonlocal seen, refused, deadline
            if refused is not None:  # never read on past a refusal, whoever asks
                raise _Refused(*refused)
            if deadline is None:
                deadline = time.monotonic() + self.timeout
            elif deadline == float("inf"):  # the body is whole: what is left is a disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(),
                                                 max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                refused = (408, self._slow(seen))
            else:
                if message["type"] != "http.request":
                    return message
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = (413, self._said(seen))
                elif not message.get("more_body", False):
                    deadline = float("inf")  # whole: what the endpoint then takes is its own
                    return message
                else:
                    return message
            scope[REFUSED_STATUS] = refused[0]
            raise _Refused(*refused)

        async def watched_send(message: Message) -> None:
            nonlocal started
            if refused is not None:  # the app's answer to a body cut short: ours instead
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_Refused):
            await self.app(scope, counted, watched_send)
        if refused is not None and not started:
            await _refuse(send, *refused)

    def _said(self, size: int) -> str:
        return (f"the request body is {size:,} bytes or more; this service takes at most "
                f"{self.limit:,} bytes (jamsos serve --max-body); nothing was "
                "written").replace(",", ".")

    def _slow(self, size: int) -> str:
        return (f"the request body did not arrive whole within {self.timeout:g} s "
                f"({size:,} bytes came; jamsos serve --body-timeout); nothing was "
                "written").replace(",", ".")


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


async def _refuse(send: Send, status: int, detail: str) -> None:
    body: dict[str, Any] = {"type": TYPE_BASE + SLUGS[status], "title": TITLES[status],
                            "status": status, "detail": detail}
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM.encode()),
                            (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


def headers_in_time(seconds: float) -> type[Any]:
    """uvicorn's HTTP/1.1 protocol (h11), closing a connection whose request headers have not
    all arrived within `seconds` of its opening or of its last answer.

    uvicorn has no such timeout of its own: its keep-alive timer stops at the first byte of
    the next request, so a client sending a header line now and then would keep its
    connection, one of `limit_concurrency`, for ever.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadersInTime(H11Protocol):
        _headers_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_headers()

        def on_response_complete(self) -> None:
            self._await_headers()  # before: a pipelined request may start inside
            super().on_response_complete()

        def handle_events(self) -> None:
            super().handle_events()
            if self._in_request():
                self._stop_waiting()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def _in_request(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _await_headers(self) -> None:
            self._stop_waiting()
            self._headers_timer = self.loop.call_later(seconds, self._headers_late)

        def _stop_waiting(self) -> None:
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def _headers_late(self) -> None:
            self._headers_timer = None
            if self._in_request() or self.transport.is_closing():
                return
            with contextlib.suppress(h11.LocalProtocolError):
                self.conn.send(h11.ConnectionClosed())
            self.transport.close()

    return HeadersInTime
