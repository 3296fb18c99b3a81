"""The rules of reversals, annulments, the invoice's reconciliation and the recoveries, on the
aggregates and the domain's functions alone (no store): the cases the command-line tests do not
reach, each worked out by hand at Rp 16.800 a participant a month (JKK 10.000 + JKM 6.800).
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from test_domain_program import APR, FEB, JAN, MAR, open_2026, register

from jamsos_ledger.domain.errors import RuleViolation
from jamsos_ledger.domain.model import Program, Worker
from jamsos_ledger.domain.reconciliation import (
    NOT_BILLED,
    NOT_COVERED,
    TWICE,
    UNKNOWN,
    WRONG_AMOUNT,
    InvoiceLine,
    Participant,
    reconcile,
)
from jamsos_ledger.domain.rules import Premium

RATES = Premium(10_000, 6_800)


def participant(nik: str, covered: bool = True) -> Participant:
    return Participant(uuid4(), nik, covered, "covered" if covered else "ended in 2026-02")


def billed(line: int, nik: str, jkk: int = 10_000, status: str = "aktif") -> InvoiceLine:
    return InvoiceLine(line, nik, f"{line:011d}", "Siti Aminah", APR, jkk, 6_800, status)


def test_the_first_line_of_a_participant_decides_and_later_ones_are_twice() -> None:
    a, b = participant("3275014506850001"), participant("3275014506850002")
    result = reconcile(APR, [billed(2, a.nik, jkk=9_000), billed(3, a.nik), billed(4, b.nik),
                             billed(5, "3275014506850003"), billed(6, "3275014506850003")],
                       RATES, {a.nik: a, b.nik: b}, [a, b])
    assert [(d.kind, d.line) for d in result.differences] == [
        (UNKNOWN, 5), (TWICE, 3), (TWICE, 6), (WRONG_AMOUNT, 2)]
    assert result.agreed == [b.worker_id]
    assert result.agreed_amount == Premium(10_000, 6_800)
    # Billed: 9.000 + 10.000 x 4 JKK, 6.800 x 5 JKM.
    assert result.billed == Premium(49_000, 34_000)
    # Every line gives its worker's KPJ, the later line the last word.
    assert result.kpj == {a.worker_id: f"{3:011d}", b.worker_id: f"{4:011d}"}


def test_a_covered_participant_listed_inactive_is_not_billed_and_not_paid() -> None:
    a, ended = participant("3275014506850001"), participant("3275014506850002", covered=False)
    result = reconcile(APR, [billed(2, a.nik, jkk=0, status="nonaktif"), billed(3, ended.nik)],
                       RATES, {a.nik: a, ended.nik: ended}, [a])
    assert [(d.kind, d.line, d.expected) for d in result.differences] == [
        (NOT_COVERED, 3, Premium(0, 0)), (NOT_BILLED, None, RATES)]
    assert result.agreed == [] and result.billed == RATES
    assert result.counts() == {UNKNOWN: 0, NOT_COVERED: 1, TWICE: 0, WRONG_AMOUNT: 0,
                               NOT_BILLED: 1}


@pytest.fixture
def two_enrolled() -> tuple[Program, Worker, Worker]:
    program = open_2026()
    siti, budi = register("Siti Aminah", 1, 1, sex="P"), register("Budi Santoso", 2, 2)
    program.enrol([siti, budi], start=JAN, decree="KEP-1", actor="t")
    return program, siti, budi


def test_recoveries_follow_the_books_after_a_reversal(
    two_enrolled: tuple[Program, Worker, Worker],
) -> None:
    program, siti, _budi = two_enrolled
    for month, sp2d in ((JAN, "SP2D-1"), (FEB, "SP2D-2"), (MAR, "SP2D-3")):
        program.pay(month=month, sp2d=sp2d, amount=None, actor="t")
    program.end_coverage(siti, month=JAN, reason="died", actor="t")
    # February and March were paid for her: Rp 33.600 to recover.
    assert program.recoveries() == {siti.id: Premium(20_000, 13_600)}
    assert program.overpaid.total == 33_600
    program.reverse_payment(sp2d="sp2d-3", reason="paid in error", actor="t")
    # March's payment is undone: only February is left to recover, as the books say.
    assert program.recoveries() == {siti.id: Premium(10_000, 6_800)}
    assert program.overpaid.total == 16_800
    assert program.month_books(MAR).committed.total == 16_800  # Budi's March, unpaid again


def test_an_annulment_releases_exactly_the_unpaid_months(
    two_enrolled: tuple[Program, Worker, Worker],
) -> None:
    program, siti, _budi = two_enrolled
    program.pay(month=JAN, sp2d="SP2D-1", amount=None, actor="t")
    late = register("Dewi Lestari", 3, 3, sex="P")
    program.enrol([late], start=FEB, decree=None, actor="t")
    before = program.committed.total
    released = program.annul_enrolment(late, reason="KEP-2 revoked", actor="t")
    assert released.total == 11 * 16_800 == before - program.committed.total
    assert late.coverages == {} and program.enrolled == 2
    with pytest.raises(RuleViolation, match="2026-01, covered from 2026-01, is paid"):
        program.annul_enrolment(siti, reason="wrong person", actor="t")
