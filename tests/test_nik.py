"""The NIK: 16 digits read as province, regency, kecamatan, birth date (women + 40) and serial.

The workers below are Kota Bekasi's (32.75): Siti Aminah, a street vendor in Bekasi Timur born
1 January 1990, and Budi Santoso, an ojol driver in Rawalumbu born 17 August 1985.
"""

from __future__ import annotations

from datetime import date

import pytest

from jamsos_ledger.domain.nik import mask_nik, nik_problems

# 32 West Java . 75 Kota Bekasi . 01 Bekasi Timur . 41 01 90 (day 1 + 40: a woman) . 0001
SITI = "3275014101900001"
SITI_BORN = date(1990, 1, 1)
# 32 . 75 . 05 Rawalumbu . 17 08 85 (a man: the day as it is) . 0042
BUDI = "3275051708850042"
BUDI_BORN = date(1985, 8, 17)


def test_good_niks_have_no_problems() -> None:
    assert nik_problems(SITI, SITI_BORN, "P") == []
    assert nik_problems(BUDI, BUDI_BORN, "L") == []
    # Birth date and sex are optional: the form alone is checked.
    assert nik_problems(SITI, None, None) == []


def test_kabupaten_bekasi_nik_is_good_too() -> None:
    # 32.16 is Kabupaten Bekasi: the prefix is where the NIK was first issued, not domicile,
    # so a worker living in Kota Bekasi with a Kabupaten NIK is fine.
    assert nik_problems("3216011708850001", BUDI_BORN, "L") == []


@pytest.mark.parametrize(
    "nik",
    [
        "327501410190001",  # 15 digits
        "32750141019000011",  # 17 digits
    ],
)
def test_a_nik_has_sixteen_digits(nik: str) -> None:
    (problem,) = nik_problems(nik, None, None)
    assert "16 digits" in problem
    assert f"has {len(nik)} characters" in problem


def test_an_empty_nik_is_said_to_be_empty() -> None:
    """Not "this one has 0 characters": an empty cell is named as such."""
    assert nik_problems("", None, None) == ["the NIK is empty: a NIK has 16 digits"]


@pytest.mark.parametrize(
    "nik",
    [
        "32750141019O0001",  # a letter O for a zero
        "3275 14101900001",
        "3275014101900-01",
        "３２75014101900001",  # full-width digits are digits to str.isdigit, not to a NIK
    ],
)
def test_a_nik_is_ascii_digits_only(nik: str) -> None:
    assert len(nik) == 16
    (problem,) = nik_problems(nik, None, None)
    assert problem.startswith("NIK must be digits only, not ")
    assert nik not in problem  # never the whole NIK in a message


@pytest.mark.parametrize(
    ("nik", "words"),
    [
        ("0075014101900001", "province code 00"),
        ("1075014101900001", "province code 10"),  # 11 (Aceh) is the first province
        ("3200014101900001", "regency/kecamatan code 0001"),
        ("3275004101900001", "regency/kecamatan code 7500"),
    ],
)
def test_zero_codes_are_refused(nik: str, words: str) -> None:
    (problem,) = nik_problems(nik, None, None)
    assert words in problem


@pytest.mark.parametrize(
    "date_part",
    [
        "000190",  # day 0
        "320190",  # day 32
        "400190",  # day 40: neither a man's day (1-31) nor a woman's (41-71)
        "720190",  # a woman's day 72 = 32
        "010090",  # month 0
        "011390",  # month 13
        "310490",  # 31 April
        "300290",  # 30 February
        "710290",  # a woman's 31 February (71 - 40 = 31)
    ],
)
def test_impossible_date_part_is_refused(date_part: str) -> None:
    nik = f"327501{date_part}0001"
    (problem,) = nik_problems(nik, None, None)
    assert f"date part {date_part} is not a date" in problem


@pytest.mark.parametrize("date_part", ["290200", "690296", "310190", "711290", "300490"])
def test_possible_date_parts_pass(date_part: str) -> None:
    # 29 February is possible: YY does not say the century, 2000 and 1996 were leap years.
    assert nik_problems(f"327501{date_part}0001", None, None) == []


def test_serial_0000_is_refused() -> None:
    assert nik_problems("3275014101900000", None, None) == ["NIK serial 0000 is not valid"]


def test_every_form_problem_is_reported_at_once() -> None:
    # Province 00, kecamatan 00, month 13, serial 0000: four problems, one row of the import.
    problems = nik_problems("0075001713900000", None, None)
    assert len(problems) == 4


def test_womens_day_is_plus_forty() -> None:
    # Siti, born on the 1st: her NIK says 41. Dewi Lestari, born 31 December 1999: 71.
    assert nik_problems("3275017112990007", date(1999, 12, 31), "P") == []
    # The same date part read as a man's is refused: 71 is no day of a man's NIK.
    problems = nik_problems("3275017112990007", date(1999, 12, 31), "L")
    assert problems == ["NIK date part 71 says sex P (day + 40), the row says L"]


def test_disagreement_with_the_birth_date_is_refused() -> None:
    # Siti's NIK says 1 January (19)90: another day, month or year disagrees.
    for born in (date(1990, 1, 2), date(1990, 2, 1), date(1991, 1, 1)):
        (problem,) = nik_problems(SITI, born, "P")
        assert problem == (
            f"NIK date part 410190 disagrees with birth date {born.isoformat()}"
        )


def test_disagreement_with_sex_is_refused() -> None:
    # Budi's day 17 says a man; a row saying P disagrees. Siti's 41 says a woman.
    assert nik_problems(BUDI, BUDI_BORN, "P") == [
        "NIK date part 17 says sex L, the row says P"
    ]
    assert nik_problems(SITI, SITI_BORN, "L") == [
        "NIK date part 41 says sex P (day + 40), the row says L"
    ]


def test_an_unknown_sex_is_left_to_the_registration_check() -> None:
    # Only L and P are compared with the NIK; "X" is refused by Registration.problems.
    assert nik_problems(SITI, SITI_BORN, "X") == []


def test_mask_hides_the_birth_date_and_most_of_the_serial() -> None:
    # 327501 stays (where it was issued); 410190 and the first two serial digits go.
    assert mask_nik(SITI) == "327501********01"
    assert mask_nik(BUDI) == "327505********42"
    assert len(mask_nik(SITI)) == 16
    assert "410190" not in mask_nik(SITI)


def test_mask_of_a_malformed_nik_shows_nothing() -> None:
    assert mask_nik("32750141019") == "*" * 11
    assert mask_nik("") == ""
