"""What the outside registers tell the ledger: deaths (Dukcapil) and DTSEN's deciles.

The civil registry (Dukcapil, under UU 24/2013 on population administration) records deaths;
its extract lists NIKs with their dates of death. DTSEN (Data Tunggal Sosial dan Ekonomi
Nasional, Inpres 4/2025) publishes a release of welfare deciles each quarter, named by its
quarter (`2026-Q2`). Here are the rules for what one line of either means for a worker; the
aggregates (`model`) record it.
"""

from __future__ import annotations

import re
from datetime import date

from jamsos_ledger.domain.model import Program, Worker
from jamsos_ledger.domain.months import Month

_RELEASE = re.compile(r"^(20\d\d)-Q([1-4])$")


def release_problem(release: str) -> str | None:
    """Why a DTSEN release name is not one (DTSEN is released quarterly: `2026-Q2`)."""
    if not _RELEASE.match(release):
        return f"a DTSEN release is named by its year and quarter, e.g. 2026-Q2, not {release!r}"
    return None


def death_problem(program: Program, worker: Worker, died: date) -> str | None:
    """Why a death leaves the worker's coverage in the program as it is, or None when the
    coverage is to end as died in the month of death.

    A death before the coverage started, or of a worker never enrolled, is reported to the
    operator, never guessed at: the registry or the enrolment may be wrong, and only a person
    can tell which.
    """
    month = Month.of(died)
    coverage = worker.coverages.get(program.id)
    if coverage is None:
        return f"not enrolled in {program.code}: no coverage to end"
    if coverage.ended is not None:
        return f"coverage in {program.code} already ended in {coverage.ended}"
    if month < coverage.start:
        return (
            f"died in {month}, before the coverage in {program.code} started in "
            f"{coverage.start}: was the enrolment or the registry wrong?"
        )
    if month > coverage.last:
        return f"died in {month}, after the coverage in {program.code} ended in {coverage.last}"
    return None


__all__ = ["death_problem", "release_problem"]
