"""Calendar months: the unit of coverage and billing.

BPJS Ketenagakerjaan bills non-wage-earner participants by whole months with no daily
proration (Permenaker 5/2021), so the ledger counts in months, never in days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# The city's time, in which its days and months begin: Asia/Jakarta (WIB) is UTC+07:00 all year,
# without summer time, so a fixed offset is exact and needs no time-zone database.
JAKARTA = timezone(timedelta(hours=7), "WIB")

# The years of the ledger's calendar: every month it counts in, and so every date it is given
# (a birth, a death, an invoice's month, a day typed on the command line), falls in one. From
# 1900, where the spreadsheets the offices use begin their dates (Excel's 1900 date system) and
# before which no worker of a program run since 2014 was born; to 9999, the last year of the
# calendar. A date outside is refused where it is read, with its line and field, never met
# later by a rule that counts months.
CALENDAR_YEARS = range(1900, 10000)


def date_problem(day: date) -> str | None:
    """Why a date is outside the ledger's calendar (`CALENDAR_YEARS`), or None."""
    if day.year not in CALENDAR_YEARS:
        return (
            f"{day.isoformat()} is outside the ledger's calendar (years "
            f"{CALENDAR_YEARS.start}-{CALENDAR_YEARS.stop - 1}): is the year mistyped?"
        )
    return None


def today_in_jakarta() -> date:
    """Today's date in the city."""
    return datetime.now(JAKARTA).date()


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, ordered and countable.

    Attributes:
        year: the calendar year, e.g. 2026.
        month: 1 (January) to 12 (December).
    """

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1-12, not {self.month}")
        if self.year not in CALENDAR_YEARS:
            raise ValueError(
                f"year must be {CALENDAR_YEARS.start}-{CALENDAR_YEARS.stop - 1}, not {self.year}"
            )

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read `YYYY-MM`; raise ValueError naming the text otherwise."""
        match = _MONTH.match(text.strip())
        if match is None:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0: differences of indexes count months."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        """The month with the given index."""
        return cls(index // 12, index % 12 + 1)

    def __add__(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from first to last, both included (empty when last < first)."""
    return [first + i for i in range(last - first + 1)]
