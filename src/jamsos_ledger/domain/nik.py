"""The NIK (Nomor Induk Kependudukan), the national identity number, and its checks.

Structure (Permendagri 73/2022 on NIK): province (2) + regency/city (2) + kecamatan (2)
+ birth date DDMMYY, women's day plus 40 + serial (4). The prefix is where the NIK was first
issued, not where the person lives now, so it is checked for form, never against domicile.
"""

from __future__ import annotations

from datetime import date

NIK_LENGTH = 16
FEMALE_DAY_OFFSET = 40
# Longest day of each month; February 29 since YY does not say whether the year was a leap year.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def nik_problems(nik: str, birth_date: date | None, sex: str | None) -> list[str]:
    """Everything wrong with a NIK, checked against the birth date and sex given beside it.

    Returns an empty list for a good NIK; returns reasons rather than raising so that an
    import can report every problem of every row at once.
    """
    # The NIK itself is never repeated in a reason: messages and logs show no whole NIK, and a
    # mistyped NIK is still someone's (UU 27/2022). The line and the field find the row.
    if not nik:
        return [f"the NIK is empty: a NIK has {NIK_LENGTH} digits"]
    if len(nik) != NIK_LENGTH:
        return [f"NIK must have {NIK_LENGTH} digits, this one has {len(nik)} characters"]
    if not nik.isascii() or not nik.isdigit():
        position, char = next((i, c) for i, c in enumerate(nik, 1) if c not in "0123456789")
        return [f"NIK must be digits only, not {char!r} (character {position})"]
    problems = []
    province, regency, kecamatan = int(nik[0:2]), int(nik[2:4]), int(nik[4:6])
    if province < 11:
        problems.append(f"NIK province code {nik[0:2]} does not exist")
    if regency == 0 or kecamatan == 0:
        problems.append(f"NIK regency/kecamatan code {nik[2:6]} is not valid")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day > FEMALE_DAY_OFFSET
    real_day = day - FEMALE_DAY_OFFSET if female else day
    if not (1 <= month <= 12 and 1 <= real_day <= _MONTH_DAYS[month - 1]):
        problems.append(f"NIK date part {nik[6:12]} is not a date (DDMMYY, women +40)")
    if int(nik[12:16]) == 0:
        problems.append("NIK serial 0000 is not valid")
    if problems:
        return problems
    if birth_date is not None and (real_day, month, year) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        problems.append(
            f"NIK date part {nik[6:12]} disagrees with birth date {birth_date.isoformat()}"
        )
    if sex is not None and sex in ("L", "P") and (sex == "P") != female:
        expected = "P (day + 40)" if female else "L"
        problems.append(f"NIK date part {nik[6:8]} says sex {expected}, the row says {sex}")
    return problems


def mask_nik(nik: str) -> str:
    """Hide the birth date and most of the serial: reports and logs never show a whole NIK
    (UU 27/2022); the region and the last two digits let an operator tell two rows apart."""
    if len(nik) != NIK_LENGTH:
        return "*" * len(nik)
    return nik[:6] + "*" * 8 + nik[14:]
