"""The dashboard: server-rendered pages, read-only, behind the same tokens as the API.

The login form exchanges a token for a session cookie (HttpOnly, SameSite=Strict) holding
it; every page authenticates it again, so a revoked or expired token logs the browser out.
The figures are the API's (`web.reports`), shown in Indonesian number format as the CLI
shows them (`money.rupiah`, `money.count`). Every asset is served here: no CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from jamsos_ledger.application.proposal_view import proposal_row
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.money import count, rupiah
from jamsos_ledger.web import reports
from jamsos_ledger.web.api import proposal_json
from jamsos_ledger.web.auth import SESSION_COOKIE, principal_of_token, session_principal
from jamsos_ledger.web.problems import ServiceProblem
from jamsos_ledger.web.state import ServiceLedger

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["rupiah"] = lambda v: rupiah(int(v))
templates.env.filters["count"] = lambda v: count(int(v))
router = APIRouter(include_in_schema=False)
SESSION_HOURS = 8


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"failed": False})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    service: ServiceLedger = request.app.state.service
    try:
        principal_of_token(service, token.strip())
    except ServiceProblem as e:
        if e.status != 401:
            raise
        return templates.TemplateResponse(request, "login.html", {"failed": True},
                                          status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token.strip(), max_age=SESSION_HOURS * 3600,
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    who = session_principal(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    service: ServiceLedger = request.app.state.service
    with service.using() as ledger:
        pages: list[dict[str, Any]] = []
        for code in ledger.program_codes():
            p = ledger.program(code)
            try:
                table, _ = reports.coverage_table(ledger, p)
                pages.append({
                    "pending": [proposal_json(x) | proposal_row(x)
                                for x in ledger.pending(p.code)],
                    "budget": reports.budget(ledger, p),
                    "quota": reports.quota(ledger, p),
                    "coverage": table,
                    "deciles": list(range(1, 11)),
                })
            except LedgerError:
                continue
        states = ledger.views.status()
        head = service.head()
        if service.last_verify is None:
            service.verify()
        verified = service.last_verify
    return templates.TemplateResponse(request, "overview.html", {
        "who": who.name, "programs": pages, "head": head,
        "projections": states, "behind": any(s.behind for s in states), "verify": verified,
    })
