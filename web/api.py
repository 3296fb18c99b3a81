"""`/api/v1`: the ledger's commands and reports over HTTP, as the CLI has them.

Every handler authenticates the caller, takes the one ledger (`ServiceLedger.using`), calls
the application service or `web.reports` exactly as the CLI's command does, and answers JSON
with the ledger's `position` (the last event the answer was computed from, or written at).
Writes take an `Idempotency-Key` (`idempotency`); their actor is the token's principal.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.importing import import_registrations
from jamsos_ledger.application.proposal_view import proposal_row
from jamsos_ledger.domain.errors import (
    InvalidInput,
    LedgerError,
    NotAuthorised,
    RoleRefused,
    RuleViolation,
)
from jamsos_ledger.domain.model import END_REASONS, SCHEMES, Program
from jamsos_ledger.domain.months import Month, date_problem, today_in_jakarta
from jamsos_ledger.projections import GROUPINGS
from jamsos_ledger.web import reports
from jamsos_ledger.web.auth import api_principal, bearer
from jamsos_ledger.web.idempotency import Answer, fingerprint, once
from jamsos_ledger.web.principals import Principal
from jamsos_ledger.web.problems import PROBLEM, TITLES, ServiceProblem, status_of
from jamsos_ledger.web.state import ServiceLedger

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": title, "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}
    for status, title in TITLES.items() if status not in (405, 500)
}
router = APIRouter(prefix="/api/v1", responses=PROBLEMS)

COLUMNS = ("nik", "name", "birth_date", "sex", "kecamatan", "kelurahan", "occupation", "decile",
           "source")
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_BATCH = 10_000
UPLOAD_CHUNK = 1 << 16


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return api_principal(request, credentials)


Caller = Annotated[Principal, Depends(principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=r"^[\x21-\x7e]{1,255}$",
           description="Names this write: a retry with the same key gets the first answer and "
           "is never applied twice (1 to 255 printable ASCII characters, e.g. a UUID)."),
]
MinPosition = Annotated[
    int | None,
    Query(ge=0, le=2**62, description="Answer once the views have read the log at least up to "
          "this position (waits a few seconds at most; 412 if the log never got there)."),
]
AsOf = Annotated[
    str | None,
    Query(max_length=64, description="The figures as the ledger stood then, replayed from the "
          "events recorded up to then (as the CLI's `--as-of WHEN`): a date YYYY-MM-DD (the end "
          "of that day, Asia/Jakarta) or an ISO 8601 timestamp with its offset "
          "(2026-03-31T17:00:00+07:00). The answer's `position` is the last event applied."),
]
ProgramCode = Annotated[
    str | None,
    Query(max_length=64, description="The program, when the ledger holds more than one."),
]


def service_of(request: Request) -> ServiceLedger:
    service: ServiceLedger = request.app.state.service
    return service


class Position(BaseModel):
    position: int = Field(description="The last event of the log this answer is computed from.")


def answered(body: Any, position: int, status: int = 200, replayed: bool = False) -> JSONResponse:
    headers = {"X-Jamsos-Position": str(position)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=status, headers=headers)


def _program(ledger: Ledger, code: str | None) -> Program:
    return ledger.program(code)


def _figures(ledger: Ledger, code: str | None) -> dict[str, Any]:
    """The program's figures a refusal is judged by (what the CLI prints after a command)."""
    try:
        p = ledger.program(code)
    except LedgerError:
        return {}
    return {"program": p.code, "allocation": p.allocation, "committed": p.committed.total,
            "paid": p.paid_total.total, "available": p.available, "quota": p.quota,
            "places_left": p.places_left}


def role_first(ledger: Ledger, *commands: str) -> None:
    """Refuse (403) a caller who holds a role for none of `commands` (the proposal and the
    direct command a write may become), before the program is resolved: a caller without the
    role learns that, not which programs the ledger holds or what else is wrong."""
    refused: RoleRefused | None = None
    for command in commands:
        try:
            ledger.check_role(command)
            return
        except RoleRefused as e:
            refused = refused or e
    if refused is not None:
        raise refused


@contextmanager
def _refusals(ledger: Ledger, code: str | None = None) -> Iterator[None]:
    """The ledger's errors as problems; a refusal by a rule carries the program's figures."""
    try:
        yield
    except (RuleViolation, NotAuthorised) as e:
        status = status_of(e)
        extra = {"figures": _figures(ledger, code)} if status == 409 else {}
        raise ServiceProblem(status, str(e), **extra) from e
    except LedgerError as e:
        raise ServiceProblem(status_of(e), str(e)) from e


def _write(
    request: Request, who: Principal, key: str | None, payload: Any, code: str | None,
    run: Callable[[Ledger], dict[str, Any]], status: int = 200,
) -> JSONResponse:
    """A write: once per Idempotency-Key, by the caller, answered with the position after."""
    service = service_of(request)
    with service.using() as ledger:

        def attempt() -> Answer:
            with _refusals(ledger, code):
                service.acting_for(who.name)
                body = run(ledger)
            return status, {**body, "position": service.head()}

        request_id = fingerprint(request.method, request.url.path, payload)
        (code_, body), replayed = once(ledger, who.name, key, request_id, attempt)
    return answered(body, int(body.get("position", 0)), code_, replayed)


def _read(request: Request, min_position: int | None, run: Callable[[Ledger], Any]) -> Any:
    service = service_of(request)
    service.wait_for(min_position)
    with service.using() as ledger, _refusals(ledger):
        return run(ledger)


# -- reports ---------------------------------------------------------------------------


@router.get("/reports/budget", tags=["reports"], summary="Budget burn (as `report budget`)")
def budget(request: Request, who: Caller, program: ProgramCode = None,
           min_position: MinPosition = None, as_of: AsOf = None) -> JSONResponse:
    when = reports.moment(as_of)
    data = _read(request, min_position,
                 lambda lg: reports.budget(lg, _program(lg, program), when))
    return answered(data, data["position"])


@router.get("/reports/quota", tags=["reports"], summary="Quota use (as `report quota`)")
def quota(
    request: Request, who: Caller, program: ProgramCode = None,
    by: Annotated[Literal[GROUPINGS] | None, Query(description="One row per group.")] = None,  # type: ignore[valid-type]
    min_position: MinPosition = None, as_of: AsOf = None,
) -> JSONResponse:
    when = reports.moment(as_of)
    if by is None:
        data = _read(request, min_position,
                     lambda lg: reports.quota(lg, _program(lg, program), when))
        return answered(data, data["position"])
    rows = _read(request, min_position,
                 lambda lg: reports.quota_by(lg, _program(lg, program), by, when))
    return answered(rows, rows[0]["position"] if rows else service_of(request).position())


@router.get("/reports/claims", tags=["reports"], summary="Claims (as `report claims`)")
def claims_report(request: Request, who: Caller, program: ProgramCode = None,
                  min_position: MinPosition = None, as_of: AsOf = None) -> JSONResponse:
    when = reports.moment(as_of)
    data = _read(request, min_position,
                 lambda lg: reports.claims(lg, _program(lg, program), when))
    return answered(data, data["position"])


@router.get("/premiums/due", tags=["reports"], summary="Bills due (as `premiums due`)")
def premiums_due(
    request: Request, who: Caller, program: ProgramCode = None,
    today: Annotated[date | None, Query(description="The date to look from [default: today, "
                                        "Asia/Jakarta].")] = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    day = today or today_in_jakarta()
    outside = date_problem(day)  # the calendar of every date the ledger is given, as the CLI's
    if outside:
        raise ServiceProblem(422, f"today: {outside}")

    def run(lg: Ledger) -> tuple[list[dict[str, Any]], int]:
        rows = reports.premiums_due(lg, _program(lg, program), day)
        return rows, (rows[0]["position"] if rows else service_of(request).position())

    rows, at = _read(request, min_position, run)
    return answered(rows, at)


# -- writes ----------------------------------------------------------------------------


class RegistrationRow(BaseModel):
    """One worker, the nine columns of a registration file (checked as `workers import` does)."""

    model_config = ConfigDict(extra="forbid")
    nik: str = Field(max_length=64)
    name: str = Field(max_length=500)
    birth_date: str = Field(max_length=32)
    sex: str = Field(max_length=8)
    kecamatan: str = Field(max_length=200)
    kelurahan: str = Field(max_length=200)
    occupation: str = Field(max_length=200)
    decile: int | str
    source: str = Field(max_length=200)


class Registrations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[RegistrationRow] = Field(min_length=1, max_length=MAX_BATCH)


class Registered(Position):
    registered: int
    already: int
    differing: int


def _import_file(ledger: Ledger, path: Path, actor: str) -> dict[str, Any]:
    """The file registered exactly as `workers import FILE` registers it."""

    @contextmanager
    def quiet(_total: int) -> Iterator[Callable[[int], None]]:
        yield lambda _n: None

    try:
        result, _ = import_registrations(path, lambda: ledger, actor=actor,
                                         keep_good_rows=False, progress=quiet)
    except InvalidInput as e:  # the rows' messages as the CLI's, naming the file as sent
        said = str(e).replace(str(path), path.name).replace(_CLI_ONLY, "").strip()
        raise InvalidInput(said) from e
    return {"registered": result.registered, "already": result.already,
            "differing": len(result.differing)}


# What the CLI adds for its own option: the service has no --rejects.
_CLI_ONLY = ", or import the good rows and set the bad ones aside with --rejects FILE"


@contextmanager
def _temporary_file(name: str) -> Iterator[Path]:
    """A file of that name (its folder's own), removed afterwards: the rows' messages name it
    as the caller named it."""
    folder = Path(tempfile.mkdtemp(prefix="jamsos-upload-"))
    # Only a name: never a folder's ("..", a path's last part), one with control characters,
    # or one longer than a file system's names.
    base, suffix = Path(name).name, Path(name).suffix.lower()
    if base in ("", ".", "..") or not base.isprintable() or len(base.encode()) > 200:
        base = "upload" + (suffix if suffix in (".txt", ".xlsx") else ".csv")
    path = folder / base
    try:
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/registrations", tags=["workers"], response_model=Registered,
             summary="Register workers from a JSON batch (as `workers import`)")
def register(request: Request, who: Caller, batch: Registrations,
             idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """The rows are checked by the same code as a registration file's, and a file with any
    bad row is refused whole; row N of the batch is line N + 1 of that file (the header is
    line 1)."""
    payload = batch.model_dump()

    def run(ledger: Ledger) -> dict[str, Any]:
        with _temporary_file("registrations.csv") as path:
            with path.open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(COLUMNS)
                for row in payload["rows"]:
                    writer.writerow([str(row[c]) for c in COLUMNS])
            return _import_file(ledger, path, ledger.actor)

    return _write(request, who, idempotency_key, payload, None, run)


@router.post("/registrations/file", tags=["workers"], response_model=Registered,
             summary="Register workers from an uploaded registration file, CSV or .xlsx")
def register_file(
    request: Request, who: Caller,
    file: Annotated[UploadFile, File(description="A registration file as `workers import` "
                                     "reads it: CSV (comma or semicolon; UTF-8, with or "
                                     "without BOM, or Windows-1252) or an Excel workbook "
                                     "(.xlsx, its first sheet).")],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    suffix = Path(file.filename or "upload.csv").suffix.lower() or ".csv"
    if suffix not in (".csv", ".txt", ".xlsx"):
        raise ServiceProblem(415, f"{file.filename}: a registration file is CSV (.csv) or an "
                             "Excel workbook (.xlsx)")
    with _temporary_file(file.filename or "upload.csv") as path:
        digest_parts: list[bytes] = []
        with path.open("wb") as out:
            while chunk := file.file.read(UPLOAD_CHUNK):
                out.write(chunk)
                digest_parts.append(chunk)
        payload = {"file": fingerprint("file", "", b"".join(digest_parts).hex())}
        def run(ledger: Ledger) -> dict[str, Any]:
            ledger.check_role("register")  # a caller without the role: 403, the file unread
            return _import_file(ledger, path, ledger.actor)

        return _write(request, who, idempotency_key, payload, None, run)


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(default=None, max_length=64)
    start: str = Field(pattern=MONTH_PATTERN, description="First covered month, YYYY-MM.")
    niks: list[str] = Field(default_factory=list, max_length=MAX_BATCH)
    top: int | None = Field(default=None, ge=1, le=10_000_000)
    decree: str | None = Field(default=None, max_length=200)


class Proposed(Position):
    """A command proposed under four eyes: nothing committed or paid until approved."""

    proposal: str
    kind: str
    program: str
    status: str
    figures: dict[str, int]
    proposer: str
    approving_role: str
    decided_by: str | None


def proposal_json(p: Any) -> dict[str, Any]:
    """A proposal as the API answers it: its id, what it would do (figures), its fate; its
    terms are left out (an enrolment's hold NIKs)."""
    return {"proposal": p.short, "kind": p.kind, "program": p.program, "status": p.status,
            "figures": dict(p.figures), "proposer": p.proposer,
            "approving_role": p.approving_role, "decided_by": p.decided_by}


class Enrolled(Position):
    workers: int | None = None
    start: str | None = None
    end: str | None = None
    committed: int | None = None
    proposal: str | None = Field(default=None, description="Under four eyes: the proposal "
                                 "made instead (see /api/v1/proposals).")
    kind: str | None = None
    program: str | None = None
    status: str | None = None
    figures: dict[str, int] | None = None
    proposer: str | None = None
    approving_role: str | None = None
    decided_by: str | None = None


def _month(text: str, what: str) -> Month:
    try:
        return Month.parse(text)
    except (ValueError, LedgerError) as e:
        raise ServiceProblem(422, f"{what} {text!r}: a month YYYY-MM ({e})") from e


@router.post("/enrolments", tags=["coverage"], response_model=Enrolled,
             summary="Enrol workers (as `enroll`): all of them or none")
def enrol(request: Request, who: Caller, body: EnrolRequest,
          idempotency_key: IdempotencyKey = None) -> JSONResponse:
    if bool(body.niks) == (body.top is not None):
        raise ServiceProblem(422, "give either top N or one or more niks, not both or neither")
    start = _month(body.start, "start")

    niks = [n.strip() for n in body.niks]

    def run(ledger: Ledger) -> dict[str, Any]:
        role_first(ledger, "propose_enrolment", "enrol")
        if ledger.program(body.program).four_eyes:  # as `enroll` does: a proposal
            return proposal_json(ledger.propose_enrolment(
                body.program, start=start, niks=niks, top=body.top, decree=body.decree))
        result = ledger.enrol(body.program, start=start, niks=niks, top=body.top,
                              decree=body.decree)
        return {"workers": result.workers, "start": str(result.start), "end": str(result.end),
                "committed": result.committed}

    return _write(request, who, idempotency_key, body.model_dump(), body.program, run)


class EndRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(default=None, max_length=64)
    nik: str = Field(max_length=64)
    month: str = Field(pattern=MONTH_PATTERN, description="The last covered month.")
    reason: Literal[END_REASONS]  # type: ignore[valid-type]


class Ended(Position):
    released: int
    overpaid: int


@router.post("/endings", tags=["coverage"], response_model=Ended,
             summary="End a worker's coverage (as `end`)")
def end(request: Request, who: Caller, body: EndRequest,
        idempotency_key: IdempotencyKey = None) -> JSONResponse:
    month = _month(body.month, "month")

    def run(ledger: Ledger) -> dict[str, Any]:
        role_first(ledger, "end_coverage")
        before = ledger.program(body.program)
        after = ledger.end_coverage(body.nik.strip(), month=month, reason=body.reason,
                                    code=before.code)
        return {"released": before.committed.total - after.committed.total,
                "overpaid": after.overpaid.total - before.overpaid.total}

    return _write(request, who, idempotency_key, body.model_dump(), body.program, run)


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(default=None, max_length=64)
    month: str = Field(pattern=MONTH_PATTERN, description="The month billed.")
    sp2d: str = Field(min_length=1, max_length=200, description="The disbursement order.")
    amount: int | None = Field(default=None, ge=0, le=10**15,
                               description="The amount paid, checked against the bill.")


class Paid(Position):
    participants: int | None = None
    paid: int | None = None
    proposal: str | None = Field(default=None, description="Under four eyes: the proposal "
                                 "made instead (see /api/v1/proposals).")
    kind: str | None = None
    program: str | None = None
    status: str | None = None
    figures: dict[str, int] | None = None
    proposer: str | None = None
    approving_role: str | None = None
    decided_by: str | None = None


@router.post("/payments", tags=["premiums"], response_model=Paid,
             summary="Pay a month's bill under an SP2D (as `premiums pay`)")
def pay(request: Request, who: Caller, body: PayRequest,
        idempotency_key: IdempotencyKey = None) -> JSONResponse:
    month = _month(body.month, "month")

    def run(ledger: Ledger) -> dict[str, Any]:
        role_first(ledger, "propose_payment", "pay_premiums")
        if ledger.program(body.program).four_eyes:  # as `premiums pay` does: a proposal
            return proposal_json(ledger.propose_payment(
                month=month, sp2d=body.sp2d, amount=body.amount, code=body.program))
        participants, paid = ledger.pay_premiums(month=month, sp2d=body.sp2d,
                                                 amount=body.amount, code=body.program)
        return {"participants": participants, "paid": paid}

    return _write(request, who, idempotency_key, body.model_dump(), body.program, run)


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nik: str = Field(max_length=64)
    scheme: Literal[SCHEMES]  # type: ignore[valid-type]
    date: date
    reference: str = Field(min_length=1, max_length=200)
    benefit: int | None = Field(default=None, ge=0, le=10**15)


class ClaimFiled(Position):
    program_id: str


@router.post("/claims", tags=["claims"], response_model=ClaimFiled,
             summary="File a claim of a covered worker (as `claims file`)")
def file_claim(request: Request, who: Caller, body: ClaimRequest,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    def run(ledger: Ledger) -> dict[str, Any]:
        pid = ledger.file_claim(body.nik.strip(), scheme=body.scheme, incident_date=body.date,
                                reference=body.reference, benefit=body.benefit)
        return {"program_id": str(pid)}

    return _write(request, who, idempotency_key, body.model_dump(mode="json"), None, run)


# -- proposals (four eyes) -------------------------------------------------------------


class ProposalListed(Proposed):
    """A proposal as `proposals list --format json` lists it (every key of the CLI's row, the
    same values), with the service's own keys beside them."""

    id: str = Field(description="The proposal's short id, as `proposals list` gives it (the "
                    "same as `proposal`).")
    what: str = Field(description="What it would do, in a few words (NIKs masked).")
    would_commit: int = Field(description="The change in rupiah committed once approved "
                              "(negative: released).")
    would_pay: int = Field(description="The change in rupiah paid once approved (negative: "
                           "unpaid again).")


class ProposalList(Position):
    proposals: list[ProposalListed]


@router.get("/proposals", tags=["proposals"], response_model=ProposalList,
            summary="Proposals of a program (as `proposals list`)")
def list_proposals(
    request: Request, who: Caller, program: ProgramCode = None,
    status: Annotated[str | None, Query(max_length=32, description="Only this status.")] = None,
) -> JSONResponse:
    def run(ledger: Ledger) -> dict[str, Any]:
        code = ledger.program(program).code
        return {"proposals": [proposal_json(p) | proposal_row(p) | {"position": 0}
                              for p in ledger.proposals(code, status)],
                "position": service_of(request).head()}

    data = _read(request, None, run)
    for p in data["proposals"]:
        p["position"] = data["position"]
    return answered(data, data["position"])


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


@router.post("/proposals/{proposal_id}/approve", tags=["proposals"], response_model=Proposed,
             summary="Approve a proposal (as `proposals approve`): its command is carried out")
def approve(request: Request, who: Caller,
            proposal_id: Annotated[str, PathParam(max_length=64)],
            idempotency_key: IdempotencyKey = None) -> JSONResponse:
    def run(ledger: Ledger) -> dict[str, Any]:
        proposal, _ = ledger.approve_proposal(proposal_id)
        return proposal_json(proposal)

    return _write(request, who, idempotency_key, {"approve": proposal_id}, None, run)


@router.post("/proposals/{proposal_id}/reject", tags=["proposals"], response_model=Proposed,
             summary="Reject a proposal with a reason (as `proposals reject`)")
def reject(request: Request, who: Caller, body: Decision,
           proposal_id: Annotated[str, PathParam(max_length=64)],
           idempotency_key: IdempotencyKey = None) -> JSONResponse:
    def run(ledger: Ledger) -> dict[str, Any]:
        return proposal_json(ledger.reject_proposal(proposal_id, reason=body.reason))

    return _write(request, who, idempotency_key, {"reject": proposal_id, **body.model_dump()},
                  None, run)


# -- the log, and the views' state -------------------------------------------------------


class Event(BaseModel):
    position: int
    type: str
    aggregate_id: str
    version: int
    recorded_at: str


class EventPage(Position):
    events: list[Event]
    next_after: int = Field(description="Ask `after` this for the next page.")


@router.get("/events", tags=["log"], response_model=EventPage,
            summary="The log, a page of events by position, for other systems to follow")
def events(
    request: Request, who: Caller,
    after: Annotated[int, Query(ge=0, le=2**62, description="Events after this position.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    """What happened, in order: each event's type, aggregate and moment, never its contents
    (they hold personal data); a system following the ledger asks again `after` the last."""

    def run(ledger: Ledger) -> dict[str, Any]:
        page = ledger.recorder.select_notifications(start=after, limit=limit,
                                                    inclusive_of_start=False)
        found = []
        for n in page:
            event: Any = ledger.mapper.to_domain_event(n)
            found.append({"position": n.id, "type": n.topic.rsplit(".", 1)[-1],
                          "aggregate_id": str(n.originator_id),
                          "version": n.originator_version,
                          "recorded_at": event.timestamp.isoformat()})
        return {"events": found, "next_after": found[-1]["position"] if found else after,
                "position": service_of(request).head()}

    data = _read(request, None, run)
    return answered(data, data["position"])


class ProjectionState(BaseModel):
    name: str
    position: int
    behind: bool


class AuditState(Position):
    head: int
    projections: list[ProjectionState]


@router.get("/audit/status", tags=["audit"], response_model=AuditState,
            summary="How far each view has read the log (as `projections status`)")
def audit_status(request: Request, who: Caller) -> JSONResponse:
    def run(ledger: Ledger) -> dict[str, Any]:
        service = service_of(request)
        service.position()
        states = ledger.views.status()
        return {"head": service.head(),
                "projections": [{"name": s.name, "position": s.position, "behind": bool(s.behind)}
                                for s in states],
                "position": min((s.position for s in states), default=0)}

    data = _read(request, None, run)
    return answered(data, data["position"])


@router.get("/audit/verify", tags=["audit"],
            summary="Verify the event chain and its seals (as `audit verify --format json`)")
def audit_verify(
    request: Request, who: Caller,
    root: Annotated[str | None, Query(max_length=200, description="The root administrator's "
                                      "key fingerprint every seal must lead back to.")] = None,
) -> JSONResponse:
    """Reads the whole log: as long as `audit verify` takes. 200 with `intact` false when the
    history was tampered with or is not sealed (the CLI's exit 4): the answer is the finding."""
    service = service_of(request)
    data = _read(request, None, lambda lg: service.verify(root))
    return answered(data, int(data["head_position"]))


class Me(BaseModel):
    principal: str
    roles: list[str]


@router.get("/whoami", tags=["auth"], response_model=Me, summary="The caller's principal")
def whoami(who: Caller) -> Me:
    return Me(principal=who.name, roles=sorted(who.held))


__all__ = ["InvalidInput", "router"]
