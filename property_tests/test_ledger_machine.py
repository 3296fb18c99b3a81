"""A year of the program in random order: every command against a real Ledger and a plain model.

The machine opens one program (a small allocation and quota, so the limits are really hit), then
registers, ranks, enrols, ends, pays and records claims in random order, and amends the terms.
Beside the ledger it keeps a MODEL written from the rules alone: who is covered in which month,
how many participants of each month are paid for, which references are used, and the ranks. It
never asks the domain how to count, so a ledger that counts wrongly disagrees with it.

For every command the model says whether it must succeed or be refused, and why; the ledger
must agree, and a refusal must write nothing. After every step the program's books, the budget,
month and quota projections, and the claims all match the model, and the budget invariant holds:
committed + paid never exceeds the allocation (pagu).

It runs in memory, on a fresh SQLite file and on a fresh PostgreSQL schema per example.
"""

from __future__ import annotations

import calendar
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from psycopg import sql

from jamsos_ledger.application import Ledger
from jamsos_ledger.domainmodel import Registration, worker_id
from jamsos_ledger.errors import (
    DuplicateReference,
    InvalidInput,
    LedgerError,
    NotFound,
    OverBudget,
    OverQuota,
    RuleViolation,
)
from jamsos_ledger.months import Month
from jamsos_ledger.projections.reporting import quota_groups

T = TypeVar("T")

# --- The program's terms, from its rules (not from the code's constants) ----------------------

YEAR = 2026
JKK = 10_000  # 1% of the minimum declared income of Rp 1,000,000
JKM = 6_800
PREMIUM = JKK + JKM  # Rp 16,800 a participant a month
END_REASONS = ("died", "moved", "formal", "ineligible")
KECAMATAN = {
    "01": "Bekasi Timur", "02": "Bekasi Barat", "03": "Bekasi Utara", "04": "Bekasi Selatan",
    "05": "Rawalumbu", "06": "Medansatria", "07": "Bantargebang", "08": "Pondokgede",
    "09": "Jatiasih", "10": "Jatisampurna", "11": "Mustikajaya", "12": "Pondokmelati",
}


def tier(decile: int) -> int | None:
    """DTSEN deciles 1-3 come first, then 4-5 while places remain; 6 and above never."""
    if 1 <= decile <= 3:
        return 1
    if 4 <= decile <= 5:
        return 2
    return None


def month_of(i: int) -> Month:
    """Month i of 2026 counted from 1; 0 is December 2025, 13 January 2027."""
    return Month(YEAR + (i - 1) // 12, (i - 1) % 12 + 1)


# --- The people: thirty NIKs of Kota Bekasi (32.75), so that rows repeat --------------------


@dataclass(frozen=True)
class Person:
    nik: str
    birth_date: date
    sex: str


def _person(i: int) -> Person:
    sex = "P" if i % 2 else "L"
    born = date(1966 + i, i % 12 + 1, (i * 7) % 28 + 1)
    day = born.day + (40 if sex == "P" else 0)  # women's day + 40
    nik = f"3275{i % 12 + 1:02d}{day:02d}{born.month:02d}{born.year % 100:02d}{i + 1:04d}"
    return Person(nik, born, sex)


PEOPLE = [_person(i) for i in range(30)]
BY_NIK = {p.nik: p for p in PEOPLE}
NIKS = [p.nik for p in PEOPLE]

names = st.text(
    alphabet=st.characters(categories=["L", "M"]) | st.just(" ") | st.just("'"),
    min_size=1,
    max_size=24,
).filter(lambda s: s.strip() != "")


@st.composite
def registrations(draw: st.DrawFn, people: st.SearchStrategy[Person] | None = None) -> Registration:
    """A valid registration of one of the thirty people, the other fields drawn afresh."""
    person = draw(st.sampled_from(PEOPLE) if people is None else people)
    code = draw(st.sampled_from(sorted(KECAMATAN)))
    return Registration(
        nik=person.nik,
        name=draw(names),
        birth_date=person.birth_date,
        sex=person.sex,
        kecamatan=draw(st.sampled_from([code, KECAMATAN[code], KECAMATAN[code].upper()])),
        kelurahan=draw(st.sampled_from(["Margahayu", "Bojong Rawalumbu", "Jatiwaringin"])),
        occupation=draw(st.sampled_from(["ojol", "pedagang kaki lima", "buruh harian"])),
        # Mostly eligible (1-5), often not (6-10).
        decile=draw(st.integers(1, 5) | st.integers(1, 10)),
        source=draw(st.sampled_from(["Disnaker", "Dinsos", "Gojek"])),
    )


# A month is picked relative to the program's period (ProgramModel.month): mostly inside it,
# sometimes the month before it starts (-1) or after it ends (12).
month_picks = st.integers(-1, 12)
# Wrong values are one choice among several, so most commands get far enough to count.
decrees = st.sampled_from([None, "KEP-1", "KEP-2", "KEP-3"])
sp2ds = st.sampled_from([f"SP2D-{i:03d}" for i in range(1, 7)] + [" "])
claim_references = st.sampled_from([f"KLAIM-{i}" for i in range(1, 6)] + [""])


# --- The model ------------------------------------------------------------------------------


@dataclass
class Cover:
    start: Month
    ended: Month | None = None  # the last covered month, when coverage was ended


Refusal = tuple[type[LedgerError], str]


class ProgramModel:
    """The program as its rules describe it, in participant counts and plain Python."""

    def __init__(self, start: Month, end: Month, allocation: int, quota: int) -> None:
        self.start, self.end = start, end
        self.allocation, self.quota = allocation, quota
        self.period = [Month(YEAR, m) for m in range(start.month, end.month + 1)]
        self.active = dict.fromkeys(self.period, 0)  # participants covered in the month
        self.paid = dict.fromkeys(self.period, 0)  # participants paid for in the month
        self.deciles: dict[str, int] = {}  # registered workers: the first row counts
        self.order: list[str] = []  # registration order, the last tie-break of ranks
        self.ranks: dict[str, int] = {}
        self.coverage: dict[str, Cover] = {}
        self.used: dict[str, set[str]] = {"decree": set(), "sp2d": set(), "claim": set()}
        self.claims: list[str] = []

    # figures

    def month(self, pick: int) -> Month:
        """The month a pick names: -1 before the period, 12 after it, else one inside it."""
        if pick < 0:
            return month_of(self.start.month - 1)
        if pick >= 12:
            return month_of(self.end.month + 1)
        return self.period[pick % len(self.period)]

    def in_period(self, month: Month) -> bool:
        return self.start <= month <= self.end

    @staticmethod
    def unpaid(active: dict[Month, int], paid: dict[Month, int]) -> int:
        """Participant-months covered but not paid: the commitment (overpayments offset it)."""
        return sum(max(0, active[m] - paid[m]) for m in active)

    @property
    def committed_months(self) -> int:
        return self.unpaid(self.active, self.paid)

    @property
    def paid_months(self) -> int:
        return sum(self.paid.values())

    @property
    def overpaid_months(self) -> int:
        return sum(max(0, self.paid[m] - self.active[m]) for m in self.period)

    @property
    def spent_or_promised(self) -> int:
        return PREMIUM * (self.committed_months + self.paid_months)

    @property
    def holding(self) -> int:
        """Workers holding a place of the quota: enrolled and not ended."""
        return sum(1 for c in self.coverage.values() if c.ended is None)

    @property
    def ended(self) -> int:
        return sum(1 for c in self.coverage.values() if c.ended is not None)

    def commitment(self, workers: int, start: Month) -> int:
        """Rupiah newly committed by covering that many more workers from `start` to the end."""
        after = {m: a + (workers if m >= start else 0) for m, a in self.active.items()}
        return PREMIUM * (self.unpaid(after, self.paid) - self.committed_months)

    def fit_refusals(self, workers: int, start: Month) -> list[Refusal]:
        refusals: list[Refusal] = []
        if self.spent_or_promised + self.commitment(workers, start) > self.allocation:
            refusals.append((OverBudget, f"{workers} from {start} exceed the allocation"))
        if self.holding + workers > self.quota:
            refusals.append((OverQuota, f"{workers} more exceed the quota {self.quota}"))
        return refusals

    def capacity(self, start: Month) -> int:
        fit = 0
        for k in range(1, self.quota - self.holding + 1):
            if self.fit_refusals(k, start):
                break
            fit = k
        return fit

    def candidates(self) -> list[str]:
        """Ranked workers never enrolled in the program, best rank first."""
        waiting = [n for n in self.ranks if n not in self.coverage]
        return sorted(waiting, key=lambda n: self.ranks[n])

    def covered(self, nik: str, month: Month) -> bool:
        c = self.coverage.get(nik)
        if c is None:
            return False
        last = c.ended if c.ended is not None else self.end
        return c.start <= month <= last

    # changes

    def register(self, nik: str, decile: int) -> None:
        self.deciles[nik] = decile
        self.order.append(nik)

    def ranking(self) -> dict[str, int]:
        """Every eligible worker's rank: tier, then decile, then who registered first."""
        eligible = [n for n in self.order if tier(self.deciles[n]) is not None]
        eligible.sort(key=lambda n: (tier(self.deciles[n]), self.deciles[n], self.order.index(n)))
        return {n: r for r, n in enumerate(eligible, start=1)}

    def rank(self) -> tuple[int, int]:
        """Rank every eligible worker; (ranked, changed)."""
        new = self.ranking()
        changed = sum(1 for n, r in new.items() if self.ranks.get(n) != r)
        self.ranks = new
        return len(new), changed

    def stale(self) -> bool:
        """Whether registrations (or corrections) since the last ranking would change it:
        enrolling by rank is then refused."""
        return any(self.ranks.get(n) != r for n, r in self.ranking().items())

    def enrol(self, niks: list[str], start: Month) -> None:
        for nik in niks:
            self.coverage[nik] = Cover(start)
        for m in self.period:
            if m >= start:
                self.active[m] += len(niks)

    def end_coverage(self, nik: str, month: Month) -> None:
        self.coverage[nik].ended = month
        for m in self.period:
            if m > month:
                self.active[m] -= 1


# --- The machine ----------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    """Commands in random order against a Ledger on one store, checked against the model."""

    registered = Bundle("registered")
    enrolled = Bundle("enrolled")

    def __init__(self) -> None:
        super().__init__()
        self.ledger: Ledger | None = None
        self.model: ProgramModel | None = None
        self.steps = 0
        url = self.store_url()
        try:
            self.ledger = Ledger(url, actor="hypothesis")
        except BaseException:
            self.drop_store()  # teardown is not called when __init__ fails
            raise

    # stores: subclasses say where the ledger lives

    def store_url(self) -> str:
        raise NotImplementedError

    def drop_store(self) -> None:
        """Remove the store made by store_url."""

    def teardown(self) -> None:
        try:
            if self.ledger is not None:
                views = self.ledger.views.db.datastore
                self.ledger.close()
                if views is not getattr(self.ledger.recorder, "datastore", None):
                    views.close()  # the private in-memory SQLite of a memory:// ledger's views
        finally:
            self.drop_store()

    # helpers

    @property
    def books(self) -> ProgramModel:
        assert self.model is not None
        return self.model

    @property
    def app(self) -> Ledger:
        assert self.ledger is not None
        return self.ledger

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def expect(self, what: str, refusals: list[Refusal], command: Callable[[], T]) -> T | None:
        """Run a command the model accepts (no refusals) or refuses (for one of `refusals`)."""
        before = self.head()
        if refusals:
            note(f"{what}: expected refusal {[(c.__name__, why) for c, why in refusals]}")
            try:
                command()
            except LedgerError as e:
                allowed = tuple(cls for cls, _ in refusals)
                assert isinstance(e, allowed), (
                    f"{what}: refused with {type(e).__name__} ({e}); the model expected "
                    f"{[(c.__name__, why) for c, why in refusals]}"
                )
                assert self.head() == before, (
                    f"{what}: refused ({e}) but wrote {self.head() - before} events"
                )
                return None
            raise AssertionError(
                f"{what}: the ledger accepted it; the model refuses it: "
                f"{[(c.__name__, why) for c, why in refusals]}"
            )
        try:
            return command()
        except LedgerError as e:
            raise AssertionError(
                f"{what}: refused with {type(e).__name__} ({e}); the model accepts it"
            ) from e

    # opening

    @initialize(
        target=registered,
        period=st.tuples(st.integers(1, 12), st.integers(1, 12)).map(sorted),
        participant_months=st.integers(3, 30 * 12),
        spare=st.sampled_from([0, 1, PREMIUM - 1]) | st.integers(0, PREMIUM - 1),
        quota=st.integers(1, 12),
        extract=st.lists(registrations(), max_size=12),
    )
    def open_program(
        self,
        period: list[int],
        participant_months: int,
        spare: int,
        quota: int,
        extract: list[Registration],
    ) -> Any:
        """Open the program, then import a first extract of registrations and rank them."""
        start, end = Month(YEAR, period[0]), Month(YEAR, period[1])
        allocation = participant_months * PREMIUM + spare
        program = self.app.open_program(
            year=YEAR, allocation=allocation, quota=quota, start=start, end=end
        )
        self.program_id = program.id
        self.model = ProgramModel(start, end, allocation, quota)
        assert (program.premium.jkk, program.premium.jkm) == (JKK, JKM)
        assert (program.start, program.end) == (start, end)
        assert program.available == allocation
        new = self.register_rows(extract) if extract else []
        self.prioritize()
        return multiple(*new)

    # amendments

    @rule(
        allocation=st.none() | st.integers(-2, 2) | st.integers(-3 * PREMIUM, 30 * PREMIUM),
        allocation_from=st.sampled_from(["used", "current"]),
        quota=st.none() | st.integers(-2, 6),
        quota_from=st.sampled_from(["holding", "current", "absolute"]),
        reason=st.sampled_from(["Perda APBD-P 2026", "Perwal 12/2026", "DPA-SKPD 2026", " "]),
    )
    def amend(
        self,
        allocation: int | None,
        allocation_from: str,
        quota: int | None,
        quota_from: str,
        reason: str,
    ) -> None:
        m = self.books
        new_allocation = None
        if allocation is not None:
            base = m.spent_or_promised if allocation_from == "used" else m.allocation
            new_allocation = base + allocation
        new_quota = None
        if quota is not None:
            base = {"holding": m.holding, "current": m.quota, "absolute": 0}[quota_from]
            new_quota = base + quota
        refusals: list[Refusal] = []
        if new_allocation is None and new_quota is None:
            refusals.append((InvalidInput, "nothing to amend"))
        if not reason.strip():
            refusals.append((InvalidInput, "no reason"))
        if new_allocation is not None:
            if new_allocation <= 0:
                refusals.append((InvalidInput, f"allocation {new_allocation}"))
            elif new_allocation < m.spent_or_promised:
                refusals.append((OverBudget, f"below {m.spent_or_promised} used"))
        if new_quota is not None:
            if new_quota <= 0:
                refusals.append((InvalidInput, f"quota {new_quota}"))
            elif new_quota < m.holding:
                refusals.append((OverQuota, f"below {m.holding} enrolled"))
        self.expect(
            f"amend allocation={new_allocation} quota={new_quota}",
            refusals,
            lambda: self.app.amend_program(
                allocation=new_allocation, quota=new_quota, reason=reason
            ),
        )
        if not refusals:
            m.allocation = new_allocation if new_allocation is not None else m.allocation
            m.quota = new_quota if new_quota is not None else m.quota

    # workers

    @rule(target=registered, rows=st.lists(registrations(), min_size=1, max_size=8))
    def register(self, rows: list[Registration]) -> Any:
        return multiple(*self.register_rows(rows))

    def register_rows(self, rows: list[Registration]) -> list[str]:
        m = self.books
        new: list[str] = []
        for row in rows:
            if row.nik not in m.deciles and row.nik not in new:
                new.append(row.nik)
        result = self.expect("register", [], lambda: self.app.register(rows))
        assert result is not None
        assert (result.registered, result.already) == (len(new), len(rows) - len(new))
        for nik in new:
            m.register(nik, next(r.decile for r in rows if r.nik == nik))
        return new

    @precondition(lambda self: self.model is not None and len(self.model.deciles) < len(NIKS))
    @rule(
        data=st.data(),
        others=st.lists(registrations(), max_size=3),
        flaw=st.sampled_from(["kecamatan", "decile", "name", "source", "sex"]),
    )
    def register_a_flawed_row(
        self, data: st.DataObject, others: list[Registration], flaw: str
    ) -> None:
        """A batch with one bad row of a new NIK is refused whole."""
        m = self.books
        fresh = [p for p in PEOPLE if p.nik not in m.deciles]
        bad = data.draw(registrations(st.sampled_from(fresh)), label="bad row")
        bad = {
            "kecamatan": lambda r: _replace(r, kecamatan="Cikarang Utara"),  # Kabupaten Bekasi
            "decile": lambda r: _replace(r, decile=data.draw(st.sampled_from([0, 11]))),
            "name": lambda r: _replace(r, name="  "),
            "source": lambda r: _replace(r, source=""),
            "sex": lambda r: _replace(r, sex="L" if r.sex == "P" else "P"),
        }[flaw](bad)
        # Rows of the bad row's NIK would register it first (or be repeats of it): left out.
        rows = [*(r for r in others if r.nik != bad.nik), bad]
        self.expect(
            f"register with a bad {flaw}",
            [(InvalidInput, f"bad {flaw}")],
            lambda: self.app.register(rows),
        )

    @rule()
    def prioritize(self) -> None:
        m = self.books
        expected = m.rank()
        got = self.expect("prioritize", [], self.app.prioritize)
        assert got == expected, f"prioritize gave (ranked, changed) {got}, model {expected}"
        ranks = {r.worker_id: r.rank for r in self.app.views.ranking_inputs()}
        assert ranks == {worker_id(n): m.ranks.get(n) for n in m.deciles}

    # enrolment

    def enrol_refusals(self, niks: list[str], start: Month, decree: str | None) -> list[Refusal]:
        m = self.books
        refusals: list[Refusal] = []
        if decree is not None and decree in m.used["decree"]:
            refusals.append((DuplicateReference, f"decree {decree} used"))
        if not m.in_period(start):
            refusals.append((RuleViolation, f"{start} outside the period"))
        if len(set(niks)) != len(niks):
            refusals.append((InvalidInput, "a worker listed twice"))
        for nik in niks:
            if nik not in m.deciles:
                refusals.append((NotFound, f"{nik} not registered"))
            elif nik in m.coverage:
                refusals.append((RuleViolation, f"{nik} already enrolled"))
            elif tier(m.deciles[nik]) is None:
                refusals.append((RuleViolation, f"{nik} has decile {m.deciles[nik]}"))
        if m.in_period(start):
            refusals += m.fit_refusals(len(set(niks)), start)
        return refusals

    def enrolled_as_predicted(self, niks: list[str], start: Month, decree: str | None,
                              result: Any) -> Any:
        m = self.books
        expected_cost = m.commitment(len(niks), start)
        assert result is not None
        assert (result.workers, result.start, result.end) == (len(niks), start, m.end)
        assert result.committed == expected_cost, (result.committed, expected_cost)
        m.enrol(niks, start)
        if decree is not None:
            m.used["decree"].add(decree)
        return multiple(*niks)

    @rule(target=enrolled, nik=registered | st.sampled_from(NIKS), pick=month_picks,
          decree=decrees)
    def enrol_one(self, nik: str, pick: int, decree: str | None) -> Any:
        start = self.books.month(pick)
        refusals = self.enrol_refusals([nik], start, decree)
        result = self.expect(
            f"enrol --nik {nik} from {start}",
            refusals,
            lambda: self.app.enrol(start=start, niks=[nik], decree=decree),
        )
        if refusals:
            return multiple()
        return self.enrolled_as_predicted([nik], start, decree, result)

    @rule(
        target=enrolled,
        niks=st.lists(registered, min_size=2, max_size=5),
        pick=month_picks,
        decree=decrees,
    )
    def enrol_listed(self, niks: list[str], pick: int, decree: str | None) -> Any:
        """A decree's list: all of them or none."""
        start = self.books.month(pick)
        refusals = self.enrol_refusals(niks, start, decree)
        result = self.expect(
            f"enrol {len(niks)} listed from {start}",
            refusals,
            lambda: self.app.enrol(start=start, niks=niks, decree=decree),
        )
        if refusals:
            return multiple()
        return self.enrolled_as_predicted(niks, start, decree, result)

    @precondition(lambda self: self.model is not None and self.model.deciles)
    @rule(
        target=enrolled,
        top=st.sampled_from([1, 2, 3, 4, 5, 6, 8, 0]),
        pick=month_picks,
        decree=decrees,
    )
    def enrol_top(self, top: int, pick: int, decree: str | None) -> Any:
        m = self.books
        start = m.month(pick)
        refusals: list[Refusal] = []
        chosen: list[str] = []
        if top < 1:
            refusals.append((InvalidInput, f"--top {top}"))
        elif m.stale():
            refusals.append((RuleViolation, "the ranking is older than the registrations"))
            refusals += self.enrol_refusals([], start, decree)
        else:
            waiting = m.candidates()
            if len(waiting) < top:
                refusals.append((RuleViolation, f"only {len(waiting)} ranked and waiting"))
                refusals += self.enrol_refusals([], start, decree)
                refusals += m.fit_refusals(top, start) if m.in_period(start) else []
            else:
                chosen = waiting[:top]
                refusals += self.enrol_refusals(chosen, start, decree)
        result = self.expect(
            f"enrol --top {top} from {start}",
            refusals,
            lambda: self.app.enrol(start=start, top=top, decree=decree),
        )
        if refusals:
            return multiple()
        for nik in chosen:  # the best-ranked waiting ones, exactly
            assert self.app.worker(nik).coverages[self.program_id].start == start
        return self.enrolled_as_predicted(chosen, start, decree, result)

    @precondition(lambda self: self.model is not None and self.model.coverage)
    @rule(
        nik=enrolled | st.sampled_from(NIKS),
        pick=month_picks,
        reason=st.sampled_from([*END_REASONS, "bosan"]),
    )
    def end_coverage(self, nik: str, pick: int, reason: str) -> None:
        m = self.books
        month = m.month(pick)
        refusals: list[Refusal] = []
        if reason not in END_REASONS:
            refusals.append((InvalidInput, f"reason {reason}"))
        cover = m.coverage.get(nik)
        if nik not in m.deciles:
            refusals.append((NotFound, "not registered"))
        elif cover is None:
            refusals.append((NotFound, "not enrolled"))
        elif cover.ended is not None:
            refusals.append((RuleViolation, f"already ended in {cover.ended}"))
        elif month < cover.start:
            refusals.append((RuleViolation, f"{month} before the start {cover.start}"))
        elif not m.in_period(month):
            refusals.append((RuleViolation, f"{month} outside the period"))
        self.expect(
            f"end {nik} in {month} ({reason})",
            refusals,
            lambda: self.app.end_coverage(nik, month=month, reason=reason),
        )
        if not refusals:
            m.end_coverage(nik, month)

    # money

    @precondition(lambda self: self.model is not None and self.model.coverage)
    @rule(
        pick=month_picks,
        sp2d=sp2ds,
        amount=st.sampled_from(["none", "bill", "wrong", "none", "bill", "zero"]),
        off_by=st.integers(1, 2 * PREMIUM).flatmap(lambda n: st.sampled_from([n, -n])),
    )
    def pay(self, pick: int, sp2d: str, amount: str, off_by: int) -> None:
        m = self.books
        month = m.month(pick)
        unpaid = m.active[month] - m.paid[month] if m.in_period(month) else 0
        bill = PREMIUM * unpaid
        given = {"none": None, "bill": bill, "wrong": bill + off_by, "zero": 0}[amount]
        refusals: list[Refusal] = []
        if sp2d in m.used["sp2d"]:
            refusals.append((DuplicateReference, f"SP2D {sp2d} used"))
        if not sp2d.strip():
            refusals.append((InvalidInput, "no SP2D number"))
        if given is not None and given <= 0:
            refusals.append((InvalidInput, f"amount {given}"))
        if not m.in_period(month):
            refusals.append((RuleViolation, f"{month} outside the period"))
        elif unpaid <= 0:
            refusals.append((RuleViolation, f"nothing to pay in {month}"))
        elif given is not None and given != bill:
            refusals.append((RuleViolation, f"the bill is {bill}, not {given}"))
        got = self.expect(
            f"pay {month} under {sp2d!r}, amount {given}",
            refusals,
            lambda: self.app.pay_premiums(month=month, sp2d=sp2d, amount=given),
        )
        if not refusals:
            assert got == (unpaid, bill), f"paid {got}, the bill was {(unpaid, bill)}"
            m.paid[month] += unpaid
            m.used["sp2d"].add(sp2d)

    @rule(pick=month_picks)
    def capacity(self, pick: int) -> None:
        m = self.books
        start = m.month(pick)
        refusals: list[Refusal] = []
        if not m.in_period(start):
            refusals.append((RuleViolation, f"{start} outside the period"))
        got = self.expect(
            f"capacity from {start}", refusals, lambda: self.app.capacity(start)
        )
        if not refusals:
            assert got == m.capacity(start), f"capacity {got}, model {m.capacity(start)}"

    # claims: BPJS pays benefits, the budget is never touched

    @precondition(lambda self: self.model is not None and self.model.coverage)
    @rule(
        nik=enrolled | st.sampled_from(NIKS),
        scheme=st.sampled_from(["JKK", "JKM", "JHT"]),
        pick=month_picks,
        day_of_month=st.integers(1, 31),
        reference=claim_references,
    )
    def file_claim(
        self, nik: str, scheme: str, pick: int, day_of_month: int, reference: str
    ) -> None:
        m = self.books
        month = m.month(pick)
        last_day = calendar.monthrange(month.year, month.month)[1]
        day = date(month.year, month.month, min(day_of_month, last_day))
        refusals: list[Refusal] = []
        if nik not in m.deciles:
            refusals.append((NotFound, "not registered"))
        if reference in m.used["claim"]:
            refusals.append((DuplicateReference, f"claim {reference} used"))
        if scheme not in ("JKK", "JKM"):
            refusals.append((InvalidInput, f"scheme {scheme}"))
        if not reference.strip():
            refusals.append((InvalidInput, "no reference"))
        if not m.covered(nik, Month(day.year, day.month)):
            refusals.append((RuleViolation, f"not covered in {day:%Y-%m}"))
        got = self.expect(
            f"claim {scheme} {reference!r} of {nik} on {day}",
            refusals,
            lambda: self.app.file_claim(
                nik, scheme=scheme, incident_date=day, reference=reference
            ),
        )
        if not refusals:
            assert got == self.program_id
            m.used["claim"].add(reference)
            m.claims.append(reference)

    # projections rebuilt from the first event say what they said

    def figures(self) -> dict[str, Any]:
        views = self.app.views
        return {
            "budget": views.budget(self.program_id),
            "months": views.budget_months(self.program_id),
            "quota": views.quota(self.program_id),
            "by decile": quota_groups(views, self.program_id, "decile"),
            "by kecamatan": quota_groups(views, self.program_id, "kecamatan"),
            "claims": views.claims(self.program_id),
            "ranks": sorted(
                (str(r.worker_id), r.rank, r.registered_position)
                for r in views.ranking_inputs()
            ),
        }

    def check_rebuild(self) -> None:
        before = self.figures()
        head = self.head()
        self.app.views.rebuild()
        assert self.head() == head, "rebuilding the views wrote events"
        after = self.figures()
        for key in before:
            assert after[key] == before[key], f"rebuilt {key} differ: {after[key]} != {before[key]}"

    @rule()
    def rebuild_views(self) -> None:
        self.check_rebuild()

    # invariants

    @invariant()
    def the_program_never_overspends(self) -> None:
        if self.model is None:
            return
        m = self.books
        p = self.app.program()
        assert p.committed.total + p.paid_total.total <= p.allocation
        assert p.available >= 0
        assert p.enrolled <= p.quota
        assert (p.allocation, p.quota, p.enrolled) == (m.allocation, m.quota, m.holding)
        assert (p.committed.jkk, p.committed.jkm) == (
            JKK * m.committed_months, JKM * m.committed_months
        )
        assert (p.paid_total.jkk, p.paid_total.jkm) == (JKK * m.paid_months, JKM * m.paid_months)
        assert p.available == m.allocation - m.spent_or_promised

    @invariant()
    def the_budget_view_agrees(self) -> None:
        if self.model is None:
            return
        m = self.books
        b = self.app.views.budget(self.program_id)
        assert b["committed"] + b["paid"] <= b["allocation"]
        assert b["available"] >= 0
        expected = {
            "allocation": m.allocation,
            "quota": m.quota,
            "enrolled": m.holding,
            "committed_jkk": JKK * m.committed_months,
            "committed_jkm": JKM * m.committed_months,
            "paid_jkk": JKK * m.paid_months,
            "paid_jkm": JKM * m.paid_months,
            "overpaid_jkk": JKK * m.overpaid_months,
            "overpaid_jkm": JKM * m.overpaid_months,
            "available": m.allocation - m.spent_or_promised,
        }
        assert {k: b[k] for k in expected} == expected

    @invariant()
    def the_month_view_agrees(self) -> None:
        if self.model is None:
            return
        m = self.books
        got = {
            r["month"]: (
                r["active"], r["paid_participants"], r["committed_jkk"], r["committed_jkm"],
                r["paid_jkk"], r["paid_jkm"], r["overpaid_jkk"], r["overpaid_jkm"],
            )
            for r in self.app.views.budget_months(self.program_id)
        }
        expected = {}
        for month in m.period:
            active, paid = m.active[month], m.paid[month]
            unpaid, over = max(0, active - paid), max(0, paid - active)
            expected[str(month)] = (
                active, paid, JKK * unpaid, JKM * unpaid,
                JKK * paid, JKM * paid, JKK * over, JKM * over,
            )
        assert got == expected

    @invariant()
    def the_quota_and_claims_views_agree(self) -> None:
        if self.model is None:
            return
        m = self.books
        q = self.app.views.quota(self.program_id)
        assert q["enrolled"] <= q["quota"]
        assert q["available"] >= 0
        assert (q["quota"], q["enrolled"], q["ended"], q["registered"]) == (
            m.quota, m.holding, m.ended, len(m.deciles)
        )
        by_decile = {
            r["decile"]: (r["registered"], r["enrolled"], r["ended"])
            for r in quota_groups(self.app.views, self.program_id, "decile")
        }
        expected: dict[int, tuple[int, int, int]] = {}
        for nik, decile in m.deciles.items():
            reg, held, ended = expected.get(decile, (0, 0, 0))
            c = m.coverage.get(nik)
            expected[decile] = (
                reg + 1,
                held + (c is not None and c.ended is None),
                ended + (c is not None and c.ended is not None),
            )
        assert by_decile == expected
        assert [c["reference"] for c in self.app.views.claims(self.program_id)] == m.claims

    @invariant()
    def rebuilt_views_agree_now_and_then(self) -> None:
        if self.model is None:
            return
        self.steps += 1
        if self.steps % 10 == 0:
            self.check_rebuild()


def _replace(r: Registration, **changes: Any) -> Registration:
    fields = {f: getattr(r, f) for f in Registration.__dataclass_fields__}
    return Registration(**{**fields, **changes})


# --- The stores -----------------------------------------------------------------------------


class MemoryLedgerMachine(LedgerMachine):
    def store_url(self) -> str:
        return "memory://"


class SqliteLedgerMachine(LedgerMachine):
    def store_url(self) -> str:
        self.folder = tempfile.mkdtemp(prefix="jamsos-machine-")
        return f"sqlite:///{self.folder}/ledger.db"

    def drop_store(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresLedgerMachine(LedgerMachine):
    """A schema of the example's own on the test server, dropped with everything in it."""

    server: ClassVar[str] = ""

    def store_url(self) -> str:
        assert self.server, "set PostgresLedgerMachine.server from the postgres_server fixture"
        self.schema = f"machine_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        parts = urlsplit(self.server)
        query = dict(parse_qsl(parts.query))
        query["schema"] = self.schema
        return urlunsplit(parts._replace(query=urlencode(query)))

    def drop_store(self) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )


def test_the_ledger_keeps_the_books_in_memory() -> None:
    run_state_machine_as_test(MemoryLedgerMachine)


def test_the_ledger_keeps_the_books_on_sqlite() -> None:
    run_state_machine_as_test(SqliteLedgerMachine)


# Each PostgreSQL example makes a schema, its tables and a connection pool, and every step
# waits on the server: half of the profile's examples keeps the suite within its time (under
# `ci`, 150 examples of 40 steps, about two minutes on two cores).
POSTGRES_SHARE = 2


@pytest.mark.postgres
def test_the_ledger_keeps_the_books_on_postgresql(postgres_server: str) -> None:
    PostgresLedgerMachine.server = postgres_server
    profile = settings()
    run_state_machine_as_test(
        PostgresLedgerMachine,
        settings=settings(profile, max_examples=max(5, profile.max_examples // POSTGRES_SHARE)),
    )
