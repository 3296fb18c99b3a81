"""`program show` and `program capacity`: reports from the program's own books.

A program's figures and its capacity are the domain's (`Program`, `Program.capacity`,
`whatif.capacity_by_start`) on the program as its events left it, not a projection's; this
puts them into their report values, with where in the log the program was read (the log's
last event once it was read) and the chain digest there.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder

from jamsos_ledger.domain import whatif
from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.whatif import capacity_by_start
from jamsos_ledger.projections.report_values import (
    CapacityReport,
    CapacityRow,
    CapacityWhatIf,
    ProgramFigures,
)
from jamsos_ledger.stores.integrity import digest_at


def program_figures(program: Program, recorder: ApplicationRecorder) -> ProgramFigures:
    """A program's terms and figures now (as read from the ledger `recorder` stores)."""
    at = int(recorder.max_notification_id() or 0)
    return ProgramFigures(
        program=program.code,
        name=program.name,
        year=program.year,
        start=str(program.start),
        end=str(program.end),
        months=program.months,
        ruleset=program.ruleset,
        jkk_monthly=program.premium.jkk,
        jkm_monthly=program.premium.jkm,
        premium_monthly=program.premium.total,
        allocation=program.allocation,
        committed=program.committed.total,
        paid=program.paid_total.total,
        overpaid=program.overpaid.total,
        available=program.available,
        quota=program.quota,
        enrolled=program.enrolled,
        places_left=program.places_left,
        position=at,
        digest=digest_at(recorder, at),
    )


def capacity_report(
    program: Program,
    first: Month,
    recorder: ApplicationRecorder,
    *,
    allocation: int | None = None,
    quota: int | None = None,
) -> CapacityReport:
    """Capacity of `program` (as read from the ledger `recorder` stores) for every start month
    from `first`; with `allocation` or `quota`, also what that amendment would change (checked
    as `Program.amend` checks it, never saved)."""
    rows = [
        CapacityRow(start=str(c.start), months=c.months, cost_per_worker=c.cost_per_worker,
                    workers=c.workers, commits=c.commits, limited_by=c.limited_by)
        for c in capacity_by_start(program, first)
    ]
    what_if = None
    if allocation is not None or quota is not None:
        amended = whatif.amended(program, allocation=allocation, quota=quota)
        rows = [
            CapacityRow(
                start=row.start, months=row.months, cost_per_worker=row.cost_per_worker,
                workers=row.workers, commits=row.commits, limited_by=row.limited_by,
                workers_amended=c.workers, more=c.workers - row.workers,
                commits_amended=c.commits, limited_by_amended=c.limited_by,
            )
            for row, c in zip(rows, capacity_by_start(amended, first), strict=True)
        ]
        head = rows[0]
        assert head.workers_amended is not None and head.more is not None
        what_if = CapacityWhatIf(
            allocation=amended.allocation,
            quota=amended.quota,
            available=amended.available,
            places_left=amended.places_left,
            workers=head.workers_amended,
            more=head.more,
        )
    head = rows[0]
    at = int(recorder.max_notification_id() or 0)
    return CapacityReport(
        program=program.code,
        start=head.start,
        months=head.months,
        workers=head.workers,
        commits=head.commits,
        limited_by=head.limited_by,
        available=program.available,
        places_left=program.places_left,
        by_start=tuple(rows),
        position=at,
        digest=digest_at(recorder, at),
        what_if=what_if,
    )
