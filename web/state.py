"""The one ledger a service process opens, shared by its requests, and kept current.

Requests run in a pool of threads; the ledger (its store connections and its views) is used
by one of them at a time, under `lock`, so a write and a read never interleave. A follower
thread catches the views up with what any other process appends (woken by PostgreSQL's
LISTEN/NOTIFY, `notify`; on SQLite by polling the log's head, a cheap `MAX()`), so the
dashboard and the feed stay current and a read asking for at least position N
(`min_position`) can wait, bounded, until the views reach it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.projections.reporting import position
from jamsos_ledger.web.problems import ServiceProblem
from jamsos_ledger.web.side_tables import IDEMPOTENCY, TOKENS, ensure


class ServiceLedger:
    """The ledger of the store the service was started on.

    Attributes:
        lock_timeout: how long a request waits for the ledger before 503 (seconds).
        max_wait: the longest a read waits for `min_position` (seconds).
        poll: how often the follower looks at the log's head (seconds).
    """

    def __init__(
        self, store: str, key: KeySource | None = None, *, lock_timeout: float = 30.0,
        max_wait: float = 10.0, poll: float = 0.5,
    ) -> None:
        self.key = key or KeySource()
        self.ledger = Ledger(store, actor="jamsos-service", create=False, key=self.key)
        self.lock = threading.RLock()
        self.lock_timeout, self.max_wait, self.poll = lock_timeout, max_wait, poll
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._seen = -1
        self.notified = 0  # notifications heard from PostgreSQL (LISTEN/NOTIFY)
        self.last_verify: dict[str, Any] | None = None
        with self.lock:
            ensure(self.ledger, TOKENS)
            ensure(self.ledger, IDEMPOTENCY)

    @contextmanager
    def using(self) -> Iterator[Ledger]:
        """The ledger, for one request at a time; 503 when others hold it too long."""
        if not self.lock.acquire(timeout=self.lock_timeout):
            raise ServiceProblem(
                503, "the service is busy: other requests held the ledger longer than "
                f"{self.lock_timeout:g} s; nothing was written: try again",
            )
        try:
            yield self.ledger
        finally:
            self.lock.release()

    def acting_for(self, name: str) -> None:
        """Seal the next writes with the service's key on behalf of `name` (its principal
        must hold the `service` role; `name` must be an active principal): NotAuthorised
        at the write otherwise, nothing written."""
        self.ledger.signing.use(KeySource(key=self.key.load(), on_behalf_of=name))

    def verify(self, root: str | None = None) -> dict[str, Any]:
        """`audit verify`'s check of the chain and the seals, its JSON; kept, with its time,
        as the last verify (the dashboard shows it). Called with the lock held."""
        from jamsos_ledger.application.audit_values import verify_json
        from jamsos_ledger.application.seal_check import verify_sealed
        from jamsos_ledger.domain.principals import normal_fingerprint

        pinned = None if root is None else normal_fingerprint(root)
        report, seals = verify_sealed(self.ledger.recorder, self.ledger.mapper, None, pinned,
                                      lambda _n: None)
        intact = report.discrepancy is None and seals.finding is None
        found = verify_json(report, seals, pinned, intact=intact)
        self.last_verify = {**found,
                            "verified_at": datetime.now(UTC).isoformat(timespec="seconds")}
        return found

    def head(self) -> int:
        """The log's last position."""
        return int(self.ledger.recorder.max_notification_id() or 0)

    def position(self) -> int:
        """How far the views have read the log (caught up first)."""
        with self.ledger.views.reading() as views:
            return position(views)

    def wait_for(self, wanted: int | None) -> None:
        """Return once the views have read the log up to `wanted`, waiting at most `max_wait`;
        412 when the log has not reached it by then (nobody appended that far yet)."""
        if wanted is None:
            return
        deadline = time.monotonic() + self.max_wait
        while True:
            with self.using():
                if self.head() >= wanted:
                    self.position()  # reading() catches up to the head it saw
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                with self.using():
                    head = self.head()
                raise ServiceProblem(
                    412, f"the ledger has not reached position {wanted} within "
                    f"{self.max_wait:g} s: its last event is at {head}",
                    position=head,
                )
            time.sleep(min(0.05, left))

    # -- following other processes ------------------------------------------------------

    def follow(self) -> None:
        """Start the follower thread (once)."""
        if self._follower is None:
            self._follower = threading.Thread(target=self._run, name="jamsos-follower",
                                              daemon=True)
            self._follower.start()

    def _run(self) -> None:
        """Catch the views up whenever the log grew: woken by PostgreSQL's notifications
        (`notify`), and every `poll` seconds in any case (the only way on SQLite)."""
        wakeups = self._notified() if self.ledger.store.kind == "postgresql" else None
        while not self._stop.is_set():
            if wakeups is None:
                self._stop.wait(self.poll)
            else:
                try:
                    self.notified += next(wakeups)
                except Exception:  # the listening connection failed: poll from now on
                    wakeups = None
                    continue
            self._catch_up()

    def _notified(self) -> Iterator[int] | None:
        from jamsos_ledger.web import notify

        try:
            with self.lock:
                name = notify.install(self.ledger)
            return notify.notifications(self.ledger, name, self.poll)
        except Exception:  # no trigger allowed (a read-only role): polling only
            return None

    def _catch_up(self) -> None:
        try:
            if not self.lock.acquire(timeout=self.poll):
                return
            try:
                head = self.head()
                if head != self._seen:
                    self.ledger.views.catch_up()
                    self._seen = head
            finally:
                self.lock.release()
        except Exception:  # a store that stopped answering: the next request says so
            time.sleep(self.poll)

    def close(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
        with self.lock:
            self.ledger.close()
