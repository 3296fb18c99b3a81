"""Moments auditors name (WHEN): read from what they type, written back as they read it.

A date names the end of that day in Asia/Jakarta, the city's time; a timestamp carries its own
UTC offset. Events are stamped in UTC, so a moment must be a moment of the calendar in both.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.months import JAKARTA, date_problem

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_END_OF_DAY = time(23, 59, 59, 999_999)


def parse_when(text: str) -> datetime:
    """A moment from `YYYY-MM-DD` (the end of that day in Asia/Jakarta) or an ISO timestamp
    with its UTC offset (`2026-03-31T17:00:00+07:00`, `...Z`)."""
    value = text.strip()
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{text!r} is not a date of the calendar (YYYY-MM-DD)") from None
        return _in_calendar(text, datetime.combine(day, _END_OF_DAY, tzinfo=JAKARTA))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is neither a date (YYYY-MM-DD, the end of that day in Asia/Jakarta) nor "
            "an ISO 8601 timestamp with its offset (2026-03-31T17:00:00+07:00)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{text!r} has no UTC offset: write the moment with one, e.g. {value}+07:00 "
            "(Asia/Jakarta) or a date YYYY-MM-DD"
        )
    try:
        # Events are stamped in UTC and shown in Asia/Jakarta: a moment must be a moment of
        # the calendar in both (0001-01-01T00:00+14:00 is in no year of UTC).
        moment.astimezone(UTC), moment.astimezone(JAKARTA)
    except (OverflowError, ValueError):
        raise InvalidInput(
            f"{text!r} is outside the calendar (years 1 to 9999 in UTC and in Asia/Jakarta)"
        ) from None
    return _in_calendar(text, moment)


def _in_calendar(text: str, moment: datetime) -> datetime:
    """The moment, refused when its day (in Asia/Jakarta) is outside the ledger's calendar
    (`months.CALENDAR_YEARS`), as every date the ledger is given is."""
    outside = date_problem(moment.astimezone(JAKARTA).date())
    if outside:
        raise InvalidInput(f"{text!r}: {outside}")
    return moment


def format_when(when: datetime) -> str:
    """A moment as auditors read it: a date stays a date (the end of the day), else ISO 8601."""
    local = when.astimezone(JAKARTA)
    if local.timetz().replace(tzinfo=None) == _END_OF_DAY:
        return f"{local.date().isoformat()} (end of day, Asia/Jakarta)"
    return when.isoformat()


def as_of_title(when: datetime | None) -> str:
    """The words a table title gets for a moment: `` as of ...``, or nothing for now."""
    return "" if when is None else f" as of {format_when(when)}"
