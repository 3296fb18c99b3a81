"""Errors as `application/problem+json` (RFC 9457), with the meaning of the CLI's exit codes.

The ledger's errors map as the CLI maps them to exit codes: malformed input is 400 (a body
that is not JSON) or 422 (a value or a registration row that breaks a rule of input), a
rule of the program refusing the command 409 (404 for an unknown program, worker or record),
not permitted (the principal may not do it, or the service's key may not act for it) 403,
a store that cannot be reached or is busy 503. Unauthenticated is 401, not permitted 403.
The `detail` is the ledger's own message; never a stack trace.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from fastapi.responses import JSONResponse

from jamsos_ledger.domain.errors import (
    InvalidInput,
    LedgerError,
    NotAuthorised,
    NotFound,
    RuleViolation,
    StoreUnavailable,
)

PROBLEM = "application/problem+json"
TYPE_BASE = "https://jamsos.bekasikota.go.id/problems/"

TITLES = {
    400: "Malformed request",
    401: "Unauthenticated",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    408: "Request body too slow",
    409: "Refused by a rule of the program",
    412: "Position not reached",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    503: "Store unavailable",
}
SLUGS = {
    400: "malformed", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 408: "too-slow", 409: "refused", 412: "position-not-reached",
    413: "too-large", 415: "unsupported-media-type", 422: "invalid-input", 500: "internal",
    503: "store-unavailable",
}


class ServiceProblem(Exception):
    """A problem the service itself states (auth, limits, positions)."""

    def __init__(
        self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra
        self.headers = headers


def problem(
    status: int, detail: str, instance: str | None = None, headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + SLUGS.get(status, str(status)),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_of(error: LedgerError) -> int:
    """The HTTP status of one of the ledger's errors (the CLI's exit code, as HTTP says it)."""
    if isinstance(error, StoreUnavailable):
        return 503
    if isinstance(error, NotAuthorised):
        return 403
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, RuleViolation):
        return 409
    return 409


def store_errors() -> tuple[type[BaseException], ...]:
    """The errors of a store that failed or is busy (psycopg's once it is imported)."""
    from eventsourcing.persistence import PersistenceError

    found: tuple[type[BaseException], ...] = (PersistenceError, sqlite3.Error)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        found += (psycopg.Error,)
    return found


STORE_FAILED = (
    "the store did not answer or refused the work (it is busy, stopped or unreachable); "
    "nothing of the unfinished transaction was written: try again"
)
