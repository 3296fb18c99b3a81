"""However a forgery is written, `audit replay` fails exactly when it breaks a rule.

Hypothesis makes a valid history with random commands (enrolments, payments, ends,
amendments, many of them refused by the rules and so writing nothing) and checks that the
replay passes it. Then it writes one forged write straight through the aggregates' recording
methods and the ledger's recorder, with random figures: a payment of any month for any number
of participants at any amount, a commitment of any size and cost with any number of workers
enrolled under it (some already covered, one never eligible), an amendment of the allocation
or the quota to any value, or a worker enrolled behind the program's back. An oracle written
here from the program's rules alone, in plain arithmetic over the program's month counts (it
never asks the domain), says whether the forged write breaks a rule: committed + paid <=
allocation, enrolled <= quota, no month paid twice, each payment equal to its month's bill,
each commitment at the program's rates, no worker covered twice, every worker enrolled
eligible, every covered worker counted. The replay must fail when it does, at the forged
write's position or later, and pass when the forgery happens to be lawful (a forger who pays
the right bill has written a payment the rules allow).

In memory: the stores' own reading is tested with real rows in tests/test_replay_rules.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.replay import replay
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.model import Program, Registration, Worker
from jamsos_ledger.domain.months import Month

JKK, JKM = 10_000, 6_800
RATE = JKK + JKM
MONTHS = [Month(2026, m) for m in range(1, 13)]


def person(nik: str, born: date, sex: str, kecamatan: str, decile: int) -> Registration:
    return Registration(nik, "Warga", born, sex, kecamatan, "-", "ojol", decile, "Disnaker")


WORKERS = [
    person("3275051708850001", date(1985, 8, 17), "L", "05", 3),
    person("3275014101900002", date(1990, 1, 1), "P", "01", 1),
    person("3275087112990004", date(1999, 12, 31), "P", "08", 1),
    person("3275095505950006", date(1995, 5, 15), "P", "09", 2),
    person("3275070503780003", date(1978, 3, 5), "L", "07", 5),
    person("3275032006820005", date(1982, 6, 20), "L", "03", 6),  # decile 6: never eligible
]
NIKS = [w.nik for w in WORKERS]
INELIGIBLE = {"3275032006820005"}

month = st.sampled_from(MONTHS)
command = st.one_of(
    st.tuples(st.just("enrol"), st.lists(st.sampled_from(NIKS), min_size=1, max_size=3,
                                         unique=True), month),
    st.tuples(st.just("pay"), month),
    st.tuples(st.just("end"), st.sampled_from(NIKS), month),
    st.tuples(st.just("amend"), st.integers(RATE, 60 * RATE), st.integers(1, 6)),
)


@dataclass
class Books:
    """The program as the oracle reads it: counts and rates, no rule of the domain."""

    allocation: int
    quota: int
    enrolled: int
    active: list[int]
    paid: list[int]
    sp2ds: set[str]
    covered: set[str]  # NIKs ever enrolled in the program (a second enrolment covers twice)
    covering: int  # workers covered and not ended

    def used(self) -> int:
        committed = sum(max(0, a - p) for a, p in zip(self.active, self.paid, strict=True))
        return RATE * (committed + sum(self.paid))


def books_of(ledger: Ledger) -> Books:
    program = ledger.program()
    covered, covering = set(), 0
    for nik in NIKS:
        coverage = ledger.worker(nik).coverages.get(program.id)
        if coverage is not None:
            covered.add(nik)
            covering += coverage.ended is None
    return Books(program.allocation, program.quota, program.enrolled, list(program.active),
                 list(program.paid), {s.casefold() for _, s in program.payments}, covered,
                 covering)


def valid_history(data: st.DataObject) -> Ledger:
    ledger = Ledger("memory://", actor="operator")
    ledger.open_program(year=2026, allocation=data.draw(st.integers(RATE, 80 * RATE)),
                        quota=data.draw(st.integers(1, 5)), four_eyes=False)
    ledger.register(WORKERS)
    for n, step in enumerate(data.draw(st.lists(command, max_size=8))):
        try:
            if step[0] == "enrol":
                ledger.enrol(start=step[2], niks=step[1], decree=f"KEP/{n}")
            elif step[0] == "pay":
                ledger.pay_premiums(month=step[1], sp2d=f"SP2D/{n}")
            elif step[0] == "end":
                ledger.end_coverage(step[1], month=step[2], reason="died")
            else:
                ledger.amend_program(allocation=step[1], quota=step[2], reason="APBD-P")
        except LedgerError:
            pass  # refused by a rule: nothing written
    return ledger


def forge(ledger: Ledger, data: st.DataObject) -> tuple[bool, list[Any]]:
    """One forged write with random figures: whether the oracle finds it breaks a rule, and
    the aggregates it changed (to save)."""
    books = books_of(ledger)
    program = ledger.program()
    kind = data.draw(st.sampled_from(["pay", "commit", "allocation", "quota", "enrolled"]))
    note(f"forgery: {kind}; books before: {books}")
    if kind == "pay":
        i = data.draw(st.integers(0, 11))
        unpaid = books.active[i] - books.paid[i]
        n = data.draw(st.sampled_from([unpaid, unpaid + 1, unpaid - 1, 0, 1]))
        jkk, jkm = data.draw(st.sampled_from([(JKK * n, JKM * n), (JKK * n + 1, JKM * n),
                                              (JKK * n, JKM * (n + 1))]))
        sp2d = data.draw(st.sampled_from(["FORGED/1", *sorted(books.sp2ds)]))
        program._premium_paid(month=MONTHS[i], sp2d=sp2d, participants=n, jkk=jkk, jkm=jkm,
                              actor="x")
        lawful = unpaid > 0 and n == unpaid and (jkk, jkm) == (JKK * n, JKM * n)
        books.paid[i] += n
        breaks = not lawful or sp2d.casefold() in books.sp2ds or books.used() > books.allocation
        return breaks, [program]
    if kind == "commit":
        w = data.draw(st.integers(1, 3))
        s = data.draw(st.integers(0, 11))
        months = sum(max(0, books.active[i] + w - books.paid[i])
                     - max(0, books.active[i] - books.paid[i]) for i in range(s, 12))
        right = (JKK * months, JKM * months)
        jkk, jkm = data.draw(st.sampled_from([right, (right[0] + JKK, right[1]), (0, 0)]))
        program._premiums_committed(workers=w, start=MONTHS[s], end=program.end,
                                    decree=None, jkk=jkk, jkm=jkm, actor="x")
        chosen = data.draw(st.lists(st.sampled_from(NIKS), max_size=4, unique=True))
        workers = [ledger.worker(nik) for nik in chosen]
        for worker in workers:
            worker._enrolled(program_id=program.id, start=MONTHS[s], end=program.end,
                             decree=None, actor="x")
        for i in range(s, 12):
            books.active[i] += w
        books.enrolled += w
        breaks = (
            (jkk, jkm) != right
            or books.used() > books.allocation
            or books.enrolled > books.quota
            or any(nik in books.covered or nik in INELIGIBLE for nik in chosen)
            or len(chosen) != w  # the places counted and the workers covered differ
        )
        return breaks, [program, *workers]
    if kind == "allocation":
        allocation = data.draw(st.sampled_from(
            [books.used(), books.used() - 1, books.used() + RATE, 1]
        ))
        program._allocation_amended(allocation=max(1, allocation), previous=books.allocation,
                                    reason="x", actor="x")
        return max(1, allocation) < books.used(), [program]
    if kind == "quota":
        quota = data.draw(st.sampled_from([books.enrolled, books.enrolled - 1, 1, 9]))
        program._quota_amended(quota=max(1, quota), previous=books.quota, reason="x",
                               actor="x")
        return max(1, quota) < books.enrolled, [program]
    worker: Worker = ledger.worker(data.draw(st.sampled_from(NIKS)))
    worker._enrolled(program_id=program.id, start=data.draw(month), end=program.end,
                     decree=None, actor="x")
    return True, [worker]  # a worker covered whom no place counts


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_valid_history_passes_and_any_forgery_breaking_a_rule_fails(
    data: st.DataObject,
) -> None:
    ledger = valid_history(data)
    try:
        before = replay(ledger)
        assert before.ok, (before.history.breaches, before.differences)
        head = int(ledger.recorder.max_notification_id() or 0)
        breaks, changed = forge(ledger, data)
        ledger.save(*changed)
        event("breaks a rule" if breaks else "lawful")
        after = replay(ledger)
        note(f"breaches: {after.history.breaches}")
        assert after.history.ok is not breaks
        if breaks:
            assert not after.ok
            assert after.history.breaches[0].position > head  # the forgery, not before it
    finally:
        ledger.close()


def test_the_oracle_and_the_replay_see_a_lawful_forgery_alike() -> None:
    """A forger who records exactly the bill has written a payment the rules allow."""
    ledger = Ledger("memory://", actor="operator")
    ledger.open_program(year=2026, allocation=12 * RATE, quota=1, four_eyes=False)
    ledger.register(WORKERS[:1])
    ledger.enrol(start=MONTHS[0], niks=NIKS[:1], decree="KEP/1")
    program: Program = ledger.program()
    program._premium_paid(month=MONTHS[0], sp2d="FORGED/1", participants=1, jkk=JKK,
                          jkm=JKM, actor="x")
    ledger.save(program)
    assert replay(ledger).ok
    ledger.close()
