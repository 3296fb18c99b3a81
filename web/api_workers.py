"""`/api/v1`: the workers' and the program's commands over HTTP, as `jamsos workers ...` and
`jamsos program ...` have them.

A worker looked up (`workers show`), corrected (`workers correct`), the ranking redone
(`workers prioritize`), the civil registry's deaths and DTSEN's deciles uploaded (`workers
deaths`, `workers deciles`); a program's terms and figures (`program show`), its capacity
(`program capacity`), a program opened (`program open`) and amended (`program amend`, a
proposal under four eyes). Every handler calls the application service's method the CLI
command calls, whose `@command` checks the caller's roles; answers carry the keys of the
CLI's `--format json` where it has one, and the ledger's `position`. Writes take an
`Idempotency-Key`, and errors are problem+json, as in `api` (whose helpers these are).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.outside_registers import (
    DeathsResult,
    DecilesResult,
    Reported,
    record_deaths,
    update_deciles,
)
from jamsos_ledger.application.worker_view import worker_json
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import CORRECTABLE, Program
from jamsos_ledger.domain.money import MAX_RUPIAH, MAX_WORKERS
from jamsos_ledger.domain.months import today_in_jakarta
from jamsos_ledger.domain.registers import release_problem
from jamsos_ledger.domain.rules import (
    DEFAULT_JKK_MONTHLY,
    DEFAULT_JKM_MONTHLY,
    DEFAULT_RULESET,
    RULESETS,
)
from jamsos_ledger.files.registers_files import read_deaths, read_deciles
from jamsos_ledger.projections.program_reports import capacity_report, program_figures
from jamsos_ledger.projections.report_values import report_json
from jamsos_ledger.web.api import (
    MONTH_PATTERN,
    PROBLEMS,
    UPLOAD_CHUNK,
    Caller,
    IdempotencyKey,
    MinPosition,
    Position,
    ProgramCode,
    _month,
    _read,
    _temporary_file,
    _write,
    answered,
    proposal_json,
    role_first,
    service_of,
)
from jamsos_ledger.web.idempotency import fingerprint
from jamsos_ledger.web.problems import ServiceProblem

router = APIRouter(prefix="/api/v1", responses=PROBLEMS)

NIK_PATTERN = r"^\d{16}$"
NikPath = Annotated[str, PathParam(pattern=NIK_PATTERN, description="The worker's NIK, 16 digits.")]
Rupiah = Annotated[int, Field(ge=1, le=MAX_RUPIAH)]
Workers = Annotated[int, Field(ge=1, le=MAX_WORKERS)]
# The forms `workers import`, `workers deaths` and `workers deciles` read: CSV (comma or
# semicolon; UTF-8 with or without a byte-order mark, or Windows-1252) or an Excel workbook's
# first sheet. The reader judges a file by its content; the name's suffix only refuses early
# what is plainly something else.
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx")
FORMS = ("CSV (comma or semicolon; UTF-8, with or without BOM, or Windows-1252) or an Excel "
         "workbook (.xlsx, its first sheet)")
# The viewing records the command that showed the data: the service's own, so that the trail
# tells a viewing through the API from one on the command line.
VIEWED_WITH = "workers show (service)"


# -- workers ---------------------------------------------------------------------------


class Coverage(BaseModel):
    program: str
    start: str
    end: str
    ended: str | None
    decree: str | None


class WorkerClaim(BaseModel):
    reference: str
    scheme: str
    date: str
    program: str


class WorkerShown(Position):
    """`workers show --format json`: the NIK masked and the name as initials, unless shown in
    clear (then `birth_date` too)."""

    nik: str
    name: str
    sex: str
    kecamatan: str
    kelurahan: str
    occupation: str
    decile: int
    source: str
    decile_release: str | None
    kpj: str | None
    ruleset: str | None
    rank: int | None
    tier: int | None
    rank_release: str | None
    tie_break_position: int | None
    rank_explained: str | None
    coverages: list[Coverage]
    claims: list[WorkerClaim]
    birth_date: str | None = Field(default=None, description="Only in clear.")


@router.get("/workers/{nik}", tags=["workers"], response_model=WorkerShown,
            summary="A registered worker (as `workers show`): masked unless a reason is given")
def show_worker(
    request: Request, who: Caller, nik: NikPath,
    unmask: Annotated[bool, Query(description="Show the NIK, the name and the birth date in "
                                  "full: personal data protected by UU 27/2022. Needs the "
                                  "role auditor or operator and a `reason`; the viewing is "
                                  "recorded first (`jamsos audit viewings`).")] = False,
    reason: Annotated[str | None, Query(max_length=500, description="Why the data are shown "
                                        "in full (needed with `unmask`; recorded).")] = None,
) -> JSONResponse:
    """Masked, this is a read; in clear it first records the viewing (who, whose, why), in
    its own transaction, and shows nothing when that is refused (a role without `unmask`:
    403; no reason: 422)."""
    if unmask and not (reason and reason.strip()):
        raise ServiceProblem(422, "unmask needs a reason: personal data in clear are shown only "
                             "for a reason, recorded with who saw them (UU 27/2022); nothing "
                             "was shown")
    service = service_of(request)

    def run(ledger: Ledger) -> dict[str, Any]:
        if unmask:
            assert reason is not None
            service.acting_for(who.name)
            ledger.record_viewing(what=VIEWED_WITH, reason=reason, niks=[nik])
        worker = ledger.worker(nik)
        return {**worker_json(worker, ledger.program_codes(), clear=unmask),
                "position": service.head()}

    data = _read(request, None, run)
    return answered(data, data["position"])


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: Literal[CORRECTABLE]  # type: ignore[valid-type]
    value: str = Field(max_length=500, description="The right value.")
    reason: str = Field(min_length=1, max_length=500, description="Why: the letter, the DTSEN "
                        "release, the operator's finding (recorded).")


class Corrected(Position):
    nik: str = Field(description="Masked.")
    field: str
    value: str | int
    reason: str
    rank_void: bool = Field(description="A changed decile voids the rank until the next "
                            "prioritization.")


@router.post("/workers/{nik}/corrections", tags=["workers"], response_model=Corrected,
             summary="Correct a worker's registration (as `workers correct`)")
def correct_worker(request: Request, who: Caller, nik: NikPath, body: CorrectionRequest,
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """The registration is never edited: a correction event records the old value, the new
    one, who and why."""

    def run(ledger: Ledger) -> dict[str, Any]:
        worker = ledger.correct_worker(nik, field=body.field, value=body.value,
                                       reason=body.reason)
        return {"nik": worker.masked_nik, "field": body.field,
                "value": getattr(worker, body.field), "reason": body.reason,
                "rank_void": body.field == "decile"}

    return _write(request, who, idempotency_key, {"nik": nik, **body.model_dump()}, None, run)


class PrioritizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: Literal[tuple(sorted(RULESETS))] = DEFAULT_RULESET  # type: ignore[valid-type]


class Prioritized(Position):
    ruleset: str
    ranked: int = Field(description="Eligible workers ranked.")
    changed: int = Field(description="Ranks recorded (those that changed).")
    unchanged: int


@router.post("/prioritizations", tags=["workers"], response_model=Prioritized,
             summary="Rank every eligible worker (as `workers prioritize`)")
def prioritize(request: Request, who: Caller, body: PrioritizeRequest,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Only ranks that changed are recorded; ranking again changes nothing."""

    def run(ledger: Ledger) -> dict[str, Any]:
        ranked, changed = ledger.prioritize(body.ruleset)
        return {"ruleset": body.ruleset, "ranked": ranked, "changed": changed,
                "unchanged": ranked - changed}

    return _write(request, who, idempotency_key, body.model_dump(), None, run)


@contextmanager
def _uploaded(file: UploadFile) -> Iterator[tuple[Path, str]]:
    """The upload in a file of its own name (the rows' messages name it as sent) and the
    fingerprint of its bytes (what an Idempotency-Key names); removed afterwards."""
    name = Path(file.filename or "upload.csv").name or "upload.csv"
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise ServiceProblem(415, f"{name}: the file is CSV (.csv) or an Excel workbook (.xlsx)")
    with _temporary_file(name) as path:
        parts: list[bytes] = []
        with path.open("wb") as out:
            while chunk := file.file.read(UPLOAD_CHUNK):
                out.write(chunk)
                parts.append(chunk)
        yield path, fingerprint("file", name, b"".join(parts).hex())


def _as_sent(read: Callable[[Path], Any], path: Path) -> Any:
    """A file read as the CLI reads it, its refusal naming the file as the caller named it
    (not the service's temporary folder)."""
    try:
        return read(path)
    except InvalidInput as e:
        raise InvalidInput(str(e).replace(str(path), path.name)) from e


def _reported(reported: list[Reported]) -> list[dict[str, Any]]:
    return [{"line": r.line, "nik": r.nik, "why": r.why} for r in reported]


class DeathEnded(BaseModel):
    line: int
    nik: str = Field(description="Masked.")
    month: str = Field(description="The last covered month, that of the death.")
    released: int
    overpaid: int


class RowReported(BaseModel):
    line: int
    nik: str = Field(description="Masked.")
    why: str


class DeathsRecorded(Position):
    program: str
    ended: list[DeathEnded]
    reported: list[RowReported] = Field(description="Rows that recorded nothing, to look into.")
    released: int
    overpaid: int


def _deaths_json(result: DeathsResult, program: Program) -> dict[str, Any]:
    return {"program": program.code,
            "ended": [{"line": e.line, "nik": e.nik, "month": str(e.month),
                       "released": e.released, "overpaid": e.overpaid} for e in result.ended],
            "reported": _reported(result.reported),
            "released": result.released, "overpaid": result.overpaid}


@router.post("/deaths", tags=["workers"], response_model=DeathsRecorded,
             summary="End as died the coverage of the workers of a list of deaths (as "
             "`workers deaths`)")
def deaths(
    request: Request, who: Caller,
    file: Annotated[UploadFile, File(description=f"Dukcapil's list of deaths: {FORMS}; "
                                     "columns NIK, Tanggal Meninggal (YYYY-MM-DD), Nama "
                                     "(optional).")],
    program: Annotated[str | None, Form(max_length=64, description="The program, when the "
                                        "ledger holds more than one.")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A file with any bad row is refused whole (422, every bad row named), nothing recorded.
    Each covered worker's coverage ends at the end of the month of death, all in one
    transaction; NIKs not known, workers not covered and deaths before the coverage are
    reported, never guessed at. The same file again ends nobody twice."""
    with _uploaded(file) as (path, digest):

        def run(ledger: Ledger) -> dict[str, Any]:
            ledger.check_role("record_deaths")  # a caller without the role: 403, file unread
            result, after = record_deaths(ledger, _as_sent(read_deaths, path), code=program)
            return _deaths_json(result, after)

        return _write(request, who, idempotency_key, {"file": digest, "program": program},
                      program, run)


class DecileChanged(BaseModel):
    line: int
    nik: str = Field(description="Masked.")
    previous: int
    decile: int
    eligible_before: bool
    eligible_after: bool
    enrolled: bool


class DecilesRecorded(Position):
    release: str
    ruleset: str
    changed: list[DecileChanged]
    unchanged: int
    reported: list[RowReported]
    ranked: int
    ranks: int = Field(description="Ranks recorded by the ranking redone afterwards.")


def _deciles_json(result: DecilesResult) -> dict[str, Any]:
    return {"release": result.release, "ruleset": result.ruleset,
            "changed": [{"line": c.line, "nik": c.nik, "previous": c.previous,
                         "decile": c.decile, "eligible_before": c.eligible_before,
                         "eligible_after": c.eligible_after, "enrolled": c.enrolled}
                        for c in result.changed],
            "unchanged": result.unchanged, "reported": _reported(result.reported),
            "ranked": result.ranked, "ranks": result.ranks}


@router.post("/deciles", tags=["workers"], response_model=DecilesRecorded,
             summary="Record DTSEN's quarterly deciles, then rank again (as `workers deciles`)")
def deciles(
    request: Request, who: Caller,
    file: Annotated[UploadFile, File(description=f"A DTSEN release's deciles: {FORMS}; "
                                     "columns NIK, Desil (1-10), Nama (optional).")],
    release: Annotated[str, Form(max_length=32, description="The DTSEN release the deciles "
                                 "come from, e.g. 2026-Q2 (recorded with each correction "
                                 "and each new rank); not a quarter that has not begun.")],
    ruleset: Annotated[Literal[tuple(sorted(RULESETS))], Form(  # type: ignore[valid-type]
        description="The priority rule set to rank under afterwards.")] = DEFAULT_RULESET,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A file with any bad row is refused whole (422, every bad row named), nothing recorded.
    Each changed decile is recorded as a correction naming the release (one transaction),
    then every eligible worker is ranked again."""
    with _uploaded(file) as (path, digest):

        def run(ledger: Ledger) -> dict[str, Any]:
            ledger.check_role("update_deciles")  # a caller without the role: 403, file unread
            problem = release_problem(release.strip(), today_in_jakarta())
            if problem:  # before the file is read, as the CLI checks --release
                raise InvalidInput(f"release: {problem}; nothing was recorded")
            lines = _as_sent(read_deciles, path)
            return _deciles_json(update_deciles(ledger, lines, release=release.strip(),
                                                ruleset_name=ruleset))

        return _write(request, who, idempotency_key,
                      {"file": digest, "release": release.strip(), "ruleset": ruleset},
                      None, run)


# -- the program -------------------------------------------------------------------------


class ProgramShown(Position):
    """`program show --format json`."""

    program: str
    name: str
    year: int
    start: str
    end: str
    months: int
    ruleset: str
    jkk_monthly: int
    jkm_monthly: int
    premium_monthly: int
    allocation: int
    committed: int
    paid: int
    overpaid: int
    available: int
    quota: int
    enrolled: int
    places_left: int
    digest: str | None


@router.get("/program", tags=["program"], response_model=ProgramShown,
            summary="A program's terms and figures now (as `program show`)")
def show_program(request: Request, who: Caller, program: ProgramCode = None,
                 min_position: MinPosition = None) -> JSONResponse:
    data = _read(request, min_position, lambda lg: report_json(
        program_figures(lg.program(program), lg.recorder)))
    return answered(data, data["position"])


class CapacityRow(BaseModel):
    start: str
    months: int
    cost_per_worker: int
    workers: int
    commits: int
    limited_by: str
    workers_amended: int | None = None
    more: int | None = None
    commits_amended: int | None = None
    limited_by_amended: str | None = None


class CapacityWhatIf(BaseModel):
    allocation: int
    quota: int
    available: int
    places_left: int
    workers: int
    more: int


class Capacity(Position):
    """`program capacity --format json`: the first start month's row, then every later one;
    with `allocation` or `quota`, what that amendment would change."""

    program: str
    start: str
    months: int
    workers: int
    commits: int
    limited_by: str
    available: int
    places_left: int
    by_start: list[CapacityRow]
    digest: str | None
    what_if: CapacityWhatIf | None = Field(default=None, description="Only when asked.")


@router.get("/capacity", tags=["program"], response_model=Capacity,
            summary="How many more workers fit from a start month (as `program capacity`)")
def capacity(
    request: Request, who: Caller, program: ProgramCode = None,
    start: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="Coverage starting "
                                       "this month, YYYY-MM [default: the program's start]."
                                       )] = None,
    allocation: Annotated[int | None, Query(ge=1, le=MAX_RUPIAH, description="What if the "
                                            "allocation were amended to this (nothing is "
                                            "saved).")] = None,
    quota: Annotated[int | None, Query(ge=1, le=MAX_WORKERS, description="What if the quota "
                                       "were amended to this (nothing is saved).")] = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    first = None if start is None else _month(start, "start")

    def run(ledger: Ledger) -> dict[str, Any]:
        p = ledger.program(program)
        data: dict[str, Any] = report_json(capacity_report(
            p, first or p.start, ledger.recorder, allocation=allocation, quota=quota))
        return data

    data = _read(request, min_position, run)
    return answered(data, data["position"])


class OpenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=1900, le=9999, description="Fiscal year.")
    allocation: Rupiah = Field(description="The allocation (pagu) in rupiah.")
    quota: Workers = Field(description="Workers it may cover.")
    start: str | None = Field(default=None, pattern=MONTH_PATTERN,
                              description="First month of the period [default: January].")
    end: str | None = Field(default=None, pattern=MONTH_PATTERN,
                            description="Last month of the period [default: December].")
    jkk_monthly: Rupiah = Field(default=DEFAULT_JKK_MONTHLY, description="JKK premium a month.")
    jkm_monthly: Rupiah = Field(default=DEFAULT_JKM_MONTHLY, description="JKM premium a month.")
    name: str | None = Field(default=None, max_length=200,
                             description="Name of the program, e.g. 'SIGAP 2026'.")
    code: str | None = Field(default=None, max_length=64,
                             description="Its id for `program` [default: the year].")
    four_eyes: bool = Field(default=True, description="Enrolment decrees, monthly payments, "
                            "amendments, reversals of payments and annulments of enrolments "
                            "are proposed and take effect only when a second "
                            "principal approves them; `false` lets one principal holding the "
                            "role act alone (a small office).")
    one_key_reason: str = Field(default="", max_length=500,
                                description="With `four_eyes` false: why one key suffices, "
                                "kept in the program's terms (as `program open --one-key "
                                "--reason`); `audit verify` lists what one principal moved "
                                "alone on it.")


class Opened(ProgramShown):
    four_eyes: bool
    one_key_reason: str = ""
    fits: int = Field(description="Workers that fit for the whole period.")


@router.post("/programs", tags=["program"], response_model=Opened, status_code=201,
             summary="Open a program for a fiscal year (as `program open`; administrator)")
def open_program(request: Request, who: Caller, body: OpenRequest,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """In a ledger that exists (the service never creates one): its first program is opened
    with `jamsos program open`, which makes the holder of the key its administrator."""
    start = None if body.start is None else _month(body.start, "start")
    end = None if body.end is None else _month(body.end, "end")

    def run(ledger: Ledger) -> dict[str, Any]:
        p = ledger.open_program(
            year=body.year, allocation=body.allocation, quota=body.quota, start=start,
            end=end, jkk_monthly=body.jkk_monthly, jkm_monthly=body.jkm_monthly,
            name=body.name, code=body.code, four_eyes=body.four_eyes,
            one_key_reason=body.one_key_reason)
        return {**report_json(program_figures(p, ledger.recorder)),
                "four_eyes": p.four_eyes, "one_key_reason": p.one_key_reason,
                "fits": p.capacity(p.start)}

    return _write(request, who, idempotency_key, body.model_dump(), body.code, run, status=201)


class AmendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(default=None, max_length=64)
    allocation: Rupiah | None = Field(default=None, description="The new allocation (pagu).")
    quota: Workers | None = Field(default=None, description="The new quota.")
    reason: str = Field(min_length=1, max_length=500,
                        description="Why: the decree or budget document (APBD-P).")


class Amended(Position):
    """The program's terms after, or under four eyes the proposal made instead."""

    changed: bool | None = Field(default=None, description="False when the program already "
                                 "had these terms (nothing recorded).")
    allocation: int | None = None
    quota: int | None = None
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


@router.post("/program/amendments", tags=["program"], response_model=Amended,
             summary="Amend the allocation or the quota (as `program amend`): a proposal "
             "under four eyes")
def amend_program(request: Request, who: Caller, body: AmendRequest,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Never below what is used (409 with the figures). A program with four eyes on takes it
    as a proposal, checked now, changing nothing until a principal holding the role approver
    approves it (`/api/v1/proposals/ID/approve`)."""
    if body.allocation is None and body.quota is None:
        raise ServiceProblem(422, "give allocation, quota or both")

    def run(ledger: Ledger) -> dict[str, Any]:
        role_first(ledger, "propose_amendment", "amend_program")
        before = ledger.program(body.program)
        if before.four_eyes:  # as `program amend` does: a proposal
            return proposal_json(ledger.propose_amendment(
                before.code, allocation=body.allocation, quota=body.quota, reason=body.reason))
        terms = (before.allocation, before.quota)
        after = ledger.amend_program(before.code, allocation=body.allocation, quota=body.quota,
                                     reason=body.reason)
        return {"program": after.code, "changed": (after.allocation, after.quota) != terms,
                "allocation": after.allocation, "quota": after.quota,
                "available": after.available, "places_left": after.places_left}

    return _write(request, who, idempotency_key, body.model_dump(), body.program, run)


__all__ = ["router"]
