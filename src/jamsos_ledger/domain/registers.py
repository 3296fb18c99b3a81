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


def release_problem(release: str, today: date) -> str | None:
    """Why a DTSEN release name is not one that can be recorded on `today` (the city's date).

    DTSEN is released quarterly and named by its quarter (`2026-Q2`, see above), so a release
    of a quarter that has not begun cannot have been published: recording one would date the
    deciles, and the ranks worked out from them, by a release that does not exist (a typo of
    the year, most often), as a death in the future is refused for the same reason.
    """
    match = _RELEASE.match(release)
    if match is None:
        return f"a DTSEN release is named by its year and quarter, e.g. 2026-Q2, not {release!r}"
    quarter = (int(match.group(1)), int(match.group(2)))
    current = (today.year, (today.month - 1) // 3 + 1)
    if quarter > current:
        return (
            f"the DTSEN release {release} is of a quarter that has not come yet (today is "
            f"{today.isoformat()} in Asia/Jakarta, in {current[0]}-Q{current[1]}); a release "
            "cannot be recorded before its quarter"
        )
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
