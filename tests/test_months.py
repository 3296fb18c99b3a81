"""Months: the unit of coverage and billing, counted without days (Permenaker 5/2021)."""

from __future__ import annotations

from datetime import date

import pytest

from jamsos_ledger.domain.months import Month, months_between

JAN, FEB, DEC = Month(2026, 1), Month(2026, 2), Month(2026, 12)
# The SIGAP bridge: November-December 2025, paid from the 2025 budget.
NOV_2025, DEC_2025 = Month(2025, 11), Month(2025, 12)


def test_parse_and_print() -> None:
    assert Month.parse("2026-01") == JAN
    assert Month.parse(" 2026-12\n") == DEC
    assert str(Month(2026, 2)) == "2026-02"
    assert str(Month.parse("2025-11")) == "2025-11"


@pytest.mark.parametrize(
    "text", ["2026-1", "2026/01", "26-01", "2026-01-15", "January 2026", "", "2026-13", "2026-00"]
)
def test_parse_refuses_what_is_not_a_month(text: str) -> None:
    with pytest.raises(ValueError):
        Month.parse(text)


def test_a_month_is_1_to_12_of_a_plausible_year() -> None:
    with pytest.raises(ValueError, match="month must be 1-12, not 13"):
        Month(2026, 13)
    with pytest.raises(ValueError, match="month must be 1-12, not 0"):
        Month(2026, 0)
    with pytest.raises(ValueError, match="year must be"):
        Month(26, 1)


def test_month_of_a_date() -> None:
    # Siti's accident on 10 April 2026 falls in April.
    assert Month.of(date(2026, 4, 10)) == Month(2026, 4)
    assert Month(2026, 4).first_day() == date(2026, 4, 1)


def test_adding_months_crosses_years() -> None:
    assert JAN + 11 == DEC
    assert DEC + 1 == Month(2027, 1)
    assert NOV_2025 + 2 == JAN
    assert JAN + (-1) == DEC_2025
    assert DEC + 0 == DEC


def test_differences_count_months() -> None:
    # A full year is 12 months: December - January = 11, both included = 12.
    assert DEC - JAN == 11
    # Coverage from February is 11 months: December - February + 1.
    assert DEC - FEB + 1 == 11
    assert JAN - DEC_2025 == 1
    assert JAN - DEC == -11
    assert Month.from_index(JAN.index) == JAN
    assert (JAN + 25).index - JAN.index == 25


def test_months_are_ordered() -> None:
    assert NOV_2025 < DEC_2025 < JAN < FEB < DEC
    assert sorted([DEC, JAN, NOV_2025, FEB]) == [NOV_2025, JAN, FEB, DEC]
    assert max(JAN, DEC) == DEC


def test_months_between_includes_both_ends() -> None:
    year = months_between(JAN, DEC)
    assert len(year) == 12
    assert year[0] == JAN and year[-1] == DEC
    assert [str(m) for m in months_between(NOV_2025, FEB)] == [
        "2025-11", "2025-12", "2026-01", "2026-02"
    ]
    assert months_between(FEB, FEB) == [FEB]
    assert months_between(FEB, JAN) == []


def test_months_are_values() -> None:
    assert Month(2026, 1) == Month.parse("2026-01")
    assert len({Month(2026, 1), Month.parse("2026-01"), FEB}) == 2
    with pytest.raises(AttributeError):
        JAN.month = 2  # type: ignore[misc]


def test_every_date_lies_in_the_ledgers_calendar() -> None:
    """The bound every reader of dates asks (`date_problem`), the same as a month's."""
    from jamsos_ledger.domain.months import CALENDAR_YEARS, date_problem

    assert date_problem(date(1900, 1, 1)) is None and date_problem(date(9999, 12, 31)) is None
    for day in (date(1899, 12, 31), date(1850, 1, 1), date(1, 1, 1)):
        said = date_problem(day)
        assert said is not None and said.startswith(f"{day.isoformat()} is outside the ledger's")
        with pytest.raises(ValueError):
            Month.of(day)
    assert (CALENDAR_YEARS.start, CALENDAR_YEARS.stop) == (1900, 10_000)


@pytest.mark.parametrize(("release", "today", "refused"), [
    ("2026-Q1", date(2026, 3, 31), False),
    ("2026-Q2", date(2026, 3, 31), True),  # the quarter begins tomorrow
    ("2026-Q2", date(2026, 4, 1), False),
    ("2026-Q4", date(2026, 12, 31), False),
    ("2027-Q1", date(2026, 12, 31), True),
    ("2099-Q1", date(2026, 12, 6), True),
    ("2014-Q1", date(2026, 12, 6), False),
])
def test_a_dtsen_release_of_a_quarter_not_begun_is_refused(
    release: str, today: date, refused: bool
) -> None:
    from jamsos_ledger.domain.registers import release_problem

    said = release_problem(release, today)
    assert (said is not None) == refused, said
    if refused:
        assert said is not None and "has not come yet" in said and today.isoformat() in said
