"""Deaths from the civil registry and DTSEN's quarterly deciles, recorded in batches.

Both come as files of many NIKs (`registers_files`); each is recorded in one transaction, so
a crash leaves all of it or nothing, and running it again records only what is not yet
recorded. NIKs the ledger does not know, and deaths it cannot place in a coverage, are
reported to the operator, never guessed at (`registers.death_problem`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from jamsos_ledger.application.service import LedgerService
from jamsos_ledger.domain.errors import InvalidInput, NotFound
from jamsos_ledger.domain.model import Program, Worker
from jamsos_ledger.domain.months import Month, today_in_jakarta
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.registers import death_problem, release_problem
from jamsos_ledger.domain.rules import DEFAULT_RULESET, ruleset
from jamsos_ledger.files.registers_files import Death, DecileLine

DIED = "died"


@dataclass(frozen=True, slots=True)
class Reported:
    """A line recorded nothing for: its line, the NIK masked, and why."""

    line: int
    nik: str
    why: str


@dataclass(frozen=True, slots=True)
class EndedByDeath:
    """A coverage ended by a death: the last covered month (that of the death), the unpaid
    commitment released and what was already paid for later months (an overpayment)."""

    line: int
    nik: str
    month: Month
    released: int
    overpaid: int


@dataclass
class DeathsResult:
    ended: list[EndedByDeath] = field(default_factory=list)
    reported: list[Reported] = field(default_factory=list)

    @property
    def released(self) -> int:
        return sum(e.released for e in self.ended)

    @property
    def overpaid(self) -> int:
        return sum(e.overpaid for e in self.ended)


def record_deaths(
    ledger: LedgerService, deaths: Sequence[Death], *, code: str | None = None
) -> tuple[DeathsResult, Program]:
    """End as died, in the month of death, the coverage of every covered worker of the list,
    all in one transaction; report the others. Returns the result and the program after."""

    def attempt() -> tuple[DeathsResult, Program]:
        program = ledger.program(code)
        result = DeathsResult()
        changed: list[Worker] = []
        for death in deaths:
            masked = mask_nik(death.nik)
            worker = _known(ledger, death.nik)
            if worker is None:
                result.reported.append(Reported(death.line, masked, "not registered in the "
                                                "ledger"))
                continue
            why = death_problem(program, worker, death.died)
            if why is not None:
                result.reported.append(Reported(death.line, masked, why))
                continue
            committed, overpaid = program.committed.total, program.overpaid.total
            month = Month.of(death.died)
            program.end_coverage(worker, month=month, reason=DIED, actor=ledger.actor)
            result.ended.append(EndedByDeath(
                death.line, masked, month, committed - program.committed.total,
                program.overpaid.total - overpaid,
            ))
            changed.append(worker)
        if changed:
            ledger.save(program, *changed)
        return result, program

    return ledger.as_command("record_deaths", lambda: ledger._retrying(attempt))


@dataclass(frozen=True, slots=True)
class DecileChange:
    """A decile changed by the release: from, to, and whether the worker crossed the
    eligibility line of the rule set (and is enrolled: coverage is not ended by it)."""

    line: int
    nik: str
    previous: int
    decile: int
    eligible_before: bool
    eligible_after: bool
    enrolled: bool


@dataclass
class DecilesResult:
    release: str
    ruleset: str
    changed: list[DecileChange] = field(default_factory=list)
    unchanged: int = 0
    reported: list[Reported] = field(default_factory=list)
    ranked: int = 0
    ranks: int = 0


def update_deciles(
    ledger: LedgerService,
    lines: Sequence[DecileLine],
    *,
    release: str,
    ruleset_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: date | None = None,
) -> DecilesResult:
    """Record each changed decile as a correction naming the DTSEN release (one transaction),
    then rank every eligible worker again in one batch; each new rank records the release.
    `today` (the city's date, by default) is the day a release of a later quarter is refused
    on."""
    problem = release_problem(release, today or today_in_jakarta())
    if problem:
        raise InvalidInput(problem)
    name = ruleset_name or DEFAULT_RULESET
    rules = ruleset(name)

    def attempt() -> DecilesResult:
        result = DecilesResult(release, name)
        changed: list[Worker] = []
        for row in lines:
            masked = mask_nik(row.nik)
            worker = _known(ledger, row.nik)
            if worker is None:
                result.reported.append(Reported(row.line, masked, "not registered in the "
                                                "ledger"))
                continue
            previous = worker.decile
            if previous == row.decile:
                result.unchanged += 1
                continue
            worker.correct(field="decile", value=str(row.decile), reason=f"DTSEN {release}",
                           actor=ledger.actor, release=release)
            changed.append(worker)
            result.changed.append(DecileChange(
                row.line, masked, previous, row.decile, rules.is_eligible(previous),
                rules.is_eligible(row.decile), any(c.ended is None
                                                   for c in worker.coverages.values()),
            ))
        if changed:
            ledger.save(*changed)
        return result

    result = ledger.as_command("update_deciles", lambda: ledger._retrying(attempt))
    # Ranked again even when nothing changed: a run cut off after its corrections is finished
    # by running it again.
    result.ranked, result.ranks = ledger.prioritize(name, progress=progress)
    return result


def _known(ledger: LedgerService, nik: str) -> Worker | None:
    try:
        return ledger.worker(nik)
    except NotFound:
        return None


__all__ = [
    "DeathsResult",
    "DecileChange",
    "DecilesResult",
    "EndedByDeath",
    "Reported",
    "record_deaths",
    "update_deciles",
]
