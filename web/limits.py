"""Bounds on what a request may bring: its body's size, counted as it arrives.

A body announced larger than the limit is refused before a byte is read; a body sent
without a length (chunked) is counted and refused as soon as it passes the limit, so an
upload can never fill the memory or the disk.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jamsos_ledger.web.problems import PROBLEM, SLUGS, TITLES, TYPE_BASE


class BodyLimit:
    """ASGI middleware refusing bodies larger than `limit` bytes with a 413 problem."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

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
                await _too_large(send, "the Content-Length header is not a number", 400)
                return
            if announced > self.limit:
                await _too_large(send, self._said(announced))
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self._said(seen))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched_send)
        except _TooLarge as e:
            if not started:
                await _too_large(send, str(e))

    def _said(self, size: int) -> str:
        return (f"the request body is {size:,} bytes or more; this service takes at most "
                f"{self.limit:,} bytes (jamsos serve --max-body)").replace(",", ".")


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, detail: str, status: int = 413) -> None:
    body: dict[str, Any] = {"type": TYPE_BASE + SLUGS[status], "title": TITLES[status],
                            "status": status, "detail": detail}
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM.encode()),
                            (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})
