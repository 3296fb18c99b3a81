"""The service's ASGI app: `create_app(store)` builds it on one store.

FastAPI on uvicorn: an established ASGI stack whose request models give the OpenAPI
document (docs/openapi.json) and its checks from one declaration, and which runs the
ledger's synchronous calls in a pool of threads. CORS is closed: no CORS middleware, so no
browser page of another origin may call the API.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jamsos_ledger.application import KeySource
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.web import api, api_money, api_workers, dashboard
from jamsos_ledger.web.limits import REFUSED_STATUS, BodyLimit
from jamsos_ledger.web.problems import (
    STORE_FAILED,
    ServiceProblem,
    problem,
    status_of,
    store_errors,
)
from jamsos_ledger.web.state import ServiceLedger

MAX_BODY = 20 * 1024 * 1024  # a registration file of ~100.000 rows
BODY_TIMEOUT = 120.0  # 20 MiB in 2 minutes: 1,4 Mbit/s, a slow office line
log = logging.getLogger("jamsos.service")


def create_app(
    store: str, key: KeySource | None = None, *, max_body: int = MAX_BODY,
    max_wait: float = 10.0, poll: float = 0.5, follow: bool = True,
    body_timeout: float = BODY_TIMEOUT,
) -> FastAPI:
    """The service on one store (opened now: a store that is not a ledger is refused here),
    sealing writes with `key` (its holder needs the `service` role) for the caller."""
    service = ServiceLedger(store, key, max_wait=max_wait, poll=poll)
    service.key.load()  # now: a missing key or a passphrase is told at start, not at a write
    return _app(service, max_body=max_body, follow=follow, body_timeout=body_timeout)


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, which needs no store (docs/openapi.json holds it)."""
    return _app(None, max_body=MAX_BODY, follow=False).openapi()


def _app(service: ServiceLedger | None, *, max_body: int, follow: bool,
         body_timeout: float = BODY_TIMEOUT) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None and follow:
            service.follow()
        try:
            yield
        finally:
            if service is not None:
                service.close()

    app = FastAPI(
        title="jamsos ledger service",
        version="1",
        summary="The ledger of a city-paid BPJS Ketenagakerjaan program, over HTTP.",
        description=(
            "Every request but `/health` shows a bearer token issued with `jamsos tokens "
            "issue`. Errors are `application/problem+json` (RFC 9457). Writes accept an "
            "`Idempotency-Key`. Every answer states the ledger position it was computed "
            "from (`position`, and the `X-Jamsos-Position` header)."
        ),
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads its assets from a CDN: none on closed networks
        redoc_url=None,
    )
    app.state.service = service
    app.include_router(api.router)
    app.include_router(api_workers.router)
    app.include_router(api_money.router)
    app.include_router(dashboard.router)
    dashboard.mount_static(app)

    @app.get("/health", tags=["service"], summary="Whether the service and its store answer")
    def health(request: Request) -> dict[str, Any]:
        """Unauthenticated, and telling nothing of the program: for a load balancer."""
        served: ServiceLedger = request.app.state.service
        with served.using():
            served.head()
        return {"status": "ok"}

    _handlers(app)

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                         ) -> Response:
        """One line a request: the route's template (never a NIK from a path or a query),
        the status and the time taken."""
        started = time.monotonic()
        try:
            response = await call_next(request)
        except Exception as e:  # answered here, so no traceback reaches the log either
            response = _unexpected(request, e)
        route = request.scope.get("route")
        template = getattr(route, "path", "(no route)")
        status = request.scope.get(REFUSED_STATUS, response.status_code)
        log.info("%s %s %s %.1f ms", request.method, template, status,
                 (time.monotonic() - started) * 1000)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(BodyLimit, limit=max_body, timeout=body_timeout)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceProblem)
    async def service_problem(request: Request, e: ServiceProblem) -> JSONResponse:
        return problem(e.status, e.detail, request.url.path, e.headers, **e.extra)

    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, e: LedgerError) -> JSONResponse:
        return problem(status_of(e), str(e), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        errors = [{"where": ".".join(str(p) for p in err.get("loc", ())), "why": err.get("msg")}
                  for err in e.errors()]
        malformed = any(err.get("type") == "json_invalid" for err in e.errors())
        said = "; ".join(f"{x['where']}: {x['why']}" for x in errors[:20])
        return problem(400 if malformed else 422, said or "the request is malformed",
                       request.url.path, errors=errors[:100])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        return problem(e.status_code, str(e.detail), request.url.path,
                       dict(e.headers) if e.headers else None)



def _unexpected(request: Request, e: Exception) -> JSONResponse:
    """A store that failed is 503; anything else 500, logged by its kind only (its message
    could hold what a request carried)."""
    if isinstance(e, store_errors()):
        log.warning("store failed (%s) on %s", type(e).__name__, request.method)
        return problem(503, STORE_FAILED, request.url.path, {"Retry-After": "1"})
    log.error("unexpected %s on %s", type(e).__name__, request.method)
    return problem(500, "the service failed on this request; nothing of it was written "
                   "unless its answer said so: report it with the time", request.url.path)
