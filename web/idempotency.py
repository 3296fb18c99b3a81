"""Exactly once: a write sent with an `Idempotency-Key` is applied once, and a retry with the
same key gets the first answer again, even when the service was killed in the middle.

The key is claimed before the write, by inserting a row under (principal, key): the primary
key lets one request claim it, in this process or any other sharing the store. The row
names the attempt (a random id) and the process making it (host, process id and start). The
write itself marks the row `applied` in its own transaction, just before its seal
(`within_write` of the ledger's recorder), and only while the row still names this attempt:
the mark and the events are committed together or not at all. The answer is kept with the
row once the write is done, refusals included (a refused payment stays refused on a retry).

A retry finds the row and
- replays the kept answer (`Idempotent-Replayed: true`);
- 422 when the key was sent with a different request;
- 409 "still being applied" while the process that claimed it is alive;
- when that process is gone (killed, or its machine stopped: a claim from another machine
  counts as gone after `STALE_AFTER`): if the write was applied, 409 saying so and at which
  position (its answer was lost with the process; it is never applied again, and this is the
  key's answer from then on); if not, the retry takes the claim over (a new attempt id) and
  applies it. A process wrongly taken for gone finds, at its commit, the row naming another
  attempt: its write is undone whole, so it can never be applied twice.
An answer the store could not give (503) is not kept: the claim is released (unless the
write was applied) and a retry tries again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jamsos_ledger.application import Ledger
from jamsos_ledger.web.problems import ServiceProblem
from jamsos_ledger.web.side_tables import IDEMPOTENCY, Conflict, execute, statement_for

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces (as the draft's examples)
# How long a claim made on another machine may stay unfinished before a retry takes it for
# abandoned; longer than the largest import takes. Taking it over too early costs the first
# attempt its write (undone at its commit), never a write applied twice.
STALE_AFTER = timedelta(minutes=15)

Answer = tuple[int, dict[str, Any]]

_running: set[str] = set()  # the attempts this process is applying now
_running_lock = threading.Lock()


def fingerprint(method: str, path: str, payload: Any) -> str:
    """What the request asked, in a form two equal requests share."""
    text = json.dumps([method, path, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def once(
    ledger: Ledger, principal: str, key: str | None, request: str, run: Callable[[], Answer]
) -> tuple[Answer, bool]:
    """The answer to a write, and whether it is a replay of the first answer."""
    if key is None:
        return run(), False
    if not _KEY.match(key):
        raise ServiceProblem(
            400, "the Idempotency-Key header must be 1 to 255 printable ASCII characters "
            "without spaces (a UUID is a good key)",
        )
    attempt = uuid.uuid4().hex
    try:
        execute(
            ledger, IDEMPOTENCY,
            "INSERT INTO {t} (principal, key, request, status, body, created_at, attempt, "
            "owner, applied) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, NULL)",
            (principal, key, request, _now(), attempt, _this_process()),
        )
    except Conflict:
        first = _first_answer(ledger, principal, key, request, attempt)
        if first is not None:
            return first, True
    return _apply(ledger, principal, key, attempt, run), False


def _apply(
    ledger: Ledger, principal: str, key: str, attempt: str, run: Callable[[], Answer]
) -> Answer:
    """Run the write under this attempt's claim, marked applied in its own transaction."""
    recorder: Any = ledger.recorder
    with _running_lock:
        _running.add(attempt)
    try:
        recorder.within_write = _marker(ledger, principal, key, attempt)
        try:
            status, body = run()
        except ServiceProblem as e:
            if e.status >= 500:
                _release(ledger, principal, key, attempt)
            else:
                _keep(ledger, principal, key, attempt, e.status, _problem_body(e))
            raise
        except BaseException:
            _release(ledger, principal, key, attempt)
            raise
        finally:
            recorder.within_write = None
        _keep(ledger, principal, key, attempt, status, body)
        return status, body
    finally:
        with _running_lock:
            _running.discard(attempt)


def _marker(ledger: Ledger, principal: str, key: str, attempt: str) -> Callable[[Any, int], None]:
    """What the write's transaction runs before its seal: the claim marked applied at the
    write's position, or the write undone when the claim is no longer this attempt's."""
    statement = statement_for(
        ledger, IDEMPOTENCY,
        "UPDATE {t} SET applied = ? WHERE principal = ? AND key = ? AND attempt = ? "
        "RETURNING key",
    )

    def mark(cursor: Any, position: int) -> None:
        cursor.execute(statement, (position, principal, key, attempt))
        if cursor.fetchone() is None:
            raise ServiceProblem(
                409, f"the request with Idempotency-Key {key} was taken over by a retry "
                "while this service was thought gone; nothing of this attempt was written: "
                "send it again with the same key for its answer",
            )

    return mark


def _problem_body(e: ServiceProblem) -> dict[str, Any]:
    return {"problem": True, "status": e.status, "detail": e.detail, **e.extra}


def _first_answer(
    ledger: Ledger, principal: str, key: str, request: str, attempt: str
) -> Answer | None:
    """The answer kept under the key (or the problem it was); None when this attempt took
    over a claim whose process is gone before it applied anything."""
    rows = execute(
        ledger, IDEMPOTENCY,
        "SELECT request, status, body, attempt, owner, applied, created_at FROM {t} "
        "WHERE principal = ? AND key = ?", (principal, key),
    )
    if not rows:  # released meanwhile (the first attempt failed): the client tries again
        raise ServiceProblem(409, f"the request with Idempotency-Key {key} failed and was "
                             "released just now: send it again")
    stored_request, status, body, claimed, owner, applied, created_at = rows[0]
    if stored_request != request:
        raise ServiceProblem(
            422, f"Idempotency-Key {key} was used for a different request: a key names one "
            "request; use a new key for a new request",
        )
    if status is not None:
        return _replayed(int(status), str(body))
    if owner is None:  # claimed by a service from before claims named their process
        raise ServiceProblem(
            409, f"the request with Idempotency-Key {key} was claimed by an earlier version "
            "of the service that never finished it, and whether it was applied cannot be "
            "told: look at the ledger, then send it with a new key if it is not there",
        )
    if not _gone(str(owner), str(claimed), str(created_at)):
        raise ServiceProblem(
            409, f"a request with Idempotency-Key {key} is still being applied: ask again in "
            "a moment for its answer",
        )
    if applied is not None:
        lost = ServiceProblem(
            409, f"the request with Idempotency-Key {key} was applied (the ledger holds its "
            f"events up to position {int(applied)}), but the service stopped before it could "
            "answer; it is not applied again: read the ledger for what it did",
            position=int(applied),
        )
        _keep(ledger, principal, key, str(claimed), lost.status, _problem_body(lost))
        raise lost
    taken = execute(
        ledger, IDEMPOTENCY,
        "UPDATE {t} SET attempt = ?, owner = ?, created_at = ? WHERE principal = ? AND key = ? "
        "AND attempt = ? AND status IS NULL AND applied IS NULL RETURNING key",
        (attempt, _this_process(), _now(), principal, key, claimed),
    )
    if not taken:  # another retry took it over first, or the write's answer came meanwhile
        return _first_answer_now(ledger, principal, key)
    return None


def _first_answer_now(ledger: Ledger, principal: str, key: str) -> Answer:
    rows = execute(ledger, IDEMPOTENCY,
                   "SELECT status, body FROM {t} WHERE principal = ? AND key = ?",
                   (principal, key))
    if rows and rows[0][0] is not None:
        return _replayed(int(rows[0][0]), str(rows[0][1]))
    raise ServiceProblem(
        409, f"a request with Idempotency-Key {key} is still being applied: ask again in a "
        "moment for its answer",
    )


def _replayed(status: int, body: str) -> Answer:
    answer: dict[str, Any] = json.loads(body)
    if answer.get("problem") is True:
        detail = str(answer.pop("detail"))
        answer.pop("problem")
        answer.pop("status", None)
        raise ServiceProblem(status, detail, **answer)
    return status, answer


def _keep(
    ledger: Ledger, principal: str, key: str, attempt: str, status: int, body: dict[str, Any]
) -> None:
    """Keep the answer, while the claim is this attempt's (one taken over keeps its own)."""
    execute(
        ledger, IDEMPOTENCY,
        "UPDATE {t} SET status = ?, body = ? WHERE principal = ? AND key = ? AND attempt = ?",
        (status, json.dumps(body, default=str), principal, key, attempt),
    )


def _release(ledger: Ledger, principal: str, key: str, attempt: str) -> None:
    """Let a retry try again, unless the write was applied (then a retry is told so)."""
    with suppress(Exception):  # the store is gone: the claim stays, and a retry resolves it
        execute(ledger, IDEMPOTENCY,
                "DELETE FROM {t} WHERE principal = ? AND key = ? AND attempt = ? "
                "AND applied IS NULL", (principal, key, attempt))


# -- whose claim, and whether its process can still finish it -----------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{_started(pid) or ''}"


def _started(pid: int) -> str | None:
    """When the process began (clock ticks since boot, Linux's /proc): with its id, it names
    the process even once the id is reused; None where there is no /proc or no process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent: gone all the same
        return None
    return fields[19]


def _gone(owner: str, attempt: str, claimed_at: str) -> bool:
    """Whether the process that claimed a key can no longer finish its write."""
    host, _, rest = owner.partition("/")
    pid_text, _, started = rest.partition("/")
    if owner == _this_process():  # this very process: is it applying that attempt now?
        with _running_lock:
            return attempt not in _running
    if host == socket.gethostname() and pid_text.isdigit():
        now_started = _started(int(pid_text))
        if now_started is None:
            return not _exists(int(pid_text)) or bool(started)
        return bool(started) and now_started != started
    try:
        claimed = datetime.fromisoformat(claimed_at)
    except ValueError:
        return True
    return datetime.now(UTC) - claimed > STALE_AFTER


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
