"""Forged histories that the chain and the projections accept, caught by `audit replay`.

A small program (quota 3, four workers, three enrolled from January, January paid), then a
write that no command would make: an event recorded through the aggregates' own recording
methods and the ledger's own (chained) recorder, as someone holding the store and the code,
or a stolen key, would write it. `audit verify` finds the chain intact and the projections
agree with the books (both derived from the same events); the replay re-applies the rules
and exits 4 naming the position and the rule. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest

from cli_helpers import jamsos
from jamsos_ledger.application import Ledger
from jamsos_ledger.application.history_rules import check_history
from jamsos_ledger.domain.model import Program, Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.stores.integrity import verify

JAN, FEB, JUN = Month(2026, 1), Month(2026, 2), Month(2026, 6)
RATE = 10_000 + 6_800  # the program's JKK + JKM a participant a month
YEAR = 12 * RATE


def person(nik: str, born: date, sex: str, kecamatan: str, decile: int) -> Registration:
    return Registration(nik, "Warga", born, sex, kecamatan, "-", "ojol", decile, "Disnaker")


WORKERS = [
    person("3275051708850001", date(1985, 8, 17), "L", "05", 3),
    person("3275014101900002", date(1990, 1, 1), "P", "01", 1),
    person("3275087112990004", date(1999, 12, 31), "P", "08", 1),
    person("3275095505950006", date(1995, 5, 15), "P", "09", 2),
]
# Decile 6: registered, never eligible under the city's rule set.
EKO = person("3275032006820005", date(1982, 6, 20), "L", "03", 6)


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    """Three of four workers enrolled from January (quota 3, money for four), January paid."""
    ledger = Ledger(store_url, actor="operator")
    ledger.open_program(year=2026, allocation=4 * YEAR, quota=3, four_eyes=False)
    ledger.register(WORKERS)
    ledger.enrol(start=JAN, niks=[w.nik for w in WORKERS[:3]], decree="KEP/1/2026")
    ledger.pay_premiums(month=JAN, sp2d="SP2D/01/2026")
    return ledger


def forge(ledger: Ledger, write: Callable[[Program], list[object]]) -> int:
    """Record what `write` does to the program (and the aggregates it returns) without any
    rule: the position of the program's forged event."""
    program = ledger.program()
    others = write(program)
    ledger.save(program, *others)  # type: ignore[arg-type]
    return next(
        n.id for n in ledger.read_log() if n.originator_id == program.id
        and n.originator_version == program.version
    )


def replay_fails(
    ledger: Ledger, url: str, position: int, *rules: str, agree: bool = True
) -> str:
    """The chain is intact, the API and the CLI both name `rules` first at `position`; with
    `agree` the projections and the books agree all the same (both follow the forgery)."""
    assert verify(ledger.recorder).discrepancy is None
    found = check_history(ledger)
    assert not found.ok
    first = [b for b in found.breaches if b.position == found.breaches[0].position]
    assert first[0].position == position
    assert {b.rule for b in first} == set(rules), found.breaches
    result = jamsos(url, "audit", "replay", "--format", "json")
    assert result.exit_code == 4, result.output
    report = json.loads(result.stdout)
    if agree:
        assert report["differences"] == []  # the projections agree with the forged books
    assert report["breaches"][0]["position"] == position
    assert {b["rule"] for b in report["breaches"] if b["position"] == position} == set(rules)
    text = jamsos(url, "audit", "replay")
    assert text.exit_code == 4
    assert f"first at position {position:,}".replace(",", ".") in text.stderr
    return text.stderr


def test_a_sound_history_passes(ledger: Ledger, store_url: str) -> None:
    ledger.pay_premiums(month=FEB, sp2d="SP2D/02/2026")
    ledger.end_coverage(WORKERS[0].nik, month=FEB, reason="died")
    ledger.enrol(start=JUN, niks=[WORKERS[3].nik], decree="KEP/2/2026")
    ledger.amend_program(allocation=4 * YEAR - RATE, reason="APBD-P 2026")
    # Eligible when enrolled: a later DTSEN release moving the worker up is no breach.
    ledger.correct_worker(WORKERS[1].nik, field="decile", value="8", reason="DTSEN 2026-Q2")
    found = check_history(ledger)
    assert found.ok, found.breaches
    # opened, committed x2, enrolled x4, paid x2, released, ended, amended, corrected
    assert found.events == 13
    result = jamsos(store_url, "audit", "replay")
    assert result.exit_code == 0, result.output
    assert "every rule held" in result.stdout


def test_january_paid_twice_overspends(ledger: Ledger, store_url: str) -> None:
    """The issue's attack: a second payment of January, overspending the allocation."""
    ledger.amend_program(allocation=3 * YEAR, reason="cut to what is used")

    def pay_again(program: Program) -> list[object]:
        bill = program.premium.times(3)
        program._premium_paid(month=JAN, sp2d="SP2D/99/2026", participants=3, jkk=bill.jkk,
                              jkm=bill.jkm, actor="bendahara")
        return []

    position = forge(ledger, pay_again)
    message = replay_fails(ledger, store_url, position, "paid-twice", "budget")
    assert "2026-01: paid Rp 50.400 for 3 participants" in message
    assert "3 covered, 3 already paid, so the bill was Rp 0" in message


def test_a_payment_not_equal_to_its_bill(ledger: Ledger, store_url: str) -> None:
    def overcharge(program: Program) -> list[object]:
        program._premium_paid(month=FEB, sp2d="SP2D/02/2026", participants=3, jkk=30_000,
                              jkm=99_999, actor="bendahara")
        return []

    position = forge(ledger, overcharge)
    message = replay_fails(ledger, store_url, position, "bill")
    assert "JKM Rp 99.999" in message and "JKM Rp 20.400" in message


def test_a_payment_for_fewer_participants_than_covered(ledger: Ledger, store_url: str) -> None:
    def short(program: Program) -> list[object]:
        bill = program.premium.times(2)
        program._premium_paid(month=FEB, sp2d="SP2D/02/2026", participants=2, jkk=bill.jkk,
                              jkm=bill.jkm, actor="bendahara")
        return []

    replay_fails(ledger, store_url, forge(ledger, short), "bill")


def test_an_sp2d_used_twice(ledger: Ledger, store_url: str) -> None:
    def reuse(program: Program) -> list[object]:
        unpaid, bill = program.bill(FEB)
        program._premium_paid(month=FEB, sp2d="sp2d/01/2026", participants=unpaid,
                              jkk=bill.jkk, jkm=bill.jkm, actor="bendahara")
        return []

    replay_fails(ledger, store_url, forge(ledger, reuse), "reference")


def test_an_enrolment_over_quota(ledger: Ledger, store_url: str) -> None:
    """The fourth worker enrolled into a quota of three, the money committed correctly."""
    worker = ledger.worker(WORKERS[3].nik)

    def over(program: Program) -> list[object]:
        cost = program.commitment_for(1, JAN)
        program._premiums_committed(workers=1, start=JAN, end=program.end, decree=None,
                                    jkk=cost.jkk, jkm=cost.jkm, actor="operator")
        worker._enrolled(program_id=program.id, start=JAN, end=program.end, decree=None,
                         actor="operator")
        return [worker]

    message = replay_fails(ledger, store_url, forge(ledger, over), "quota")
    assert "4 workers enrolled, the quota is 3: 1 over" in message


def test_an_allocation_cut_below_what_is_used(ledger: Ledger, store_url: str) -> None:
    def cut(program: Program) -> list[object]:
        program._allocation_amended(allocation=YEAR, previous=program.allocation,
                                    reason="typo", actor="bpkad")
        return []

    message = replay_fails(ledger, store_url, forge(ledger, cut), "budget")
    assert "exceeds the allocation Rp 201.600 by Rp 403.200" in message


def test_a_commitment_not_at_the_programs_rates(ledger: Ledger, store_url: str) -> None:
    worker = ledger.worker(WORKERS[3].nik)

    def cheap(program: Program) -> list[object]:
        program.amend(allocation=None, quota=4, reason="more places", actor="bpkad")
        program._premiums_committed(workers=1, start=JAN, end=program.end, decree=None,
                                    jkk=1, jkm=1, actor="operator")
        worker._enrolled(program_id=program.id, start=JAN, end=program.end, decree=None,
                         actor="operator")
        return [worker]

    replay_fails(ledger, store_url, forge(ledger, cheap), "commitment")


def test_a_worker_covered_twice_in_overlapping_months(ledger: Ledger, store_url: str) -> None:
    """A second program of the same months enrols a worker the first already covers."""
    ledger.open_program(year=2026, code="2026-B", allocation=YEAR, quota=1, four_eyes=False)
    worker = ledger.worker(WORKERS[0].nik)
    second = ledger.program("2026-B")
    cost = second.commitment_for(1, JUN)
    second._premiums_committed(workers=1, start=JUN, end=second.end, decree=None,
                               jkk=cost.jkk, jkm=cost.jkm, actor="operator")
    worker._enrolled(program_id=second.id, start=JUN, end=second.end, decree=None,
                     actor="operator")
    ledger.save(second, worker)
    position = next(n.id for n in ledger.read_log() if n.originator_id == worker.id
                    and n.originator_version == worker.version)
    message = replay_fails(ledger, store_url, position, "covered-twice")
    assert "overlapping 2026-06 to 2026-12" in message


def test_a_worker_covered_without_the_program_counting_them(
    ledger: Ledger, store_url: str
) -> None:
    """An enrolment written on the worker alone: a place and its premiums nobody counts."""
    worker = ledger.worker(WORKERS[3].nik)
    program = ledger.program()
    worker._enrolled(program_id=program.id, start=JAN, end=program.end, decree=None,
                     actor="operator")
    ledger.save(worker)
    position = next(n.id for n in ledger.read_log() if n.originator_id == worker.id
                    and n.originator_version == worker.version)
    # The quota by group counts the workers' enrolments, the books the program's: they differ.
    replay_fails(ledger, store_url, position, "counted", agree=False)


def test_a_replay_as_of_before_the_forgery_passes(ledger: Ledger, store_url: str) -> None:
    """The rules are checked up to the moment asked: the history before a forgery holds."""
    before = max(n.id for n in ledger.read_log())
    moment = ledger.mapper.to_domain_event(
        next(n for n in ledger.read_log() if n.id == before)
    ).timestamp

    def pay_again(program: Program) -> list[object]:
        bill = program.premium.times(3)
        program._premium_paid(month=JAN, sp2d="SP2D/99/2026", participants=3, jkk=bill.jkk,
                              jkm=bill.jkm, actor="bendahara")
        return []

    forge(ledger, pay_again)
    assert check_history(ledger, until=moment).ok
    assert not check_history(ledger).ok


def test_a_worker_enrolled_twice_in_one_program(ledger: Ledger, store_url: str) -> None:
    """A history no projection can hold (one worker's two enrolments in one program): the
    replay names the breach, and says the projections could not be rebuilt."""
    ledger.amend_program(quota=4, reason="a place more")
    worker = ledger.worker(WORKERS[0].nik)

    def again(program: Program) -> list[object]:
        cost = program.commitment_for(1, JUN)
        program._premiums_committed(workers=1, start=JUN, end=program.end, decree=None,
                                    jkk=cost.jkk, jkm=cost.jkm, actor="operator")
        worker._enrolled(program_id=program.id, start=JUN, end=program.end, decree=None,
                         actor="operator")
        return [worker]

    forge(ledger, again)
    position = next(n.id for n in ledger.read_log() if n.originator_id == worker.id
                    and n.originator_version == worker.version)
    message = replay_fails(ledger, store_url, position, "covered-twice", agree=False)
    assert "is already enrolled in 2026 (from 2026-01)" in message
    assert "Traceback" not in message


def test_an_ineligible_worker_enrolled(ledger: Ledger, store_url: str) -> None:
    """Decile 6 enrolled behind the rule set's back, the place and the money counted."""
    ledger.register([EKO])
    ledger.amend_program(quota=4, reason="a place more")
    worker = ledger.worker(EKO.nik)

    def enrol(program: Program) -> list[object]:
        cost = program.commitment_for(1, JAN)
        program._premiums_committed(workers=1, start=JAN, end=program.end, decree=None,
                                    jkk=cost.jkk, jkm=cost.jkm, actor="operator")
        worker._enrolled(program_id=program.id, start=JAN, end=program.end, decree=None,
                         actor="operator")
        return [worker]

    forge(ledger, enrol)
    position = next(n.id for n in ledger.read_log() if n.originator_id == worker.id
                    and n.originator_version == worker.version)
    message = replay_fails(ledger, store_url, position, "eligibility")
    assert "has DTSEN decile 6, not eligible under dtsen-desil-v1" in message
    assert EKO.nik not in message  # masked


def test_eligibility_is_the_decile_when_enrolled(ledger: Ledger, store_url: str) -> None:
    """A decile corrected into the rule set before the enrolment is eligible; corrected out
    of it before a forged enrolment, it is not."""
    ledger.register([EKO])
    ledger.amend_program(quota=5, allocation=6 * YEAR, reason="more places")
    ledger.correct_worker(EKO.nik, field="decile", value="2", reason="DTSEN 2026-Q1")
    ledger.enrol(start=JAN, niks=[EKO.nik], decree="KEP/2/2026")
    assert check_history(ledger).ok
    ledger.correct_worker(WORKERS[3].nik, field="decile", value="7", reason="DTSEN 2026-Q2")
    worker = ledger.worker(WORKERS[3].nik)

    def enrol(program: Program) -> list[object]:
        cost = program.commitment_for(1, JAN)
        program._premiums_committed(workers=1, start=JAN, end=program.end, decree=None,
                                    jkk=cost.jkk, jkm=cost.jkm, actor="operator")
        worker._enrolled(program_id=program.id, start=JAN, end=program.end, decree=None,
                         actor="operator")
        return [worker]

    forge(ledger, enrol)
    position = next(n.id for n in ledger.read_log() if n.originator_id == worker.id
                    and n.originator_version == worker.version)
    message = replay_fails(ledger, store_url, position, "eligibility")
    assert "has DTSEN decile 7" in message


def test_reversals_and_annulments_keep_a_sound_history(ledger: Ledger, store_url: str) -> None:
    """A payment reversed and paid again under a new SP2D, an enrolment annulled before its
    first paid month: lawful corrections, each a new event, and the rules still hold."""
    ledger.reverse_payment(sp2d="SP2D/01/2026", reason="paid in error: wrong account")
    ledger.pay_premiums(month=JAN, sp2d="SP2D/01B/2026")
    ledger.end_coverage(WORKERS[0].nik, month=FEB, reason="died")
    ledger.enrol(start=JUN, niks=[WORKERS[3].nik], decree="KEP/2/2026")
    ledger.annul_enrolment(WORKERS[3].nik, reason="KEP/2/2026 revoked")
    found = check_history(ledger)
    assert found.ok, found.breaches
    result = jamsos(store_url, "audit", "replay")
    assert result.exit_code == 0, result.output


def test_a_reversal_of_a_payment_that_does_not_stand(ledger: Ledger, store_url: str) -> None:
    """A reversal forged for an SP2D the month was never paid under hands money back to the
    budget that was never spent."""

    def reverse_nothing(program: Program) -> list[object]:
        bill = program.premium.times(3)
        program._payment_reversed(month=JAN, sp2d="SP2D/77/2026", participants=3,
                                  jkk=bill.jkk, jkm=bill.jkm, reason="forged", actor="x")
        return []

    message = replay_fails(ledger, store_url, forge(ledger, reverse_nothing), "reversal",
                           agree=False)
    assert "SP2D/77/2026, which is not one of the month's payments that stand" in message


def test_a_short_payment_passed_off_as_an_invoices_agreement(
    ledger: Ledger, store_url: str
) -> None:
    """Fewer participants than the bill stand only when the month's reconciled invoice agreed
    them and its payment is recorded with it: without the invoice's event, the bill rule."""

    def reconciled_then_short(program: Program) -> list[object]:
        program._invoice_reconciled(month=FEB, invoice="ab" * 32, lines=2, billed_jkk=20_000,
                                    billed_jkm=13_600, agreed=2, agreed_jkk=20_000,
                                    agreed_jkm=13_600, differences=1, actor="x")
        bill = program.premium.times(2)
        program._premium_paid(month=FEB, sp2d="SP2D/02/2026", participants=2, jkk=bill.jkk,
                              jkm=bill.jkm, actor="bendahara")
        return []

    position = forge(ledger, reconciled_then_short)
    replay_fails(ledger, store_url, position, "bill", agree=False)
