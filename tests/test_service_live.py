"""The service follows what other processes append: on PostgreSQL it is woken by
LISTEN/NOTIFY (a trigger on the events table), not by its poll; on SQLite it polls."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli_helpers import events, ok
from jamsos_ledger.web.state import ServiceLedger
from small_ledger import twenty_workers


def _views_position(service: ServiceLedger) -> int:
    with service.lock:
        return min(s.position for s in service.ledger.views.status())


@pytest.mark.postgres
def test_postgres_wakes_the_service_when_another_process_appends(
    postgres_url: str, tmp_path: Path
) -> None:
    twenty_workers(postgres_url, tmp_path)
    service = ServiceLedger(postgres_url, poll=60.0)  # a poll far longer than the test waits
    service.follow()
    try:
        # The follower installs the trigger and listens as it starts: pay month after month
        # until one is heard.
        for month in range(2, 13):
            ok(postgres_url, "premiums", "pay", "--month", f"2026-{month:02d}", "--sp2d",
               f"SP2D/{month:02d}")
            time.sleep(0.5)
            if service.notified:
                break
        assert service.notified > 0, "no notification reached the service"
        head = events(postgres_url)
        deadline = time.monotonic() + 10
        while _views_position(service) < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _views_position(service) == head
    finally:
        service.close()


def test_sqlite_is_followed_by_polling(sqlite_url: str, tmp_path: Path) -> None:
    twenty_workers(sqlite_url, tmp_path)
    service = ServiceLedger(sqlite_url, poll=0.1)
    service.follow()
    try:
        ok(sqlite_url, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02")
        head = events(sqlite_url)
        deadline = time.monotonic() + 10
        while _views_position(service) < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _views_position(service) == head
        assert service.notified == 0
    finally:
        service.close()
