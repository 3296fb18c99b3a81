"""A real `jamsos serve` process on a free port, for the service's tests.

Started as a user starts it (the installed `jamsos` command, in its own process) with the key
of a principal holding the `service` role, and a token issued by `jamsos tokens issue` for an
enrolled principal; stopped with SIGINT (Ctrl-C) and waited for.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from cli_helpers import enrolled, ok

JAMSOS = str(Path(sys.executable).with_name("jamsos"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_token(url: str, principal: str, expires: str = "1d") -> str:
    """A new token for `principal` (enrolled first): the last line `tokens issue` prints."""
    enrolled(url, principal)
    return ok(url, "tokens", "issue", "--principal", principal, "--expires", expires
              ).stdout.strip().splitlines()[-1]


@dataclass
class Served:
    url: str  # the store
    base: str  # http://127.0.0.1:PORT
    token: str
    log: Path
    pid: int = 0  # the `jamsos serve` process (a test may kill it)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@contextmanager
def served(
    url: str, folder: Path, *extra: str, principal: str = "disnaker", key: Path | None = None
) -> Iterator[Served]:
    """`jamsos --store URL --key KEY serve --port P` running until the block ends; KEY that
    of a principal holding every role (`service` among them) unless given."""
    token = issue_token(url, principal)
    service_key = key or enrolled(url, "jamsos-service").path
    port = free_port()
    log = folder / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [JAMSOS, "--store", url, "--key", str(service_key), "serve", "--port",
             str(port), *extra],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"jamsos serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield Served(url, base, token, log, process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
