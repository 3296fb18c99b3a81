"""An Idempotency-Key whose service was killed in the middle of its write: a real
`jamsos serve` process killed (SIGKILL) while its write waits for a lock the test holds,
on SQLite and PostgreSQL, then started again; the retry with the same key is applied exactly
once, and answered again as it was.

The claim on the key is committed before the write; the write marks it applied in its own
transaction. So a claim left by a killed process is either unapplied (the retry applies it)
or applied (the retry is told so, and nothing is applied again): never refused for ever.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from cli_helpers import as_json, events
from registration_file import generate_registrations
from served import Served, served
from small_ledger import twenty_workers

pytestmark = pytest.mark.slow
TABLE = "jamsos_service_idempotency"
# The writes killed: a payment (one command's transaction) and an uploaded registration file
# (an import's one transaction, its batches and one seal).
PAYMENT = {"month": "2026-02", "sp2d": "SP2D/02/2026"}
UPLOADED = 20_000


def _schema(url: str) -> str | None:
    return url.split("schema=", 1)[1] if "schema=" in url else None


def _claims(url: str, key: str) -> list[tuple[Any, ...]]:
    """The side table's rows under `key`, read as another process would."""
    schema = _schema(url)
    if schema is None:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(f"SELECT status, applied FROM {TABLE} WHERE key = ?",
                                (key,)).fetchall()
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        return conn.execute(sql.SQL("SELECT status, applied FROM {} WHERE key = %s").format(
            sql.Identifier(schema, TABLE)), (key,)).fetchall()


@contextmanager
def _writes_held(url: str, key: str) -> Iterator[None]:
    """Hold the store's write lock while the service's write waits for it, after its claim
    on `key` was committed: on PostgreSQL the events table's lock, taken before the request
    (the claim is in another table); on SQLite the database's one write lock, taken as soon
    as the claim is seen (the import's parts are being read then)."""
    schema = _schema(url)
    if schema is None:
        _claimed(url, key)
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None,
                               timeout=60)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
    else:
        with psycopg.connect(url.split("?")[0]) as pg:
            pg.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
                sql.Identifier(schema, "jamsos_events")))
            yield
            pg.rollback()


def _claimed(url: str, key: str) -> None:
    deadline = time.monotonic() + 20
    while not _claims(url, key):
        assert time.monotonic() < deadline, "the service never claimed the key"
        time.sleep(0.002)


def _send(s: Served, what: str, key: str, folder: Path) -> httpx.Response:
    with s.client() as c:
        headers = {"Idempotency-Key": key}
        if what == "upload":
            with (folder / "big.csv").open("rb") as f:
                return c.post("/api/v1/registrations/file", headers=headers,
                              files={"file": ("big.csv", f, "text/csv")}, timeout=120)
        return c.post("/api/v1/payments", json=PAYMENT, headers=headers)


@pytest.mark.parametrize(("store", "what"), [
    ("sqlite", "upload"),
    pytest.param("postgres", "upload", marks=pytest.mark.postgres),
    pytest.param("postgres", "payment", marks=pytest.mark.postgres),
])
def test_a_write_killed_before_its_commit_is_applied_once_by_the_retry(
    request: pytest.FixtureRequest, tmp_path: Path, store: str, what: str
) -> None:
    url: str = request.getfixturevalue(f"{store}_url")
    twenty_workers(url, tmp_path)
    generate_registrations(tmp_path / "big.csv", UPLOADED, seed=7, bad_rate=0,
                           duplicate_rate=0)
    key = f"{what}-{uuid.uuid4()}"
    with served(url, tmp_path) as first:
        before = events(url)  # the principals and the token enrolled
        failed: list[BaseException] = []

        def doomed() -> None:
            try:
                _send(first, what, key, tmp_path)
            except BaseException as e:  # the connection dies with the service
                failed.append(e)

        sender = threading.Thread(target=doomed)
        sqlite = _schema(url) is None
        if sqlite:  # the lock is taken once the claim is seen
            sender.start()
        with _writes_held(url, key):
            if not sqlite:  # the lock is taken first
                sender.start()
            _claimed(url, key)
            time.sleep(0.5)  # the service's write is waiting for the lock now
            os.kill(first.pid, signal.SIGKILL)
            sender.join(10)
        assert failed, "the request was answered before the service was killed"
    if sqlite and events(url) > before:
        # The import took SQLite's lock before the test could (a machine too busy to let the
        # test in between): it was killed after its commit, the case the next test makes.
        [(status, position)] = _claims(url, key)
        assert status is None and position == events(url)
        with served(url, tmp_path) as again:
            for _ in range(2):
                told = _send(again, what, key, tmp_path)
                assert told.status_code == 409 and "was applied" in told.json()["detail"]
        assert events(url) == position
        return
    assert events(url) == before, "the killed write was committed"
    assert _claims(url, key) == [(None, None)]  # claimed, unanswered, unapplied

    with served(url, tmp_path) as again:
        retried = _send(again, what, key, tmp_path)
        assert retried.status_code == 200, retried.text
        applied = events(url)
        assert applied > before
        if what == "upload":
            said = retried.json()
            assert said["registered"] > 0
            assert said["registered"] + said["already"] == UPLOADED
        replayed = _send(again, what, key, tmp_path)
        assert replayed.status_code == 200 and replayed.json() == retried.json()
        assert replayed.headers["Idempotent-Replayed"] == "true"
    assert events(url) == applied
    [(status, position)] = _claims(url, key)
    assert status == 200 and position == retried.json()["position"]


def _process(pid: int) -> str:
    """A process as the service names a claim's owner: host, id and start (/proc)."""
    started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return f"{socket.gethostname()}/{pid}/{started}"


def _unanswered(url: str, key: str, owner: str) -> None:
    """Make the claim under `key` unanswered and owned by `owner`, as a kill leaves it."""
    schema = _schema(url)
    if schema is None:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(f"UPDATE {TABLE} SET status = NULL, body = NULL, owner = ? "
                         "WHERE key = ?", (owner, key))
    else:
        with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
            conn.execute(sql.SQL("UPDATE {} SET status = NULL, body = NULL, owner = %s "
                                 "WHERE key = %s").format(sql.Identifier(schema, TABLE)),
                         (owner, key))


def test_a_write_applied_but_never_answered_is_not_applied_again(
    store_url: str, tmp_path: Path
) -> None:
    """The state a kill between the write's commit and the keeping of its answer leaves (no
    lock can hold the service there): the claim marked applied, with no answer. While the
    process named by the claim lives, a retry is told to wait; once it is gone, the retry is
    told the write was applied, and where, and nothing more is written."""
    url = store_url
    twenty_workers(url, tmp_path)
    key = f"lost-{uuid.uuid4()}"
    with served(url, tmp_path) as s:
        done = _send(s, "payment", key, tmp_path)
        assert done.status_code == 200, done.text
        written = events(url)
        _unanswered(url, key, _process(os.getpid()))  # this test's process: alive
        waiting = _send(s, "payment", key, tmp_path)
        assert waiting.status_code == 409 and "still being applied" in waiting.json()["detail"]
        reaped = subprocess.Popen(["true"])
        reaped.wait()
        _unanswered(url, key, f"{socket.gethostname()}/{reaped.pid}/1")  # gone
        for _ in range(2):
            told = _send(s, "payment", key, tmp_path)
            assert told.status_code == 409, told.text
            said = told.json()
            assert "was applied" in said["detail"] and "not applied again" in said["detail"]
            assert said["position"] == done.json()["position"]
        assert events(url) == written


@pytest.mark.postgres
def test_a_retry_while_the_claiming_service_lives_is_told_to_wait(
    postgres_url: str, tmp_path: Path
) -> None:
    """A claim whose process is alive, its write waiting for a lock, is not taken over by a
    retry at another service process (409, ask again); once the write is done, the retry
    gets its answer. (On SQLite the retry's own claim would wait for the same lock.)"""
    url = postgres_url
    twenty_workers(url, tmp_path)
    key = f"alive-{uuid.uuid4()}"
    with served(url, tmp_path) as first, served(url, tmp_path) as second:
        answers: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: answers.append(_send(first, "payment", key, tmp_path)))
        sender.start()
        with _writes_held(url, key):
            time.sleep(0.3)
            waiting = _send(second, "payment", key, tmp_path)
            assert waiting.status_code == 409, waiting.text
            assert "still being applied" in waiting.json()["detail"]
        sender.join(30)
        assert answers and answers[0].status_code == 200, answers
        again = _send(second, "payment", key, tmp_path)
        assert again.status_code == 200 and again.json() == answers[0].json()


def test_a_claim_taken_over_wrongly_undoes_the_first_attempts_write(
    postgres_url: str, tmp_path: Path
) -> None:
    """A process taken for gone while its write still waits (its machine's claim older than
    the limit): a retry at another service takes the claim over and applies the write; the
    first attempt's write finds the claim no longer its own at its commit and is undone.
    Paid once."""
    url, schema = postgres_url, _schema(postgres_url)
    twenty_workers(url, tmp_path)
    key = f"taken-{uuid.uuid4()}"
    with served(url, tmp_path) as first, served(url, tmp_path) as second:
        before = events(url)
        answers: dict[str, httpx.Response] = {}

        def send(name: str, s: Served) -> None:
            answers[name] = _send(s, "payment", key, tmp_path)

        with _writes_held(url, key):
            one = threading.Thread(target=send, args=("first", first))
            one.start()
            _claimed(url, key)
            with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
                conn.execute(sql.SQL("UPDATE {} SET owner = 'elsewhere/1/1', created_at = "
                                     "'2000-01-01T00:00:00+00:00' WHERE key = %s").format(
                    sql.Identifier(schema, TABLE)), (key,))
                two = threading.Thread(target=send, args=("second", second))
                two.start()
                deadline = time.monotonic() + 20
                while conn.execute(sql.SQL("SELECT owner FROM {} WHERE key = %s").format(
                        sql.Identifier(schema, TABLE)), (key,)).fetchone() == ("elsewhere/1/1",):
                    assert time.monotonic() < deadline, "the retry did not take the claim over"
                    time.sleep(0.01)
            time.sleep(0.3)
        one.join(30)
        two.join(30)
        assert answers["second"].status_code == 200, answers["second"].text
        assert answers["first"].status_code == 409, answers["first"].text
        paid = answers["second"].json()
        assert events(url) == paid["position"] > before
        again = _send(first, "payment", key, tmp_path)
        assert again.status_code == 200 and again.json() == paid
    budget = as_json(url, "report", "budget")
    february = next(m for m in budget["months"] if m["month"] == "2026-02")
    assert february["sp2d"] == ["SP2D/02/2026"] and february["paid"] == paid["paid"]
