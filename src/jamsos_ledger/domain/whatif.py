"""What an amendment would change: the program's figures under other terms, never saved.

The domain's own `Program.amend` checks the new terms on a copy of the program (an allocation
below what is used, a quota below who is enrolled, are refused as they would be for real), and
the domain's own `Program.capacity` answers on the copy: the rules stay written once.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.months import Month, months_between


def amended(program: Program, *, allocation: int | None, quota: int | None) -> Program:
    """A copy of the program as it would be after the amendment; the original is untouched."""
    copy = deepcopy(program)
    copy.amend(allocation=allocation, quota=quota, reason="what-if", actor="what-if")
    copy.collect_events()  # a what-if: its events are dropped, never saved
    return copy


@dataclass(frozen=True)
class StartCapacity:
    """How many more workers fit from one start month.

    Attributes:
        start: the first month of their coverage.
        months: months from `start` to the end of the period.
        cost_per_worker: premium of one worker for those months, rupiah.
        workers: how many more fit.
        commits: what covering them would commit, rupiah.
        limited_by: `money` or `places` (the quota), whichever runs out first.
    """

    start: Month
    months: int
    cost_per_worker: int
    workers: int
    commits: int
    limited_by: str


def capacity_by_start(program: Program, first: Month) -> list[StartCapacity]:
    """Capacity for every start month from `first` to the end of the period."""
    program.slot(first)  # refuses a month outside the period
    rows = []
    for month in months_between(first, program.end):
        workers = program.capacity(month)
        months = program.end - month + 1
        rows.append(StartCapacity(
            start=month,
            months=months,
            cost_per_worker=program.premium.total * months,
            workers=workers,
            commits=program.commitment_for(workers, month).total,
            limited_by="places" if workers >= max(0, program.places_left) else "money",
        ))
    return rows
