"""The ledger as of any moment is the ledger as it stood then.

A random sequence of commands runs against a real Ledger; after each one the time is read (and
the clock let tick past it) and a plain MODEL of the program is copied: who is covered in which
month, how many participants of each month are paid for, the terms, the claims. The model is
written from the rules and never asks the domain how to count. Which commands the ledger accepts
is its own business (test_ledger_machine checks the rules); the model follows what it accepted.

Then, for moments drawn among those recorded, the reports as of that moment (`views_as_of`)
and the workers as of it (`worker_as_of`) must show exactly the model's copy of that moment, and
the replay as of it must find no difference.

It runs in memory (the `ci` profile's examples) and on SQLite files (a tenth of them).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.as_of import views_as_of, worker_as_of
from jamsos_ledger.application.replay import replay
from jamsos_ledger.domain.errors import LedgerError, NotFound
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month

JKK, JKM = 10_000, 6_800
PREMIUM = JKK + JKM
PERIOD = [Month(2026, m) for m in range(1, 7)]  # January to June: six months keep it quick


@dataclass(frozen=True)
class Person:
    nik: str
    birth_date: date
    sex: str


def _person(i: int) -> Person:
    sex = "P" if i % 2 else "L"
    born = date(1970 + i, i % 12 + 1, i % 27 + 1)
    day = born.day + (40 if sex == "P" else 0)
    return Person(f"327501{day:02d}{born.month:02d}{born.year % 100:02d}{i + 1:04d}", born, sex)


PEOPLE = [_person(i) for i in range(8)]


def month(pick: int) -> Month:
    """A month of the period, or (pick -1 or 6) the month before or after it."""
    return Month(2026, 1) + pick


@dataclass
class Model:
    """The program in plain counts, and what was registered and claimed."""

    opened: bool = False
    allocation: int = 0
    quota: int = 0
    active: dict[Month, int] = field(default_factory=lambda: dict.fromkeys(PERIOD, 0))
    paid: dict[Month, int] = field(default_factory=lambda: dict.fromkeys(PERIOD, 0))
    registered: set[str] = field(default_factory=set)
    coverage: dict[str, tuple[Month, Month | None]] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=lambda: {"JKK": 0, "JKM": 0})

    def copy(self) -> Model:
        return Model(self.opened, self.allocation, self.quota, dict(self.active),
                     dict(self.paid), set(self.registered), dict(self.coverage),
                     dict(self.claims))

    @property
    def committed(self) -> int:
        return PREMIUM * sum(max(0, self.active[m] - self.paid[m]) for m in PERIOD)

    @property
    def paid_total(self) -> int:
        return PREMIUM * sum(self.paid.values())

    @property
    def overpaid(self) -> int:
        return PREMIUM * sum(max(0, self.paid[m] - self.active[m]) for m in PERIOD)

    @property
    def holding(self) -> int:
        return sum(1 for _, ended in self.coverage.values() if ended is None)

    def enrolled_person(self, i: int, *, holding: bool) -> str:
        """The i-th (modulo) worker ever enrolled (or holding a place), else person i: most
        ends and claims then concern someone covered, and get far enough to count."""
        niks = [n for n, (_, ended) in self.coverage.items() if not holding or ended is None]
        return niks[i % len(niks)] if niks else PEOPLE[i].nik


# --- Commands: each returns what the model does when the ledger accepted it ----------------

# Mostly the six registered first and months of the period; sometimes the others (refused).
people = st.integers(0, 5) | st.integers(0, len(PEOPLE) - 1)
picks = st.integers(0, 5) | st.integers(-1, 6)
commands = st.one_of(
    st.tuples(st.just("register"), people, st.integers(1, 7)),
    st.tuples(st.just("enrol"), st.lists(people, min_size=1, max_size=3, unique=True), picks),
    st.tuples(st.just("end"), people, picks, st.sampled_from(["died", "moved", "formal"])),
    st.tuples(st.just("pay"), picks, st.integers(1, 4)),
    st.tuples(st.just("amend"), st.sampled_from(["allocation", "quota"]), st.integers(1, 8)),
    st.tuples(st.just("claim"), people, st.sampled_from(["JKK", "JKM"]), picks,
              st.integers(1, 3)),
)


def run(ledger: Ledger, model: Model, command: tuple[Any, ...]) -> None:
    """Run one command; when the ledger accepts it, the model does what the rules say."""
    kind = command[0]
    try:
        if kind == "register":
            _, i, decile = command
            p = PEOPLE[i]
            result = ledger.register([Registration(
                nik=p.nik, name=f"Pekerja {i}", birth_date=p.birth_date, sex=p.sex,
                kecamatan="01", kelurahan="Margahayu", occupation="ojol", decile=decile,
                source="Disnaker")])
            if result.registered:
                model.registered.add(p.nik)
        elif kind == "enrol":
            _, chosen, pick = command
            niks = [PEOPLE[i].nik for i in chosen]
            start = month(pick)
            ledger.enrol(start=start, niks=niks)
            for n in niks:
                model.coverage[n] = (start, None)
                for m in PERIOD:
                    model.active[m] += m >= start
        elif kind == "end":
            _, i, pick, reason = command
            nik, last = model.enrolled_person(i, holding=True), month(pick)
            ledger.end_coverage(nik, month=last, reason=reason)
            model.coverage[nik] = (model.coverage[nik][0], last)
            for m in PERIOD:
                model.active[m] -= m > last
        elif kind == "pay":
            _, pick, sp2d = command
            ledger.pay_premiums(month=month(pick), sp2d=f"SP2D/{sp2d}")
            model.paid[month(pick)] = model.active[month(pick)]
        elif kind == "amend":
            _, what, size = command
            if what == "allocation":
                ledger.amend_program(allocation=size * 150_000, reason="APBD-P")
                model.allocation = size * 150_000
            else:
                ledger.amend_program(quota=size, reason="APBD-P")
                model.quota = size
        elif kind == "claim":
            _, i, scheme, pick, ref = command
            ledger.file_claim(model.enrolled_person(i, holding=False), scheme=scheme,
                              incident_date=month(pick).first_day(), reference=f"KLAIM-{ref}")
            model.claims[scheme] += 1
    except LedgerError:
        event(f"{kind} refused")  # the ledger wrote nothing, and the model changes nothing
    else:
        event(f"{kind} accepted")


def moment() -> datetime:
    now = datetime.now(UTC)
    while datetime.now(UTC) <= now:
        pass
    return now


def check(ledger: Ledger, when: datetime, model: Model, nik: str) -> None:
    """The reports and a worker as of `when` are the model's copy of that moment."""
    views = views_as_of(ledger, when)
    try:
        if not model.opened:
            assert views.programs() == []
            return
        pid = ledger.program().id
        budget = views.budget(pid)
        assert (budget["allocation"], budget["committed"], budget["paid"], budget["overpaid"],
                budget["enrolled"]) == (model.allocation, model.committed, model.paid_total,
                                        model.overpaid, model.holding)
        assert budget["available"] == model.allocation - model.committed - model.paid_total
        months = {r["month"]: r for r in views.budget_months(pid)}
        assert {m: (months[str(m)]["active"], months[str(m)]["paid_participants"])
                for m in PERIOD} == {m: (model.active[m], model.paid[m]) for m in PERIOD}
        quota = views.quota(pid)
        assert (quota["quota"], quota["enrolled"], quota["registered"]) == (
            model.quota, model.holding, len(model.registered))
        assert quota["ended"] == len(model.coverage) - model.holding
        claims = views.claims(pid)
        assert {s: sum(c["scheme"] == s for c in claims) for s in ("JKK", "JKM")} == model.claims
    finally:
        views.close()
    if nik not in model.registered:
        try:
            worker_as_of(ledger, nik, when)
        except NotFound:
            return
        raise AssertionError(f"{nik} was not registered yet at {when}")
    worker = worker_as_of(ledger, nik, when)
    coverages = [(c.start, c.ended) for c in worker.coverages.values()]
    assert coverages == ([model.coverage[nik]] if nik in model.coverage else [])


def story(store: str, program: tuple[int, int], steps: list[tuple[Any, ...]],
          data: st.DataObject) -> None:
    ledger = Ledger(store, actor="operator")
    try:
        model = Model()
        moments = [(moment(), model.copy())]
        allocation, quota = program
        ledger.open_program(year=2026, allocation=allocation, quota=quota,
                            start=PERIOD[0], end=PERIOD[-1], four_eyes=False)
        model.opened, model.allocation, model.quota = True, allocation, quota
        moments.append((moment(), model.copy()))
        for command in steps:
            run(ledger, model, command)
            moments.append((moment(), model.copy()))
        chosen = data.draw(st.lists(st.integers(0, len(moments) - 1), min_size=1, max_size=3,
                                    unique=True), label="moments checked")
        nik = data.draw(st.sampled_from(PEOPLE), label="worker checked").nik
        for k in chosen:
            when, then = moments[k]
            check(ledger, when, then, nik)
        assert replay(ledger, moments[chosen[0]][0]).ok
    finally:
        ledger.close()


# Small terms, so that the money and the places really run out: Rp 16.800 a month each.
programs = st.tuples(st.sampled_from([300_000, 600_000, 1_000_000]), st.integers(2, 6))
# Six of the eight people register first (mostly eligible deciles), so that most commands get
# far enough to count; the other two may register later, or never (and are refused).
histories = st.tuples(
    st.lists(st.integers(1, 5) | st.integers(1, 7), min_size=6, max_size=6),
    st.lists(commands, min_size=4, max_size=16),
).map(lambda parts: [("register", i, d) for i, d in enumerate(parts[0])] + parts[1])


@given(program=programs, steps=histories, data=st.data())
def test_the_ledger_as_of_any_moment_is_the_ledger_then_in_memory(
    program: tuple[int, int], steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    story("memory://", program, steps, data)


@settings(parent=settings(), max_examples=max(5, settings().max_examples // 10))
@given(program=programs, steps=histories, data=st.data())
def test_the_ledger_as_of_any_moment_is_the_ledger_then_on_sqlite(
    program: tuple[int, int], steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    directory = tempfile.mkdtemp(prefix="jamsos-as-of-")
    try:
        story(f"sqlite:///{directory}/ledger.db", program, steps, data)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
