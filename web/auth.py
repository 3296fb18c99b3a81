"""Who is asking: every request but the health check shows a bearer token (the API) or the
session cookie the login form set (the dashboard), and is refused with 401 otherwise."""

from __future__ import annotations

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jamsos_ledger.web.principals import Principal
from jamsos_ledger.web.problems import ServiceProblem
from jamsos_ledger.web.state import ServiceLedger
from jamsos_ledger.web.tokens import Unauthenticated, authenticate

SESSION_COOKIE = "jamsos_session"
bearer = HTTPBearer(auto_error=False, description="A token from `jamsos tokens issue`.")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jamsos"'}


def principal_of_token(service: ServiceLedger, token: str | None) -> Principal:
    if not token:
        raise ServiceProblem(401, "no bearer token: send `Authorization: Bearer <token>` with a "
                             "token from `jamsos tokens issue`", headers=CHALLENGE)
    with service.using() as ledger:
        try:
            return authenticate(ledger, token)
        except Unauthenticated as e:
            # Which of unknown, expired, revoked or unsealed is not told: a guesser learns
            # nothing. Only a token issued before tokens were sealed is told to be replaced.
            raise ServiceProblem(
                401, e.detail or "the token is not valid (unknown, expired or revoked)",
                headers=CHALLENGE) from None


def api_principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    service: ServiceLedger = request.app.state.service
    return principal_of_token(service, credentials.credentials if credentials else None)


def session_principal(request: Request) -> Principal | None:
    """The dashboard's user, or None (then the page sends them to the login form)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return principal_of_token(request.app.state.service, token)
    except ServiceProblem as e:
        if e.status == 401:
            return None
        raise
