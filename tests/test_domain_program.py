"""The program's rules on the aggregates themselves, no store: Kota Bekasi's 2026 year.

Rp 2.000.000.000 for 10.000 workers at Rp 16.800 a month (JKK Rp 10.000 + JKM Rp 6.800):
a year is Rp 201.600, and 2.000.000.000 / 201.600 = 9.920,6, so 9.920 fit the full year.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from jamsos_ledger.domain.errors import (
    InvalidInput,
    NotFound,
    OverBudget,
    OverQuota,
    RuleViolation,
)
from jamsos_ledger.domain.model import Coverage, Program, Registration, Worker
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.rules import Premium

JAN, FEB, MAR, APR, MAY, JUN = (Month(2026, m) for m in range(1, 7))
JUL, DEC = Month(2026, 7), Month(2026, 12)
MONTHLY = 16_800  # JKK 10.000 + JKM 6.800
YEAR = 12 * MONTHLY  # 201.600


def open_2026(**terms: Any) -> Program:
    """Kota Bekasi's 2026 program, with any term changed."""
    given: dict[str, Any] = {
        "code": "bekasi-2026",
        "name": "Pekerja Rentan Kota Bekasi 2026",
        "year": 2026,
        "start": JAN,
        "end": DEC,
        "allocation": 2_000_000_000,
        "quota": 10_000,
        "jkk_monthly": 10_000,
        "jkm_monthly": 6_800,
        "ruleset_name": "dtsen-desil-v1",
        "actor": "disnaker",
    }
    given.update(terms)
    return Program.open(**given)


def register(name: str, decile: int, serial: int, *, sex: str = "L") -> Worker:
    """A worker of Bekasi Timur born 17 August 1985 (a woman's NIK day is 17 + 40 = 57)."""
    day = 57 if sex == "P" else 17
    nik = f"327501{day}0885{serial:04d}"
    return Worker.register(
        Registration(nik, name, date(1985, 8, 17), sex, "Bekasi Timur", "Aren Jaya",
                     "pedagang kaki lima", decile, "Disnaker"),
        actor="disnaker",
    )


def crowd(n: int, first: int = 1) -> list[Worker]:
    """n ojol drivers of decile 1 with distinct NIKs (serial and kecamatan vary)."""
    workers = []
    for i in range(first, first + n):
        kecamatan, serial = divmod(i, 9_999)
        nik = f"3275{kecamatan + 1:02d}170885{serial + 1:04d}"
        workers.append(Worker.register(
            Registration(nik, f"Pengemudi {i}", date(1985, 8, 17), "L", "Rawalumbu",
                         "Pengasinan", "ojol", 1, "Dinsos"),
            actor="dinsos",
        ))
    return workers


@pytest.fixture
def siti() -> Worker:
    return register("Siti Aminah", 1, 1, sex="P")


@pytest.fixture
def budi() -> Worker:
    return register("Budi Santoso", 2, 2)


@pytest.fixture
def dewi() -> Worker:
    return register("Dewi Lestari", 3, 3, sex="P")


@pytest.fixture
def ahmad() -> Worker:
    return register("Ahmad Fauzi", 5, 4)


@pytest.fixture
def eko() -> Worker:
    # Decile 6: not eligible under dtsen-desil-v1.
    return register("Eko Prasetyo", 6, 5)


def last_event(program: Program) -> Any:
    return program.pending_events[-1]


# -- opening -------------------------------------------------------------------------------


def test_open_records_the_terms() -> None:
    program = open_2026()
    assert (program.allocation, program.quota) == (2_000_000_000, 10_000)
    assert program.premium == Premium(10_000, 6_800)
    assert program.months == 12
    assert program.committed == Premium(0, 0)
    assert program.available == 2_000_000_000
    assert program.places_left == 10_000
    assert isinstance(last_event(program), Program.Opened)


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"start": DEC, "end": JAN}, "the period ends (2026-01) before it starts (2026-12)"),
        ({"end": Month(2036, 1)}, "the period 2026-01 to 2036-01 is longer than ten years"),
        ({"allocation": 0}, "allocation must be positive, not Rp 0"),
        ({"allocation": -2_000_000_000}, "allocation must be positive, not -Rp 2.000.000.000"),
        ({"quota": 0}, "quota must be positive, not 0"),
        ({"quota": -10_000}, "quota must be positive, not -10000"),
        ({"jkk_monthly": 9_999}, "JKK premium Rp 9.999 a month is below the minimum Rp 10.000"),
        ({"jkm_monthly": 0}, "JKM premium must be positive, not Rp 0"),
        ({"ruleset_name": "dtsen-v0"}, "unknown rule set 'dtsen-v0'; known: dtsen-desil-v1"),
        ({"code": "bekasi 2026"}, "program id must be a word without spaces"),
    ],
)
def test_open_refuses_terms_that_cannot_be_right(terms: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_2026(**terms)
    assert message in str(refused.value)


def test_open_lists_every_problem_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        open_2026(allocation=0, quota=0, jkk_monthly=5_000)
    assert str(refused.value).count("; ") == 2


def test_a_ten_year_period_is_allowed() -> None:
    # 2026-01 to 2035-12: 120 months, the longest allowed.
    assert open_2026(end=Month(2035, 12)).months == 120


# -- enrolment -----------------------------------------------------------------------------


def test_enrolment_commits_months_times_premium(
    siti: Worker, budi: Worker, dewi: Worker
) -> None:
    program = open_2026()
    program.enrol([siti, budi, dewi], start=JAN, decree="KEP-WALIKOTA-1/2026", actor="disnaker")
    # 3 workers x 12 months x 16.800 = 604.800 (JKK 3 x 12 x 10.000, JKM 3 x 12 x 6.800).
    assert program.committed == Premium(360_000, 244_800)
    assert program.committed.total == 604_800
    assert program.available == 2_000_000_000 - 604_800
    assert program.enrolled == 3
    assert program.places_left == 9_997
    committed = last_event(program)
    assert isinstance(committed, Program.PremiumsCommitted)
    assert (committed.workers, committed.jkk, committed.jkm) == (3, 360_000, 244_800)
    assert siti.coverages[program.id] == Coverage(JAN, DEC, decree="KEP-WALIKOTA-1/2026")


def test_enrolment_from_july_commits_six_months(ahmad: Worker, budi: Worker) -> None:
    program = open_2026()
    program.enrol([ahmad, budi], start=JUL, decree=None, actor="disnaker")
    # 2 workers x 6 months (July-December) x 16.800 = 201.600.
    assert program.committed.total == 201_600
    assert program.month_books(JUN).active == 0
    assert program.month_books(JUL).active == 2
    assert program.month_books(JUL).committed == Premium(20_000, 13_600)


def test_ten_thousand_full_year_workers_are_refused() -> None:
    program = open_2026()
    workers = crowd(10_000)
    with pytest.raises(OverBudget) as refused:
        program.enrol(workers, start=JAN, decree="KEP-1", actor="disnaker")
    message = str(refused.value)
    # 10.000 x 12 x 16.800 = 2.016.000.000, 16.000.000 more than the 2.000.000.000.
    assert "they would commit Rp 2.016.000.000 (12 months x Rp 16.800)" in message
    assert "but Rp 2.000.000.000 is available" in message
    assert "Rp 16.000.000 is missing" in message
    # 2.000.000.000 // 201.600 = 9.920.
    assert "9.920 workers fit from 2026-01" in message
    assert "nobody was enrolled" in message
    assert program.enrolled == 0
    assert program.version == 1
    assert all(not w.coverages for w in workers)


def test_nine_thousand_nine_hundred_twenty_fit_the_full_year() -> None:
    program = open_2026()
    program.enrol(crowd(9_920), start=JAN, decree="KEP-1", actor="disnaker")
    # 9.920 x 201.600 = 1.999.872.000; 2.000.000.000 - 1.999.872.000 = 128.000.
    assert program.committed.total == 1_999_872_000
    assert program.committed == Premium(9_920 * 12 * 10_000, 9_920 * 12 * 6_800)
    assert program.available == 128_000
    assert program.places_left == 80

    # The 9.921st full-year worker would overspend public money: 201.600 > 128.000.
    (one_more,) = crowd(1, first=9_921)
    with pytest.raises(OverBudget) as refused:
        program.enrol([one_more], start=JAN, decree="KEP-2", actor="disnaker")
    assert "Rp 201.600 (12 months x Rp 16.800) but Rp 128.000 is available" in str(refused.value)
    # 201.600 - 128.000 = 73.600 missing.
    assert "Rp 73.600 is missing. 0 workers fit from 2026-01" in str(refused.value)
    assert program.enrolled == 9_920
    assert not one_more.coverages

    # From December only: 128.000 // 16.800 = 7 (7 x 16.800 = 117.600).
    assert program.capacity(DEC) == 7
    program.enrol([one_more], start=DEC, decree="KEP-2", actor="disnaker")
    assert program.available == 128_000 - 16_800


def test_ten_thousand_fit_from_february() -> None:
    program = open_2026()
    program.enrol(crowd(10_000), start=FEB, decree="KEP-1", actor="disnaker")
    # 10.000 x 11 months x 16.800 = 1.848.000.000; 152.000.000 left, but no place.
    assert program.committed.total == 1_848_000_000
    assert program.available == 152_000_000
    assert program.places_left == 0
    assert program.capacity(FEB) == 0


def test_quota_refusal(siti: Worker, budi: Worker, dewi: Worker) -> None:
    program = open_2026(quota=2)
    with pytest.raises(OverQuota) as refused:
        program.enrol([siti, budi, dewi], start=JAN, decree=None, actor="disnaker")
    assert "they would need 3 places but 2 of the quota of 2 are left" in str(refused.value)
    assert "2 workers fit from 2026-01" in str(refused.value)
    assert program.enrolled == 0


def test_over_both_money_and_places_is_over_budget_naming_both() -> None:
    # Rp 403.200 = two full years; three workers need three places and 604.800.
    program = open_2026(allocation=403_200, quota=2)
    with pytest.raises(OverBudget) as refused:
        program.enrol(crowd(3), start=JAN, decree=None, actor="disnaker")
    assert "Rp 201.600 is missing" in str(refused.value)
    assert "3 places but 2 of the quota of 2 are left" in str(refused.value)


def test_a_batch_with_an_ineligible_worker_enrols_nobody(
    siti: Worker, budi: Worker, eko: Worker
) -> None:
    program = open_2026()
    with pytest.raises(RuleViolation) as refused:
        program.enrol([siti, eko, budi], start=JAN, decree="KEP-1", actor="disnaker")
    message = str(refused.value)
    assert message.startswith("1 of 3 workers cannot be enrolled in bekasi-2026")
    assert f"{eko.masked_nik} has DTSEN decile 6, not eligible under dtsen-desil-v1" in message
    assert message.endswith("nobody was enrolled")
    assert program.enrolled == 0 and program.version == 1
    assert not siti.coverages and not budi.coverages


def test_a_batch_with_an_enrolled_worker_enrols_nobody(
    siti: Worker, budi: Worker, dewi: Worker
) -> None:
    program = open_2026()
    program.enrol([siti], start=JAN, decree="KEP-1", actor="disnaker")
    version = program.version
    with pytest.raises(RuleViolation) as refused:
        program.enrol([budi, siti, dewi], start=MAR, decree="KEP-2", actor="disnaker")
    assert f"{siti.masked_nik} is already enrolled in bekasi-2026 (from 2026-01)" in str(
        refused.value
    )
    assert program.version == version and program.enrolled == 1
    assert program.committed.total == YEAR
    assert not budi.coverages and not dewi.coverages


def test_an_ended_worker_cannot_be_enrolled_again(siti: Worker) -> None:
    program = open_2026()
    program.enrol([siti], start=JAN, decree=None, actor="disnaker")
    program.end_coverage(siti, month=MAR, reason="moved", actor="disnaker")
    with pytest.raises(RuleViolation, match=r"already enrolled in bekasi-2026 \(ended 2026-03\)"):
        program.enrol([siti], start=JUL, decree=None, actor="disnaker")


def test_a_batch_must_name_workers_once_within_the_period(siti: Worker) -> None:
    program = open_2026()
    with pytest.raises(InvalidInput, match="no workers to enrol"):
        program.enrol([], start=JAN, decree=None, actor="disnaker")
    with pytest.raises(InvalidInput, match="listed twice"):
        program.enrol([siti, siti], start=JAN, decree=None, actor="disnaker")
    with pytest.raises(RuleViolation, match="2027-01 is outside program bekasi-2026's period"):
        program.enrol([siti], start=Month(2027, 1), decree=None, actor="disnaker")
    assert program.version == 1


def test_capacity_per_start_month() -> None:
    program = open_2026()
    # January: 2.000.000.000 // 201.600 = 9.920 (money is the limit).
    assert program.capacity(JAN) == 9_920
    # February: 2.000.000.000 // 184.800 = 10.822, but the quota is 10.000.
    assert program.capacity(FEB) == 10_000
    assert program.capacity(DEC) == 10_000
    raised = open_2026(quota=20_000)
    # 10.822 x 184.800 = 1.999.905.600 fits; 10.823 x 184.800 = 2.000.090.400 does not.
    assert raised.capacity(FEB) == 10_822
    # July: 2.000.000.000 // (6 x 16.800 = 100.800) = 19.841.
    assert raised.capacity(JUL) == 19_841
    assert raised.commitment_for(10_822, FEB).total == 1_999_905_600


def test_capacity_outside_the_period_is_refused_even_when_the_places_are_gone() -> None:
    program = open_2026(quota=1)
    with pytest.raises(RuleViolation, match="2025-12 is outside"):
        program.capacity(Month(2025, 12))
    program.enrol(crowd(1), start=JAN, decree=None, actor="disnaker")
    # No place is left, but December 2025 is still not a month of the program.
    assert program.capacity(FEB) == 0
    with pytest.raises(RuleViolation, match="2025-12 is outside"):
        program.capacity(Month(2025, 12))
    with pytest.raises(RuleViolation, match="2027-01 is outside"):
        program.capacity(Month(2027, 1))


# -- ending coverage -----------------------------------------------------------------------


def test_ending_releases_unpaid_months_and_shows_paid_ones_as_overpayment(
    siti: Worker, budi: Worker, dewi: Worker
) -> None:
    program = open_2026()
    program.enrol([siti, budi, dewi], start=JAN, decree="KEP-1", actor="disnaker")
    for n, month in enumerate((JAN, FEB, MAR, APR), start=1):
        program.pay(month=month, sp2d=f"SP2D-{n:03d}", amount=None, actor="bpkad")
    # Paid: 4 months x 3 x 16.800 = 201.600; committed: May-Dec 8 x 3 x 16.800 = 403.200.
    assert program.paid_total.total == 201_600
    assert program.committed.total == 403_200

    # Siti dies in February: covered to the end of February.
    program.end_coverage(siti, month=FEB, reason="died", actor="disnaker")

    released = last_event(program)
    assert isinstance(released, Program.CoverageReleased)
    # May-December unpaid: 8 x 16.800 = 134.400 released (JKK 80.000, JKM 54.400).
    assert (released.jkk, released.jkm) == (80_000, 54_400)
    # March and April already paid: 2 x 16.800 = 33.600 overpaid (JKK 20.000, JKM 13.600).
    assert (released.overpaid_jkk, released.overpaid_jkm) == (20_000, 13_600)

    # Committed: 403.200 - 134.400 = 268.800 (2 workers x May-Dec 8 x 16.800).
    assert program.committed.total == 268_800
    assert program.paid_total.total == 201_600
    assert program.overpaid == Premium(20_000, 13_600)
    assert program.available == 2_000_000_000 - 268_800 - 201_600
    assert program.enrolled == 2
    assert program.month_books(FEB).active == 3
    march = program.month_books(MAR)
    assert (march.active, march.paid_participants) == (2, 3)
    assert march.overpaid.total == MONTHLY
    assert march.committed.total == 0
    assert siti.coverages[program.id].ended == FEB
    assert siti.coverages[program.id].last == FEB


def test_ending_in_the_last_month_releases_nothing(siti: Worker) -> None:
    program = open_2026()
    program.enrol([siti], start=JAN, decree=None, actor="disnaker")
    program.end_coverage(siti, month=DEC, reason="formal", actor="disnaker")
    released = last_event(program)
    assert (released.jkk, released.jkm, released.overpaid_jkk) == (0, 0, 0)
    assert program.committed.total == YEAR  # December is still covered and unpaid
    assert program.places_left == 10_000


def test_ending_frees_the_place(siti: Worker, budi: Worker) -> None:
    program = open_2026(quota=1)
    program.enrol([siti], start=JAN, decree=None, actor="disnaker")
    program.end_coverage(siti, month=JAN, reason="moved", actor="disnaker")
    # Budi takes Siti's place from February: 11 x 16.800 = 184.800 more.
    program.enrol([budi], start=FEB, decree=None, actor="disnaker")
    assert program.committed.total == MONTHLY + 11 * MONTHLY


def test_ending_before_the_start_is_refused(ahmad: Worker) -> None:
    program = open_2026()
    program.enrol([ahmad], start=JUL, decree=None, actor="disnaker")
    with pytest.raises(
        RuleViolation, match="cannot end in 2026-06, before it starts in 2026-07"
    ):
        program.end_coverage(ahmad, month=JUN, reason="moved", actor="disnaker")
    assert program.enrolled == 1 and ahmad.coverages[program.id].ended is None


def test_ending_is_refused_when_it_cannot_apply(siti: Worker, budi: Worker) -> None:
    program = open_2026()
    program.enrol([siti], start=JAN, decree=None, actor="disnaker")
    with pytest.raises(InvalidInput, match="reason must be one of died, moved, formal"):
        program.end_coverage(siti, month=MAR, reason="retired", actor="disnaker")
    with pytest.raises(NotFound, match=re.escape(f"worker {budi.masked_nik} is not enrolled")):
        program.end_coverage(budi, month=MAR, reason="moved", actor="disnaker")
    with pytest.raises(RuleViolation, match="outside program"):
        program.end_coverage(siti, month=Month(2027, 1), reason="moved", actor="disnaker")
    program.end_coverage(siti, month=MAR, reason="moved", actor="disnaker")
    with pytest.raises(RuleViolation, match="already ended in 2026-03"):
        program.end_coverage(siti, month=APR, reason="died", actor="disnaker")
    assert program.enrolled == 0


# -- payments ------------------------------------------------------------------------------


def test_paying_a_month_pays_every_active_participant_not_yet_paid(
    siti: Worker, budi: Worker, dewi: Worker, ahmad: Worker
) -> None:
    program = open_2026()
    program.enrol([siti, budi, dewi], start=JAN, decree="KEP-1", actor="disnaker")
    # January's bill: 3 x 16.800 = 50.400 (JKK 30.000, JKM 20.400).
    assert program.pay(month=JAN, sp2d="SP2D-001", amount=50_400, actor="bpkad") == Premium(
        30_000, 20_400
    )
    paid = last_event(program)
    assert isinstance(paid, Program.PremiumPaid)
    assert (paid.participants, paid.jkk, paid.jkm) == (3, 30_000, 20_400)
    # Committed 604.800 - 50.400 = 554.400; paid 50.400.
    assert program.committed.total == 554_400
    assert program.paid_total.total == 50_400

    # Ahmad's decree comes late and covers him from January: only he is billed for it.
    program.enrol([ahmad], start=JAN, decree="KEP-2", actor="disnaker")
    assert program.pay(month=JAN, sp2d="SP2D-002", amount=None, actor="bpkad").total == MONTHLY
    assert program.month_books(JAN).paid_participants == 4
    assert program.payments == [(JAN, "SP2D-001"), (JAN, "SP2D-002")]


def test_nothing_to_pay_is_refused(siti: Worker) -> None:
    program = open_2026()
    with pytest.raises(RuleViolation, match="nothing to pay for 2026-01 in bekasi-2026: 0 "):
        program.pay(month=JAN, sp2d="SP2D-000", amount=None, actor="bpkad")
    program.enrol([siti], start=JAN, decree=None, actor="disnaker")
    program.pay(month=JAN, sp2d="SP2D-001", amount=None, actor="bpkad")
    with pytest.raises(RuleViolation) as refused:
        program.pay(month=JAN, sp2d="SP2D-002", amount=None, actor="bpkad")
    assert str(refused.value) == (
        "nothing to pay for 2026-01 in bekasi-2026: 1 participants covered, 1 already paid "
        "(SP2D SP2D-001)"
    )
    assert program.paid_total.total == MONTHLY


def test_a_wrong_amount_is_refused(siti: Worker, budi: Worker, dewi: Worker) -> None:
    program = open_2026()
    program.enrol([siti, budi, dewi], start=JAN, decree=None, actor="disnaker")
    version = program.version
    with pytest.raises(RuleViolation) as refused:
        program.pay(month=JAN, sp2d="SP2D-001", amount=50_000, actor="bpkad")
    assert str(refused.value) == (
        "the bill for 2026-01 is Rp 50.400 (3 participants x Rp 16.800), not Rp 50.000; "
        "nothing was paid"
    )
    assert program.version == version and program.paid_total.total == 0


def test_payment_input_is_checked(siti: Worker) -> None:
    program = open_2026()
    program.enrol([siti], start=JAN, decree=None, actor="disnaker")
    with pytest.raises(InvalidInput, match="needs its SP2D number"):
        program.pay(month=JAN, sp2d=" ", amount=None, actor="bpkad")
    with pytest.raises(InvalidInput, match="amount must be positive, not Rp 0"):
        program.pay(month=JAN, sp2d="SP2D-001", amount=0, actor="bpkad")
    with pytest.raises(RuleViolation, match="2025-12 is outside"):
        program.pay(month=Month(2025, 12), sp2d="SP2D-001", amount=None, actor="bpkad")


# -- amendments ----------------------------------------------------------------------------


def test_allocation_cannot_go_below_committed_and_paid(
    siti: Worker, budi: Worker, dewi: Worker
) -> None:
    program = open_2026()
    program.enrol([siti, budi, dewi], start=JAN, decree=None, actor="disnaker")
    program.pay(month=JAN, sp2d="SP2D-001", amount=None, actor="bpkad")
    # Used: committed 554.400 + paid 50.400 = 604.800.
    with pytest.raises(OverBudget) as refused:
        program.amend(allocation=604_799, quota=None, reason="APBD-P 2026", actor="bpkad")
    assert str(refused.value) == (
        "cannot amend the allocation of bekasi-2026 to Rp 604.799: Rp 604.800 is already "
        "committed (Rp 554.400) and paid (Rp 50.400); the lowest possible allocation is "
        "Rp 604.800"
    )
    assert program.allocation == 2_000_000_000
    program.amend(allocation=604_800, quota=None, reason="APBD-P 2026", actor="bpkad")
    assert program.available == 0
    amended = last_event(program)
    assert isinstance(amended, Program.AllocationAmended)
    assert (amended.allocation, amended.previous) == (604_800, 2_000_000_000)


def test_quota_cannot_go_below_enrolled(siti: Worker, budi: Worker, dewi: Worker) -> None:
    program = open_2026()
    program.enrol([siti, budi, dewi], start=JAN, decree=None, actor="disnaker")
    with pytest.raises(OverQuota, match="3 workers are enrolled; the lowest possible quota is 3"):
        program.amend(allocation=None, quota=2, reason="DPRD", actor="disnaker")
    program.amend(allocation=None, quota=3, reason="DPRD", actor="disnaker")
    assert program.places_left == 0


def test_amendment_needs_a_change_and_a_reason() -> None:
    program = open_2026()
    with pytest.raises(InvalidInput, match="needs a new allocation or a new quota"):
        program.amend(allocation=None, quota=None, reason="APBD-P", actor="bpkad")
    with pytest.raises(InvalidInput, match="needs a reason"):
        program.amend(allocation=3_000_000_000, quota=None, reason=" ", actor="bpkad")
    with pytest.raises(InvalidInput, match="allocation must be positive"):
        program.amend(allocation=0, quota=None, reason="APBD-P", actor="bpkad")
    with pytest.raises(InvalidInput, match="quota must be positive"):
        program.amend(allocation=None, quota=-1, reason="APBD-P", actor="bpkad")
    # The same figures again record nothing.
    program.amend(allocation=2_000_000_000, quota=10_000, reason="APBD-P", actor="bpkad")
    assert program.version == 1


def test_sigap_amendment_makes_room_for_11_666() -> None:
    # 11.666 x 201.600 = 2.351.865.600: the full 2026 year for SIGAP's 11.666 workers.
    program = open_2026()
    program.amend(allocation=2_351_865_600, quota=11_666, reason="APBD-P 2026", actor="bpkad")
    assert program.capacity(JAN) == 11_666
    assert program.commitment_for(11_666, JAN).total == 2_351_865_600


# -- overpayment offset --------------------------------------------------------------------


def test_enrolling_into_months_holding_an_overpayment_offsets_it(
    siti: Worker, budi: Worker, dewi: Worker, ahmad: Worker
) -> None:
    program = open_2026()
    program.enrol([siti, budi], start=JAN, decree="KEP-1", actor="disnaker")
    for n, month in enumerate((JAN, FEB, MAR, APR, MAY, JUN), start=1):
        program.pay(month=month, sp2d=f"SP2D-{n:03d}", amount=None, actor="bpkad")
    # Siti moves away in March: April-June were paid for 2 (3 x 16.800 = 50.400 overpaid),
    # July-December released.
    program.end_coverage(siti, month=MAR, reason="moved", actor="disnaker")
    assert program.overpaid.total == 50_400
    assert program.committed.total == 6 * MONTHLY  # Budi, July-December

    # Dewi from April: April-June are already paid (Siti's), only July-December commit:
    # 6 x 16.800 = 100.800, not 9 x 16.800 = 151.200.
    assert program.commitment_for(1, APR) == Premium(60_000, 40_800)
    # Two from April: April-June one more than the overpayment covers (3 months) plus
    # July-December twice (12): 15 x 16.800 = 252.000.
    assert program.commitment_for(2, APR).total == 252_000

    program.enrol([dewi], start=APR, decree="KEP-2", actor="disnaker")
    committed = last_event(program)
    assert (committed.jkk, committed.jkm) == (60_000, 40_800)
    assert program.overpaid.total == 0
    # Budi and Dewi, July-December: 2 x 6 x 16.800 = 201.600.
    assert program.committed.total == 201_600
    with pytest.raises(RuleViolation, match="2 participants covered, 2 already paid"):
        program.pay(month=APR, sp2d="SP2D-007", amount=None, actor="bpkad")

    # Paid: January-June, 2 each = 12 x 16.800 = 201.600.
    # Available: 2.000.000.000 - 201.600 committed - 201.600 paid = 1.999.596.800.
    assert program.paid_total.total == 201_600
    assert program.available == 1_999_596_800


def test_two_programs_never_cover_the_same_month(siti: Worker) -> None:
    # The 2025 bridge (November-December) and the 2026 year do not overlap: both fit.
    bridge = open_2026(code="sigap-2025", year=2025, start=Month(2025, 11), end=Month(2025, 12))
    bridge.enrol([siti], start=Month(2025, 11), decree="KEP-2025", actor="disnaker")
    year = open_2026()
    year.enrol([siti], start=JAN, decree="KEP-2026", actor="disnaker")
    # A second 2026 program (another funding source) would pay Siti's months twice: refused.
    second = open_2026(code="bekasi-2026-b")
    with pytest.raises(RuleViolation, match=r"already covered from 2026-01 to 2026-12"):
        second.enrol([siti], start=JUL, decree="KEP-2026-B", actor="disnaker")
    assert second.enrolled == 0
