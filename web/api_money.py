"""`/api/v1`: the money and audit commands of the CLI that `api` does not hold.

Claims' benefits, a proposal shown or withdrawn, a payment reversed, an enrolment annulled,
BPJS's invoice reconciled and the premiums to recover; the audit trail, the viewings of
personal data, the digest and the replay, the auditors' notes; the principals. Each handler
calls the application service as the CLI's command does (the service checks the roles and the
rules), and answers the keys of the CLI's `--format json` where the command has one, with the
ledger's `position`. Writes go through `api._write`: once per `Idempotency-Key`, sealed for the
token's principal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.audit_values import reconciliation_json, recovery_rows
from jamsos_ledger.application.proposal_view import proposal_shown
from jamsos_ledger.application.replay import replay, replay_json
from jamsos_ledger.application.trail import audit_trail
from jamsos_ledger.domain.audit_notes import MAX_NOTE, AuditNote
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import counted
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.domain.texts import normal_spaces
from jamsos_ledger.domain.viewings import EVERYONE
from jamsos_ledger.files.invoice_file import Invoice, read_invoice
from jamsos_ledger.stores.integrity import digest_at
from jamsos_ledger.web import reports
from jamsos_ledger.web.api import (
    MONTH_PATTERN,
    PROBLEMS,
    UPLOAD_CHUNK,
    AsOf,
    Caller,
    Decision,
    IdempotencyKey,
    Position,
    ProgramCode,
    ProposalListed,
    Proposed,
    _month,
    _read,
    _refusals,
    _temporary_file,
    _write,
    answered,
    proposal_json,
    role_first,
    service_of,
)
from jamsos_ledger.web.idempotency import fingerprint
from jamsos_ledger.web.principals import Principal
from jamsos_ledger.web.problems import ServiceProblem

router = APIRouter(prefix="/api/v1", responses=PROBLEMS)

NikText = Annotated[str, Field(min_length=1, max_length=64, description="The worker's NIK.")]
Reason = Annotated[str, Field(min_length=1, max_length=500,
                              description="Why (the letter, decree or audit finding): recorded.")]
ProposalId = Annotated[str, PathParam(max_length=64, description="The proposal's id, or its "
                                      "first digits (at least 4; eight are shown).")]
MAX_TRAIL_PAGE = 1_000


def _read_as(request: Request, who: Principal, run: Callable[[Ledger], Any]) -> Any:
    """A read the service checks the caller's roles for (as for the CLI's principal): the
    ledger acts for the caller, under the lock, before `run`."""
    service = service_of(request)
    with service.using() as ledger, _refusals(ledger):
        service.acting_for(who.name)
        return run(ledger)


# -- claims ----------------------------------------------------------------------------


class BenefitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nik: NikText
    amount: int = Field(ge=0, le=10**15, description="The claim's whole benefit paid by BPJS "
                        "so far, in rupiah (replaces an earlier one).")


class BenefitRecorded(Position):
    nik: str = Field(description="The worker's NIK, masked.")
    reference: str
    amount: int


@router.post("/claims/{reference:path}/benefit", tags=["claims"], response_model=BenefitRecorded,
             summary="Record the benefit BPJS paid on a claim (as `claims benefit`)")
def record_benefit(
    request: Request, who: Caller, body: BenefitRequest,
    reference: Annotated[str, PathParam(min_length=1, max_length=200,
                                        description="The claim's BPJS reference.")],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Benefits are paid by BPJS, never from the budget: recorded for the program's
    evaluation."""
    nik = body.nik.strip()

    def run(ledger: Ledger) -> dict[str, Any]:
        ledger.record_benefit(nik, reference=reference, amount=body.amount)
        return {"nik": mask_nik(nik), "reference": normal_spaces(reference),
                "amount": body.amount}

    return _write(request, who, idempotency_key, {"reference": reference, **body.model_dump()},
                  None, run)


# -- proposals ---------------------------------------------------------------------------


class ProposalShown(ProposalListed):
    """A proposal as `proposals show --format json` shows it (every key, the same values),
    with the service's own keys beside them."""

    id: str = Field(description="The proposal's whole id (`proposal` is its short one).")
    note: str = Field(description="The proposer's note.")
    workers: list[str] = Field(description="The workers a decree enrols (those ranked first "
                               "when it was proposed, for one of the top N) or an annulment "
                               "annuls, by masked NIK; empty for other kinds.")
    reason: str | None = Field(description="Why it was rejected or withdrawn; null while "
                               "pending or once approved.")


@router.get("/proposals/{proposal_id}", tags=["proposals"], response_model=ProposalShown,
            summary="One proposal (as `proposals show`): its figures when proposed, its fate")
def show_proposal(request: Request, who: Caller, proposal_id: ProposalId) -> JSONResponse:
    """Its terms are said in words with NIKs masked (`what`), never given as they are (an
    enrolment's terms hold NIKs), as in the list."""

    def run(ledger: Ledger) -> dict[str, Any]:
        p = ledger.proposal(proposal_id)
        return {**proposal_json(p), **proposal_shown(p), "position": service_of(request).head()}

    data = _read_as(request, who, run)
    return answered(data, data["position"])


@router.post("/proposals/{proposal_id}/withdraw", tags=["proposals"], response_model=Proposed,
             summary="Withdraw one's own proposal with a reason (as `proposals withdraw`)")
def withdraw(request: Request, who: Caller, body: Decision, proposal_id: ProposalId,
             idempotency_key: IdempotencyKey = None) -> JSONResponse:
    def run(ledger: Ledger) -> dict[str, Any]:
        return proposal_json(ledger.withdraw_proposal(proposal_id, reason=body.reason))

    return _write(request, who, idempotency_key, {"withdraw": proposal_id, **body.model_dump()},
                  None, run)


# -- undoing by a new event: reversals and annulments ------------------------------------


class ReversalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(default=None, max_length=64)
    sp2d: str = Field(min_length=1, max_length=200, description="The SP2D of the payment.")
    reason: Reason


class Undone(Position):
    """Carried out, or under four eyes the proposal made instead (its fields then)."""

    month: str | None = None
    reversed: int | None = Field(default=None, description="The amount unpaid again.")
    participants: int | None = None
    released: int | None = Field(default=None, description="The commitment released.")
    committed: int | None = None
    paid: int | None = None
    available: int | None = None
    places_left: int | None = None
    proposal: str | None = Field(default=None, description="Under four eyes: the proposal "
                                 "made instead (see /api/v1/proposals).")
    kind: str | None = None
    program: str | None = None
    status: str | None = None
    figures: dict[str, int] | None = None
    proposer: str | None = None
    approving_role: str | None = None
    decided_by: str | None = None


@router.post("/reversals", tags=["premiums"], response_model=Undone,
             summary="Reverse a payment recorded in error (as `premiums reverse`)")
def reverse(request: Request, who: Caller, body: ReversalRequest,
            idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Its month becomes unpaid and payable again under a new SP2D; the payment stays in the
    history beside its reversal. Under four eyes, proposed instead."""

    def run(ledger: Ledger) -> dict[str, Any]:
        role_first(ledger, "propose_reversal", "reverse_payment")
        if ledger.program(body.program).four_eyes:
            return proposal_json(ledger.propose_reversal(sp2d=body.sp2d, reason=body.reason,
                                                         code=body.program))
        month, amount = ledger.reverse_payment(sp2d=body.sp2d, reason=body.reason,
                                               code=body.program)
        p = ledger.program(body.program)
        return {"month": str(month), "reversed": amount.total,
                "participants": amount.total // p.premium.total,
                "committed": p.committed.total, "paid": p.paid_total.total,
                "available": p.available}

    return _write(request, who, idempotency_key, body.model_dump(), body.program, run)


class AnnulmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(default=None, max_length=64)
    nik: NikText
    reason: Reason


@router.post("/annulments", tags=["coverage"], response_model=Undone,
             summary="Annul an enrolment recorded in error, before its first paid month "
             "(as `annul`)")
def annul(request: Request, who: Caller, body: AnnulmentRequest,
          idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """The worker's place and its months' commitment are released. Under four eyes,
    proposed instead."""
    nik = body.nik.strip()

    def run(ledger: Ledger) -> dict[str, Any]:
        role_first(ledger, "propose_annulment", "annul_enrolment")
        if ledger.program(body.program).four_eyes:
            return proposal_json(ledger.propose_annulment(nik, reason=body.reason,
                                                          code=body.program))
        released = ledger.annul_enrolment(nik, reason=body.reason, code=body.program)
        p = ledger.program(body.program)
        return {"released": released.total, "available": p.available,
                "places_left": p.places_left}

    return _write(request, who, idempotency_key, body.model_dump(), body.program, run)


# -- BPJS's invoice, and what to recover ---------------------------------------------------


@router.post("/invoices", tags=["premiums"],
             summary="Reconcile BPJS's invoice of a month (as `premiums reconcile --format json`)")
def reconcile(
    request: Request, who: Caller,
    month: Annotated[str, Form(pattern=MONTH_PATTERN, description="The month it bills.")],
    file: Annotated[UploadFile, File(description="BPJS Ketenagakerjaan's invoice, as `premiums "
                                     "reconcile --invoice` reads it.")],
    program: Annotated[str | None, Form(max_length=64)] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Records the reconciliation (the invoice by its SHA-256) and the KPJ numbers it gives;
    `/payments` of the month then pays what it agreed. A bad invoice is refused whole (422,
    every bad line named), nothing recorded."""
    billed = _month(month, "month")
    with _temporary_file(file.filename or "invoice.csv") as path:
        parts: list[bytes] = []
        with path.open("wb") as out:
            while chunk := file.file.read(UPLOAD_CHUNK):
                out.write(chunk)
                parts.append(chunk)
        payload = {"month": month, "program": program,
                   "file": fingerprint("file", "", b"".join(parts).hex())}

        def run(ledger: Ledger) -> dict[str, Any]:
            ledger.check_role("reconcile_invoice")  # without the role: 403, the file unread
            invoice = _invoice(path, billed)
            result = ledger.reconcile_invoice(month=billed, lines=invoice.lines,
                                              invoice=invoice.digest, code=program)
            return reconciliation_json(ledger, ledger.program(program), result, invoice.digest)

        return _write(request, who, idempotency_key, payload, program, run)


def _invoice(path: Path, month: Month) -> Invoice:
    """The invoice read as the CLI reads it; its messages name the file as it was sent."""
    try:
        return read_invoice(path, month)
    except InvalidInput as e:
        raise InvalidInput(str(e).replace(str(path), path.name)) from e


class Recoveries(Position):
    program: str
    total: int = Field(description="The premiums to recover, in rupiah.")
    recover: list[dict[str, Any]]


@router.get("/premiums/recoveries", tags=["premiums"], response_model=Recoveries,
            summary="Premiums paid for months after coverage ended, to recover from BPJS")
def recoveries(request: Request, who: Caller, program: ProgramCode = None) -> JSONResponse:
    """The rows `premiums reconcile` lists under `recover` (NIKs masked), of the program as
    it stands."""

    def run(ledger: Ledger) -> dict[str, Any]:
        p = ledger.program(program)
        rows = recovery_rows(ledger, p)
        return {"program": p.code, "total": sum(r["recover"] for r in rows), "recover": rows,
                "position": service_of(request).head()}

    data = _read_as(request, who, run)
    return answered(data, data["position"])


# -- audit ---------------------------------------------------------------------------------


class TrailEntry(BaseModel):
    time: str
    position: int
    actor: str
    event: str
    aggregate: str
    changes: dict[str, Any]
    reference: str | None
    sealed_by: str | None


class TrailPage(Position):
    entries: list[TrailEntry]
    next_after: int = Field(description="Ask `after` this for the next page.")


@router.get("/audit/log", tags=["audit"], response_model=TrailPage,
            summary="The audit trail, a page at a time (as `audit log --format jsonl`)")
def audit_log(
    request: Request, who: Caller,
    nik: Annotated[str | None, Query(max_length=64, description="Only this worker's events, "
                                     "and the program events that name the worker.")] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this position.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_TRAIL_PAGE)] = 100,
) -> JSONResponse:
    """Who did what, when and why; NIKs masked, names as initials, birth dates as years
    (never in clear over the API)."""

    def run(ledger: Ledger) -> dict[str, Any]:
        entries: Iterator[Any] = (e for e in audit_trail(ledger, nik.strip() if nik else None)
                                  if e.position > after)
        page = [e.as_dict() for e in islice(entries, limit)]
        return {"entries": page, "next_after": page[-1]["position"] if page else after,
                "position": service_of(request).head()}

    data = _read_as(request, who, run)
    return answered(data, data["position"])


class ViewingRow(BaseModel):
    time: str
    viewer: str
    what: str
    whose: str
    reason: str


class Viewings(Position):
    viewings: list[ViewingRow]


@router.get("/audit/viewings", tags=["audit"], response_model=Viewings,
            summary="Who saw personal data in clear (as `audit viewings --format json`)")
def viewings(
    request: Request, who: Caller,
    nik: Annotated[str | None, Query(max_length=64, description="Only the viewings that "
                                     "showed this worker's data.")] = None,
) -> JSONResponse:
    """When, with which command and why, oldest first (UU 27/2022); for auditors and
    administrators."""

    def run(ledger: Ledger) -> dict[str, Any]:
        found = ledger.viewings(nik.strip() if nik else None)
        rows = [{"time": v.created_on.isoformat(), "viewer": v.viewer, "what": v.what,
                 "whose": "everyone" if v.scope == EVERYONE
                 else counted(len(v.subjects), "worker"),
                 "reason": v.reason} for v in found]
        return {"viewings": rows, "position": service_of(request).head()}

    data = _read_as(request, who, run)
    return answered(data, data["position"])


class DigestAnswer(Position):
    digest: str = Field(description="The chain's digest at `position`: keep it outside the "
                        "system; `audit verify --digest` later proves this history unchanged.")


@router.get("/audit/digest", tags=["audit"], response_model=DigestAnswer,
            summary="A short digest of the history so far, verified first (as `audit digest`)")
def audit_digest(request: Request, who: Caller) -> JSONResponse:
    """Reads the whole log, as `audit verify` does; a history tampered with or not sealed
    has no digest to keep: 409 with the finding (`/audit/verify` tells it all)."""
    service = service_of(request)

    def run(ledger: Ledger) -> dict[str, Any]:
        found = service.verify()
        if not found["intact"]:
            problem = found["discrepancy"] or found["unsealed"] or {}
            raise ServiceProblem(
                409, f"the history is not intact and sealed at position "
                f"{problem.get('position')}: {problem.get('detail')}; no digest is given "
                "(/api/v1/audit/verify tells the finding)", finding=problem)
        return {"digest": found["head_digest"], "position": int(found["head_position"])}

    data = _read_as(request, who, run)
    return answered(data, data["position"])


@router.get("/audit/replay", tags=["audit"],
            summary="Re-derive every figure from the events and compare (as `audit replay "
            "--format json`)")
def audit_replay(request: Request, who: Caller, as_of: AsOf = None) -> JSONResponse:
    """Reads the whole log into private views: as long as `audit replay` takes. 200 with `ok`
    false when the figures disagree or a rule was breached (the CLI's exit 4): the answer is
    the finding."""
    when = reports.moment(as_of)

    def run(ledger: Ledger) -> dict[str, Any]:
        report = replay(ledger, when)
        return replay_json(report, digest_at(ledger.recorder, report.position))

    data = _read_as(request, who, run)
    return answered(data, int(data["position"]))


# -- auditors' notes ------------------------------------------------------------------------

About = Annotated[str | None, Field(
    default=None, max_length=64,
    description="What the note is about: a worker's NIK (16 digits; kept as the worker, never "
    "shown in clear), a proposal's id as /api/v1/proposals gives it, or a position of the log "
    "written #N (as /api/v1/audit/log numbers them). Left out: the ledger as a whole.")]


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The domain judges the text (its length once spaces run together, its characters): this
    # bound only keeps a body from being large for nothing.
    text: str = Field(min_length=1, max_length=10 * MAX_NOTE,
                      description=f"The note: one paragraph of at most {MAX_NOTE} characters "
                      "(spaces and line breaks run together).")
    about: About


class NoteRow(BaseModel):
    time: str = Field(description="When it was written (ISO 8601).")
    position: int = Field(description="The note's position in the log.")
    author: str = Field(description="The auditor who wrote it (whose seal it bears).")
    about: str = Field(description="What it is about, as people read it: `worker` with the "
                       "NIK masked, `proposal` with its short id, `#N`, or \"\" for the "
                       "ledger as a whole.")
    text: str


class NoteWritten(NoteRow):
    """The note as `/audit/notes` lists it; `position` is both the note's and the log's."""


class Notes(Position):
    notes: list[NoteRow]


def _note_row(ledger: Ledger, position: int, note: AuditNote) -> dict[str, Any]:
    """A note as `audit notes --format json` gives it."""
    return {"time": note.created_on.isoformat(), "position": position, "author": note.author,
            "about": ledger.note_subject(note), "text": note.text}


@router.post("/audit/notes", tags=["audit"], response_model=NoteWritten,
             summary="Write an auditor's note into the ledger (as `audit note`)")
def write_note(request: Request, who: Caller, body: NoteRequest,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """A finding, a question, a follow-up, sealed like every event (auditors only: the one
    thing an auditor writes). Its text or `about` refused: 422 or 404, nothing written."""
    service = service_of(request)

    def run(ledger: Ledger) -> dict[str, Any]:
        note = ledger.write_note(body.text, body.about)
        return _note_row(ledger, service.head(), note)

    return _write(request, who, idempotency_key, body.model_dump(), None, run)


@router.get("/audit/notes", tags=["audit"], response_model=Notes,
            summary="Auditors' notes, oldest first (as `audit notes --format json`)")
def list_notes(
    request: Request, who: Caller,
    about: Annotated[str | None, Query(max_length=64, description="Only the notes about this "
                                       "worker (NIK), proposal (id) or position (#N).")] = None,
) -> JSONResponse:
    """Who wrote each, when, about what, NIKs masked (auditors and administrators)."""

    def run(ledger: Ledger) -> dict[str, Any]:
        rows = [_note_row(ledger, p, n) for p, n in ledger.audit_notes(about)]
        return {"notes": rows, "position": service_of(request).head()}

    data = _read_as(request, who, run)
    return answered(data, data["position"])


# -- principals ------------------------------------------------------------------------------


class PrincipalRow(BaseModel):
    name: str
    office: str
    roles: list[str] = Field(description="The roles it holds now (those it held, once revoked).")
    withdrawn: list[str] = Field(description="The root's roles withdrawn from it.")
    fingerprint: str = Field(description="Its key's fingerprint.")
    public_key: str
    root: bool = Field(description="The ledger's first administrator.")
    revoked: bool


class Principals(Position):
    principals: list[PrincipalRow]


@router.get("/principals", tags=["auth"], response_model=Principals,
            summary="Every principal (as `principals list --format json`)")
def list_principals(request: Request, who: Caller) -> JSONResponse:
    """Who may write the ledger, as the history stands now: offices and keys, no personal
    data (any caller, as any principal may run `principals list`)."""

    def run(ledger: Ledger) -> dict[str, Any]:
        rows = [{"name": p.name, "office": p.office,
                 "roles": sorted(p.roles if p.revoked else p.held),
                 "withdrawn": sorted(p.withdrawn) if p.root else [],
                 "fingerprint": p.fingerprint, "public_key": public_key_text(p.public_key),
                 "root": p.root, "revoked": p.revoked}
                for p in ledger.signing.directory()]
        return {"principals": rows, "position": service_of(request).head()}

    data = _read(request, None, run)
    return answered(data, data["position"])


__all__ = ["router"]
