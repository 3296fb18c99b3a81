"""Parameter types and options shared by several commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from jamsos_ledger.months import Month

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
        if _DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.fail(f"not a date (YYYY-MM-DD): {value!r}", param, ctx)


MONTH = MonthType()
DATE = DateType()


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
        name, type=click.IntRange(min=1), required=required, metavar="RUPIAH", help=help
    )
