"""Exactly once: a write sent with an `Idempotency-Key` is applied once, and a retry with the
same key gets the first answer again.

The key is claimed before the write, by inserting a row under (principal, key): the primary
key lets one request claim it, in this process or any other sharing the store. The answer
is kept with it once the write is done, refusals included (a refused payment stays refused
on a retry). A retry arriving while the first is still at work is told so (409), never run
alongside; a key sent again with a different request is refused (422). An answer the store
could not give (503) is not kept: the claim is released and a retry tries again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from jamsos_ledger.application import Ledger
from jamsos_ledger.web.problems import ServiceProblem
from jamsos_ledger.web.side_tables import IDEMPOTENCY, Conflict, execute

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces (as the draft's examples)

Answer = tuple[int, dict[str, Any]]


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
    try:
        execute(
            ledger, IDEMPOTENCY,
            "INSERT INTO {t} (principal, key, request, status, body, created_at) "
            "VALUES (?, ?, ?, NULL, NULL, ?)",
            (principal, key, request, datetime.now(UTC).isoformat()),
        )
    except Conflict:
        return _first_answer(ledger, principal, key, request), True
    try:
        status, body = run()
    except ServiceProblem as e:
        if e.status >= 500:
            _release(ledger, principal, key)
        else:
            _keep(ledger, principal, key, e.status, _problem_body(e))
        raise
    except BaseException:
        _release(ledger, principal, key)
        raise
    _keep(ledger, principal, key, status, body)
    return (status, body), False


def _problem_body(e: ServiceProblem) -> dict[str, Any]:
    return {"problem": True, "status": e.status, "detail": e.detail, **e.extra}


def _first_answer(ledger: Ledger, principal: str, key: str, request: str) -> Answer:
    rows = execute(
        ledger, IDEMPOTENCY,
        "SELECT request, status, body FROM {t} WHERE principal = ? AND key = ?", (principal, key),
    )
    if not rows:  # released meanwhile (the first attempt failed): the client tries again
        raise ServiceProblem(409, f"the request with Idempotency-Key {key} failed and was "
                             "released just now: send it again")
    stored_request, status, body = rows[0]
    if stored_request != request:
        raise ServiceProblem(
            422, f"Idempotency-Key {key} was used for a different request: a key names one "
            "request; use a new key for a new request",
        )
    if status is None:
        raise ServiceProblem(
            409, f"a request with Idempotency-Key {key} is still being applied: ask again in "
            "a moment for its answer",
        )
    answer: dict[str, Any] = json.loads(str(body))
    if answer.get("problem") is True:
        detail = str(answer.pop("detail"))
        answer.pop("problem")
        answer.pop("status", None)
        raise ServiceProblem(int(status), detail, **answer)
    return int(status), answer


def _keep(ledger: Ledger, principal: str, key: str, status: int, body: dict[str, Any]) -> None:
    execute(
        ledger, IDEMPOTENCY, "UPDATE {t} SET status = ?, body = ? WHERE principal = ? AND key = ?",
        (status, json.dumps(body, default=str), principal, key),
    )


def _release(ledger: Ledger, principal: str, key: str) -> None:
    with suppress(Exception):  # the store is gone: the claim stays, and says "in progress"
        execute(ledger, IDEMPOTENCY, "DELETE FROM {t} WHERE principal = ? AND key = ?",
                (principal, key))
