"""BPJS Ketenagakerjaan's monthly invoice set against the ledger's participants of that month.

BPJS bills the city one line per participant (NIK, KPJ participant number, name, month, JKK,
JKM, status). Before a month is paid, each line is checked against who the program covers in
that month and at which rates: the differences are what an operator takes up with BPJS, and
only what both sides agree on is paid. Audit findings on programs like this one come from
exactly there: participants billed after they died or left, billed twice, or at other rates.

The comparison is a rule of the program, so it lives here, beside the domain, and knows no
file format: `invoice_file` reads the office's file into `InvoiceLine`s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from jamsos_ledger.domain.money import rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.rules import Premium
from jamsos_ledger.domain.texts import initials

# BPJS Ketenagakerjaan's participant number (Kartu Peserta Jamsostek, KPJ): 11 digits.
KPJ_LENGTH = 11
_KPJ = re.compile(rf"^\d{{{KPJ_LENGTH}}}$")
# A line's status on BPJS's invoice: billed (aktif) or listed without a bill (nonaktif).
ACTIVE, INACTIVE = "aktif", "nonaktif"
INVOICE_STATUSES = (ACTIVE, INACTIVE)

# The kinds of difference, in the order an operator works through them.
UNKNOWN = "unknown NIK"
NOT_COVERED = "billed, not covered"
TWICE = "billed twice"
WRONG_AMOUNT = "amount differs"
NOT_BILLED = "covered, not billed"
KINDS = (UNKNOWN, NOT_COVERED, TWICE, WRONG_AMOUNT, NOT_BILLED)


def kpj_problem(kpj: str) -> str | None:
    """Why a KPJ number cannot be BPJS's, or None."""
    if not _KPJ.match(kpj):
        return f"KPJ must be {KPJ_LENGTH} digits, not {len(kpj)} characters"
    return None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One participant billed, as the invoice gives it (checked for form by the reader).

    Attributes:
        line: the line in the file, the header being line 1.
        nik, kpj, name: the participant as BPJS knows them.
        month: the month billed.
        jkk, jkm: rupiah billed for each scheme.
        status: `aktif` (billed) or `nonaktif` (listed, not billed).
    """

    line: int
    nik: str
    kpj: str
    name: str
    month: Month
    jkk: int
    jkm: int
    status: str


@dataclass(frozen=True, slots=True)
class Participant:
    """What the reconciliation needs of a registered worker: who, and their coverage.

    Attributes:
        worker_id: the worker's aggregate id.
        nik: the NIK (shown masked).
        covered: whether the program covers the worker in the month billed.
        coverage: the coverage in words when not covered ("ended 2026-03 (died)", "never
            enrolled").
    """

    worker_id: UUID
    nik: str
    covered: bool
    coverage: str


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference between the invoice and the ledger."""

    kind: str
    line: int | None
    nik: str
    kpj: str
    name: str
    billed: Premium
    expected: Premium
    detail: str

    def row(self) -> dict[str, Any]:
        """As reports show it: the NIK masked, the name reduced to initials (UU 27/2022)."""
        return {
            "kind": self.kind, "line": self.line, "nik": mask_nik(self.nik), "kpj": self.kpj,
            "name": initials(self.name), "billed_jkk": self.billed.jkk,
            "billed_jkm": self.billed.jkm, "expected_jkk": self.expected.jkk,
            "expected_jkm": self.expected.jkm, "detail": self.detail,
        }


@dataclass
class Reconciliation:
    """The invoice of a month set against the program's participants.

    Attributes:
        month: the month billed.
        lines: lines read.
        billed: what the invoice bills in all (active lines).
        agreed: workers covered, billed once at the program's rates: what is paid.
        left_out: workers covered and not agreed (not billed, or billed wrongly): a payment of
            the invoice leaves their month unpaid, still owed when BPJS bills it right.
        differences: everything else, line by line.
        kpj: the KPJ number the invoice gives each registered worker.
    """

    month: Month
    lines: int
    billed: Premium
    premium: Premium
    agreed: list[UUID] = field(default_factory=list)
    left_out: list[UUID] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    kpj: dict[UUID, str] = field(default_factory=dict)

    @property
    def agreed_amount(self) -> Premium:
        return self.premium.times(len(self.agreed))

    def counts(self) -> dict[str, int]:
        """Differences of each kind, every kind named."""
        return {kind: sum(1 for d in self.differences if d.kind == kind) for kind in KINDS}


def reconcile(
    month: Month,
    lines: Sequence[InvoiceLine],
    premium: Premium,
    registered: Mapping[str, Participant],
    covered: Sequence[Participant],
) -> Reconciliation:
    """Compare an invoice's lines with the participants the program covers in `month`.

    `registered` holds the workers the ledger knows among the invoice's NIKs; `covered`, every
    worker the program covers in the month. A line is agreed when its worker is covered,
    billed for the first time in the invoice, at the program's monthly rates (PP 44/2015 as
    amended; rules.py); a covered worker without an active line is "covered, not billed"
    (not yet active at BPJS), which BPJS bills later and the city pays then.
    """
    billed_total = Premium(0, 0)
    result = Reconciliation(month=month, lines=len(lines), billed=billed_total, premium=premium)
    seen: dict[str, int] = {}
    covered_ids = {p.worker_id for p in covered}
    billed_ids: set[UUID] = set()
    for line in lines:
        billed = Premium(line.jkk, line.jkm)
        worker = registered.get(line.nik)
        if worker is not None:
            result.kpj[worker.worker_id] = line.kpj
        if line.status != ACTIVE:
            continue
        billed_total = Premium(billed_total.jkk + billed.jkk, billed_total.jkm + billed.jkm)

        def differs(kind: str, expected: Premium, detail: str, line: InvoiceLine = line,
                    billed: Premium = billed) -> None:
            result.differences.append(Difference(
                kind, line.line, line.nik, line.kpj, line.name, billed, expected, detail))

        first = seen.setdefault(line.nik, line.line)
        if first != line.line:
            differs(TWICE, Premium(0, 0), f"already billed on line {first}")
        elif worker is None:
            differs(UNKNOWN, Premium(0, 0), "no worker with this NIK is registered")
        elif worker.worker_id not in covered_ids:
            differs(NOT_COVERED, Premium(0, 0), worker.coverage)
        elif billed != premium:
            billed_ids.add(worker.worker_id)
            differs(WRONG_AMOUNT, premium, "the program's monthly rates are JKK "
                    f"{rupiah(premium.jkk)} and JKM {rupiah(premium.jkm)}")
        else:
            billed_ids.add(worker.worker_id)
            result.agreed.append(worker.worker_id)
    agreed_ids = set(result.agreed)
    result.left_out = [p.worker_id for p in covered if p.worker_id not in agreed_ids]
    for participant in covered:
        if participant.worker_id not in billed_ids:
            result.differences.append(Difference(
                NOT_BILLED, None, participant.nik, "", "", Premium(0, 0), premium,
                "covered by the program; BPJS bills them when they are active"))
    result.billed = billed_total
    result.differences.sort(key=lambda d: (KINDS.index(d.kind), d.line or 0, d.nik))
    return result
