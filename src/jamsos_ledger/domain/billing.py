"""When BPJS's monthly bills fall due, and when unpaid ones make participants inactive.

A month's premiums are due by the 15th of the following month; when that day is a weekend, a
national public holiday or a cuti bersama, on the next working day. The holidays are data
shipped with the ledger (`data/holidays_id.csv`, from the SKB 3 Menteri of each year), read
through importlib.resources so that the installed wheel finds them too.

BPJS makes a participant inactive once a month's premium has gone unpaid for three months; the
ledger warns from two. Months are counted from the billed month: January unpaid is warned about
from 1 March and makes its participants inactive on 1 April.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files

from jamsos_ledger.domain.months import Month

# BPJS Ketenagakerjaan bills a month's premiums by the 15th of the following month.
DUE_DAY = 15
# Warn when a month is unpaid this many months after it; BPJS deactivates at three.
WARN_AFTER_MONTHS = 2
DEACTIVATE_AFTER_MONTHS = 3
HOLIDAYS_FILE = "holidays_id.csv"


@dataclass(frozen=True, slots=True)
class Holiday:
    """A day offices are closed, besides weekends.

    Attributes:
        day: the date.
        name: as the decree names it.
        kind: `libur` (national public holiday) or `cuti` (cuti bersama, collective leave).
        estimate: True when the date was worked out from the calendars, not read from a decree.
    """

    day: date
    name: str
    kind: str
    estimate: bool


def read_holidays(text: str) -> dict[date, Holiday]:
    """Holidays from the CSV text of `holidays_id.csv` (lines starting with # are comments)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    found: dict[date, Holiday] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        day = date.fromisoformat(row["date"])
        if row["kind"] not in ("libur", "cuti"):
            raise ValueError(f"{HOLIDAYS_FILE}: kind of {day} must be libur or cuti")
        found[day] = Holiday(day, row["name"], row["kind"], (row.get("note") or "") == "estimate")
    return found


@cache
def holidays() -> dict[date, Holiday]:
    """The holidays the ledger ships, by date."""
    text = files("jamsos_ledger").joinpath("data", HOLIDAYS_FILE).read_text(encoding="utf-8")
    return read_holidays(text)


def holiday_years() -> set[int]:
    """The years the shipped holiday list covers."""
    return {day.year for day in holidays()}


def is_working_day(day: date) -> bool:
    """Monday to Friday and neither a national holiday nor a cuti bersama."""
    return day.weekday() < 5 and day not in holidays()


def next_working_day(day: date) -> date:
    """The day itself when offices are open, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(month: Month) -> date:
    """When the bill for `month` is due: the 15th of the next month, rolled to a working day."""
    following = month + 1
    return next_working_day(date(following.year, following.month, DUE_DAY))


def months_unpaid(month: Month, today: date) -> int:
    """How many months a month's premium has been unpaid on `today` (0 in the month itself)."""
    return max(0, Month.of(today) - month)


def deactivation_date(month: Month) -> date:
    """The day BPJS makes a month's unpaid participants inactive: three months after it."""
    return (month + DEACTIVATE_AFTER_MONTHS).first_day()


@dataclass(frozen=True, slots=True)
class Bill:
    """An unpaid bill of one month of a program.

    Attributes:
        month: the billed month.
        participants: covered and not yet paid for.
        jkk, jkm: the amount of each scheme, rupiah.
        due: the due date, rolled past weekends and holidays.
        months_unpaid: months since the billed month, on the day asked about.
        deactivation: when BPJS would make these participants inactive if still unpaid.
    """

    month: Month
    participants: int
    jkk: int
    jkm: int
    due: date
    months_unpaid: int
    deactivation: date

    @property
    def amount(self) -> int:
        return self.jkk + self.jkm

    def overdue(self, today: date) -> bool:
        return today > self.due

    @property
    def at_risk(self) -> bool:
        """Unpaid long enough to warn: BPJS deactivates at three months."""
        return self.months_unpaid >= WARN_AFTER_MONTHS

    def status(self, today: date) -> str:
        if self.months_unpaid >= DEACTIVATE_AFTER_MONTHS:
            return "inactive at BPJS"
        if self.at_risk:
            return "at risk"
        return "overdue" if self.overdue(today) else "due"


def unpaid_bills(
    months: list[tuple[Month, int, int, int]], today: date
) -> list[Bill]:
    """The bills of months up to `today`'s month with participants not yet paid for.

    `months` holds (month, participants not yet paid for, committed JKK, committed JKM) rows,
    as the budget projection keeps them (`model.unpaid_participants`: a covered worker an
    invoice paid for the month left out is among them). The bill of today's month is
    included: it falls due next month.
    """
    this_month = Month.of(today)
    bills = []
    for month, unpaid, jkk, jkm in months:
        if month > this_month or unpaid <= 0:
            continue
        bills.append(Bill(
            month=month,
            participants=unpaid,
            jkk=jkk,
            jkm=jkm,
            due=due_date(month),
            months_unpaid=months_unpaid(month, today),
            deactivation=deactivation_date(month),
        ))
    return bills


def years_without_holidays(bills: list[Bill]) -> list[int]:
    """The years of the bills' due dates (the month after each) the ledger has no public
    holidays of: their due dates are moved past weekends only."""
    return sorted({(b.month + 1).year for b in bills} - holiday_years())
