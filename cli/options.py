"""Parameter types and options shared by several commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import click

from jamsos_ledger.application.moments import parse_when
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import MAX_RUPIAH, MAX_WORKERS
from jamsos_ledger.domain.months import Month

F = TypeVar("F", bound=Callable[..., Any])

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMATS = ("table", "csv", "json")


class MonthType(click.ParamType):
    """A calendar month written `YYYY-MM`."""

    name = "YYYY-MM"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Month:
        if isinstance(value, Month):
            return value
        try:
            return Month.parse(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


class DateType(click.ParamType):
    """A day written `YYYY-MM-DD`."""

    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            day = date.fromisoformat(text) if _DATE.match(text) else None
        except ValueError:
            day = None
        if day is None:
            self.fail(f"not a date (YYYY-MM-DD): {value!r}", param, ctx)
        try:
            Month.of(day)  # every day the ledger is given falls in one of its months
        except ValueError as e:
            self.fail(f"{text}: {e}", param, ctx)
        return day


class WhenType(click.ParamType):
    """A moment: `YYYY-MM-DD` (the end of that day, Asia/Jakarta) or ISO 8601 with its offset."""

    name = "WHEN"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value))
        except InvalidInput as e:
            self.fail(str(e), param, ctx)


class NikType(click.ParamType):
    """A NIK on the command line: 16 ASCII digits (never echoed whole in the message)."""

    name = "NIK"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value).strip()
        if len(text) != 16:
            self.fail(f"a NIK has 16 digits, this one has {len(text)} characters", param, ctx)
        if not (text.isascii() and text.isdigit()):
            self.fail("a NIK is digits only", param, ctx)
        return text


def workers_range() -> click.IntRange:
    """A number of workers: 1 or more, and no more than any program could hold."""
    return click.IntRange(min=1, max=MAX_WORKERS)


MONTH = MonthType()
DATE = DateType()
NIK = NikType()
WHEN = WhenType()


def as_of_option() -> Callable[[F], F]:
    """`--as-of WHEN`: the figures as the ledger stood then, replayed from the events."""
    return click.option(
        "--as-of",
        "as_of",
        type=WHEN,
        default=None,
        help="The ledger as it stood at WHEN, replayed from the events recorded up to then: a "
        "date YYYY-MM-DD (the end of that day, Asia/Jakarta) or an ISO 8601 timestamp with its "
        "offset (2026-03-31T17:00:00+07:00).",
    )


def format_option(*choices: str) -> Callable[[F], F]:
    """`--format table|csv|json`, table by default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or FORMATS),
        default="table",
        show_default=True,
        help="table for people, csv and json (plain integers) for scripts.",
    )


def rupiah_option(name: str, help: str, *, required: bool = False) -> Callable[[F], F]:
    """An amount of whole rupiah, 1 or more."""
    return click.option(
        name,
        type=click.IntRange(min=1, max=MAX_RUPIAH),
        required=required,
        metavar="RUPIAH",
        help=help,
    )
