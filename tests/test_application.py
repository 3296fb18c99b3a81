"""The application on real stores: every test runs once on SQLite and once on PostgreSQL.

A small Kota Bekasi: six registrations from Disnaker and Dinsos, a program of Rp 2.000.000.000
for 10.000 workers at Rp 16.800 a month.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from jamsos_ledger.application import EnrolResult, Ledger, RegisterResult
from jamsos_ledger.domain.errors import (
    DuplicateReference,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik

JAN, FEB, MAR, APR, DEC = (Month(2026, m) for m in (1, 2, 3, 4, 12))


def person(
    nik: str, name: str, born: date, sex: str, kecamatan: str, occupation: str, decile: int
) -> Registration:
    return Registration(nik, name, born, sex, kecamatan, "-", occupation, decile, "Disnaker")


# In registration order. NIK = 3275 + kecamatan + DDMMYY (women + 40) + serial.
BUDI = person("3275051708850001", "Budi Santoso", date(1985, 8, 17), "L", "05", "ojol", 3)
SITI = person("3275014101900002", "Siti Aminah", date(1990, 1, 1), "P", "01",
              "pedagang kaki lima", 1)
AHMAD = person("3275070503780003", "Ahmad Fauzi", date(1978, 3, 5), "L", "07",
               "buruh harian", 5)
DEWI = person("3275087112990004", "Dewi Lestari", date(1999, 12, 31), "P", "08", "ojol", 1)
EKO = person("3275032006820005", "Eko Prasetyo", date(1982, 6, 20), "L", "03", "ojol", 6)
RINA = person("3275095505950006", "Rina Wati", date(1995, 5, 15), "P", "09",
              "pedagang kaki lima", 2)
# Registered later, by Dinsos: decile 1, born on 29 February 2000 (69 = 29 + 40).
FITRI = person("3275106902000007", "Fitri Handayani", date(2000, 2, 29), "P", "10",
               "buruh harian", 1)

EVERYONE = [BUDI, SITI, AHMAD, DEWI, EKO, RINA]


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    return Ledger(store_url, actor="operator-disnaker")


def open_2026(ledger: Ledger) -> None:
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bekasi-2026",
                        four_eyes=False)


def head(ledger: Ledger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def ranks(ledger: Ledger, *people: Registration) -> list[int | None]:
    return [ledger.worker(p.nik).rank for p in people]


def test_ranking_is_decile_then_registration_order(ledger: Ledger) -> None:
    assert ledger.register(EVERYONE) == RegisterResult(registered=6, already=0)
    # Deciles 1 (Siti before Dewi: registered first), 2 (Rina), 3 (Budi), 5 (Ahmad);
    # Eko's decile 6 is not eligible.
    assert ledger.prioritize() == (5, 5)
    assert ranks(ledger, SITI, DEWI, RINA, BUDI, AHMAD, EKO) == [1, 2, 3, 4, 5, None]
    assert ledger.worker(SITI.nik).tier == 1
    assert ledger.worker(AHMAD.nik).tier == 2
    assert ledger.worker(EKO.nik).tier is None


def test_prioritizing_again_records_nothing_new(ledger: Ledger) -> None:
    ledger.register(EVERYONE)
    ledger.prioritize()
    before = head(ledger)
    assert ledger.prioritize() == (5, 0)
    assert head(ledger) == before


def test_a_new_registration_reranks_only_those_it_passes(ledger: Ledger) -> None:
    ledger.register(EVERYONE)
    ledger.prioritize()
    before = head(ledger)
    ledger.register([FITRI])
    # Fitri (decile 1, registered last) comes after Siti and Dewi: she is 3rd, and Rina,
    # Budi and Ahmad move down one. Four new ranks, one event each.
    assert ledger.prioritize() == (6, 4)
    assert head(ledger) == before + 1 + 4
    assert ranks(ledger, SITI, DEWI, FITRI, RINA, BUDI, AHMAD, EKO) == [1, 2, 3, 4, 5, 6, None]


def test_ranks_depend_only_on_deciles_and_registration_order(ledger: Ledger) -> None:
    ledger.register(EVERYONE)
    ledger.prioritize()
    # The same rows in the same order give the same ranks in any other ledger...
    other = Ledger("memory://", actor="auditor")
    other.register(EVERYONE)
    other.prioritize()
    assert ranks(other, *EVERYONE) == ranks(ledger, *EVERYONE)
    # ...and Dewi registered before Siti ranks before her.
    swapped = Ledger("memory://", actor="auditor")
    swapped.register([DEWI, SITI])
    swapped.prioritize()
    assert ranks(swapped, DEWI, SITI) == [1, 2]


def test_enrol_top_takes_the_best_ranked_not_yet_enrolled(ledger: Ledger) -> None:
    open_2026(ledger)
    ledger.register(EVERYONE)
    ledger.prioritize()
    first = ledger.enrol(start=JAN, top=2, decree="KEP-1")
    # 2 workers x 12 months x 16.800 = 403.200.
    assert first == EnrolResult(
        workers=2, start=JAN, end=DEC, committed=403_200,
        nik_masked=[mask_nik(SITI.nik), mask_nik(DEWI.nik)],
    )
    # From March: Rina, Budi, Ahmad; 3 x 10 months x 16.800 = 504.000.
    second = ledger.enrol(start=MAR, top=3, decree="KEP-2")
    assert second.nik_masked == [mask_nik(p.nik) for p in (RINA, BUDI, AHMAD)]
    assert second.committed == 504_000
    program = ledger.program()
    assert program.committed.total == 907_200
    assert program.enrolled == 5
    # Eko is not ranked: nobody is left to enrol.
    with pytest.raises(RuleViolation, match="only 0 eligible, ranked workers are waiting"):
        ledger.enrol(start=MAR, top=1)


def test_duplicate_decree_is_refused_with_nothing_written(ledger: Ledger) -> None:
    open_2026(ledger)
    ledger.register(EVERYONE)
    ledger.enrol(start=JAN, niks=[SITI.nik], decree="KEP-WALIKOTA-1/2026")
    before = head(ledger)
    with pytest.raises(DuplicateReference) as refused:
        ledger.enrol(start=JAN, niks=[DEWI.nik], decree="KEP-WALIKOTA-1/2026")
    assert str(refused.value) == (
        "decree 'KEP-WALIKOTA-1/2026' was already used in this ledger; nothing was written"
    )
    assert head(ledger) == before
    assert ledger.worker(DEWI.nik).coverages == {}
    assert ledger.program().enrolled == 1


def test_duplicate_sp2d_is_refused_with_nothing_written(ledger: Ledger) -> None:
    open_2026(ledger)
    ledger.register(EVERYONE)
    ledger.enrol(start=JAN, niks=[SITI.nik, DEWI.nik])
    # January: 2 x 16.800 = 33.600.
    assert ledger.pay_premiums(month=JAN, sp2d="SP2D-0001/BPKAD/2026") == (2, 33_600)
    before = head(ledger)
    with pytest.raises(DuplicateReference, match="SP2D number 'SP2D-0001/BPKAD/2026'"):
        ledger.pay_premiums(month=FEB, sp2d="SP2D-0001/BPKAD/2026")
    assert head(ledger) == before
    assert ledger.program().paid_total.total == 33_600
    # A wrong --amount writes nothing either; the right one pays.
    with pytest.raises(RuleViolation, match=re.escape("the bill for 2026-02 is Rp 33.600")):
        ledger.pay_premiums(month=FEB, sp2d="SP2D-0002/BPKAD/2026", amount=33_000)
    assert head(ledger) == before
    assert ledger.pay_premiums(month=FEB, sp2d="SP2D-0002/BPKAD/2026", amount=33_600) == (
        2, 33_600
    )


def test_duplicate_claim_reference_is_refused_with_nothing_written(ledger: Ledger) -> None:
    open_2026(ledger)
    ledger.register(EVERYONE)
    ledger.enrol(start=JAN, niks=[SITI.nik, DEWI.nik])
    program_id = ledger.file_claim(
        SITI.nik, scheme="JKK", incident_date=date(2026, 3, 2), reference="JKK/3275/0001"
    )
    assert program_id == ledger.program().id
    before = head(ledger)
    for nik in (SITI.nik, DEWI.nik):
        with pytest.raises(DuplicateReference, match="claim reference 'JKK/3275/0001'"):
            ledger.file_claim(
                nik, scheme="JKK", incident_date=date(2026, 3, 9), reference="JKK/3275/0001"
            )
    assert head(ledger) == before
    assert len(ledger.worker(SITI.nik).claims) == 1
    assert ledger.worker(DEWI.nik).claims == []
    # A claim for a month without coverage is refused, and writes nothing either.
    with pytest.raises(RuleViolation, match="not covered in 2026-03"):
        ledger.file_claim(
            EKO.nik, scheme="JKK", incident_date=date(2026, 3, 9), reference="JKK/3275/0002"
        )
    assert head(ledger) == before


def test_one_worker_per_nik_even_when_imported_twice(ledger: Ledger) -> None:
    # Siti is listed twice in the first file, and again (renamed) in Dinsos's file.
    assert ledger.register([SITI, BUDI, SITI]) == RegisterResult(registered=2, already=1)
    siti_again = dataclasses.replace(SITI, name="Siti Aminah binti Ahmad", source="Dinsos")
    # Nothing of hers is changed by a file: the fields that differ are named, to correct.
    assert ledger.register([siti_again, DEWI]) == RegisterResult(
        registered=1, already=1,
        differing=(("327501********02", ("name", "source 'Dinsos' (the ledger has 'Disnaker')")),),
    )
    assert ledger.register(EVERYONE) == RegisterResult(registered=3, already=3)
    assert ledger.worker(SITI.nik).name == "Siti Aminah"
    assert ledger.worker(SITI.nik).source == "Disnaker"
    open_2026(ledger)
    assert ledger.views.quota(ledger.program().id)["registered"] == 6


def test_events_survive_a_reopen(store_url: str) -> None:
    first = Ledger(store_url, actor="operator-disnaker")
    open_2026(first)
    first.register(EVERYONE)
    first.prioritize()
    first.enrol(start=JAN, top=3, decree="KEP-1")
    first.pay_premiums(month=JAN, sp2d="SP2D-1")
    budget = first.views.budget(first.program().id)
    first.close()

    again = Ledger(store_url, actor="auditor")
    program = again.program()
    assert program.code == "bekasi-2026"
    # 3 x 12 x 16.800 = 604.800 promised, January's 50.400 of it paid.
    assert (program.committed.total, program.paid_total.total) == (554_400, 50_400)
    assert again.worker(SITI.nik).rank == 1
    assert again.views.budget(program.id) == budget
    with pytest.raises(DuplicateReference):
        again.pay_premiums(month=FEB, sp2d="SP2D-1")
    with pytest.raises(RuleViolation, match="already open"):
        open_2026(again)


def test_programs_are_found_by_code(ledger: Ledger) -> None:
    with pytest.raises(NotFound, match="the ledger has no program yet"):
        ledger.program()
    open_2026(ledger)
    assert ledger.program().code == "bekasi-2026"
    # SIGAP's bridge: November-December 2025, 11.666 workers, 391.977.600.
    ledger.open_program(
        year=2025, allocation=391_977_600, quota=11_666, start=Month(2025, 11),
        end=Month(2025, 12), name="SIGAP 2025",
    )
    # Without --code a program is known by its year.
    assert ledger.program_codes() == ["bekasi-2026", "2025"]
    with pytest.raises(RuleViolation, match="program '2025' is already open"):
        ledger.open_program(year=2025, allocation=1, quota=1, name="SIGAP 2025")
    ledger.open_program(
        year=2025, allocation=391_977_600, quota=11_666, start=Month(2025, 11),
        end=Month(2025, 12), name="SIGAP 2025", code="SIGAP-2025",
    )
    with pytest.raises(InvalidInput, match="holds 3 programs"):
        ledger.program()
    assert ledger.program("SIGAP-2025").months == 2
    assert ledger.capacity(code="SIGAP-2025") == 11_666
    with pytest.raises(NotFound, match="no program 'bekasi-2027'"):
        ledger.program("bekasi-2027")


def test_commands_refuse_unknown_workers_and_bad_requests(ledger: Ledger) -> None:
    open_2026(ledger)
    ledger.register([SITI])
    before = head(ledger)
    with pytest.raises(NotFound, match=re.escape("no worker with NIK 327505********01")):
        ledger.worker(BUDI.nik)
    with pytest.raises(NotFound, match=re.escape("1 NIK not registered")):
        ledger.enrol(start=JAN, niks=[SITI.nik, BUDI.nik], decree="KEP-1")
    with pytest.raises(InvalidInput, match="either --top N or one or more --nik"):
        ledger.enrol(start=JAN, niks=[SITI.nik], top=1)
    with pytest.raises(InvalidInput, match="either --top N"):
        ledger.enrol(start=JAN)
    with pytest.raises(InvalidInput, match="--top must be 1 or more"):
        ledger.enrol(start=JAN, top=0)
    with pytest.raises(NotFound):
        ledger.end_coverage(BUDI.nik, month=MAR, reason="moved")
    assert head(ledger) == before
    # KEP-1 was not used by the refused enrolment: it is still free.
    ledger.enrol(start=JAN, niks=[SITI.nik], decree="KEP-1")


def test_end_coverage_and_amend_through_the_application(ledger: Ledger) -> None:
    open_2026(ledger)
    ledger.register(EVERYONE)
    ledger.enrol(start=JAN, niks=[SITI.nik, DEWI.nik, RINA.nik])
    ledger.pay_premiums(month=JAN, sp2d="SP2D-1")
    ledger.pay_premiums(month=FEB, sp2d="SP2D-2")
    # Rina becomes a wage earner in January: February was paid (16.800 overpaid),
    # March-December released (10 x 16.800 = 168.000).
    program = ledger.end_coverage(RINA.nik, month=JAN, reason="formal")
    assert program.overpaid.total == 16_800
    # Committed: Siti and Dewi, March-December: 2 x 10 x 16.800 = 336.000.
    assert program.committed.total == 336_000
    # Paid: 3 x 2 x 16.800 = 100.800; used 436.800.
    amended = ledger.amend_program(allocation=436_800, quota=2, reason="APBD-P 2026")
    assert (amended.allocation, amended.quota, amended.available) == (436_800, 2, 0)
    assert ledger.capacity(DEC) == 0
    with pytest.raises(RuleViolation, match=re.escape("lowest possible allocation is Rp 436.800")):
        ledger.amend_program(allocation=436_799, reason="APBD-P 2026")


def test_one_city_two_programs_keep_separate_books(ledger: Ledger) -> None:
    # SIGAP's bridge, November-December 2025, and the 2026 year, in one ledger.
    nov, dec_2025 = Month(2025, 11), Month(2025, 12)
    bridge = ledger.open_program(
        year=2025, allocation=391_977_600, quota=11_666, start=nov, end=dec_2025, code="sigap-2025",
        four_eyes=False,
    )
    open_2026(ledger)
    ledger.register(EVERYONE)
    # Siti and Dewi in the bridge: 2 x 2 x 16.800 = 67.200; Siti again for 2026: 201.600.
    assert ledger.enrol("sigap-2025", start=nov, niks=[SITI.nik, DEWI.nik]).committed == 67_200
    assert ledger.enrol("bekasi-2026", start=JAN, niks=[SITI.nik]).committed == 201_600
    assert ledger.pay_premiums(code="sigap-2025", month=nov, sp2d="SP2D-2025-11") == (2, 33_600)
    # A claim of December 2025 belongs to the bridge, one of February 2026 to the year.
    assert ledger.file_claim(SITI.nik, scheme="JKK", incident_date=date(2025, 12, 24),
                             reference="JKK-2025-1") == bridge.id
    year = ledger.program("bekasi-2026")
    assert ledger.file_claim(SITI.nik, scheme="JKK", incident_date=date(2026, 2, 3),
                             reference="JKK-2026-1") == year.id

    sigap = ledger.views.budget(bridge.id)
    # 391.977.600 - 33.600 committed (December) - 33.600 paid (November) = 391.910.400.
    assert (sigap["committed"], sigap["paid"], sigap["available"]) == (33_600, 33_600, 391_910_400)
    budget_2026 = ledger.views.budget(year.id)
    assert (budget_2026["committed"], budget_2026["paid"]) == (201_600, 0)
    assert ledger.views.quota(bridge.id)["enrolled"] == 2
    assert ledger.views.quota(year.id)["enrolled"] == 1
    assert [c["reference"] for c in ledger.views.claims(bridge.id)] == ["JKK-2025-1"]
    assert [c["reference"] for c in ledger.views.claims()] == ["JKK-2025-1", "JKK-2026-1"]
    # The bridge's 2025 bills are its own: the year's January is still unpaid.
    with pytest.raises(RuleViolation, match="2026-01 is outside program sigap-2025's period"):
        ledger.pay_premiums(code="sigap-2025", month=JAN, sp2d="SP2D-2026-01")
