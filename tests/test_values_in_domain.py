"""Values checked once, in the domain, wherever they enter (issue 15: references unique as a
person reads them, bad data refused the same way everywhere, re-imports that differ).

On both stores: references spelled differently are one reference, also in a ledger written
before references were normalised; a registration's fields get the same check from the file,
read in one process or in parts, and from a correction; the age range is checked on the day of
registration and again at the start of coverage; a re-import that differs says how.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import uuid5

import pytest

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.import_pool import prepare_file
from jamsos_ledger.domain.errors import DuplicateReference, InvalidInput, NotFound, RuleViolation
from jamsos_ledger.domain.model import (
    LEDGER_NAMESPACE,
    Reference,
    Registration,
    Worker,
    today,
)
from jamsos_ledger.domain.months import Month
from jamsos_ledger.files.registrations import COLUMNS, read_registrations

MOMENT = datetime(2026, 1, 5, 3, 0)
SITI = Registration("3275014203850001", "Siti Rahmawati", date(1985, 3, 2), "P", "01",
                    "Margahayu", "pedagang", 2, "Disnaker")
BUDI = Registration("3275051708900042", "Budi Santoso", date(1990, 8, 17), "L", "05",
                    "Bojong Rawalumbu", "ojol", 1, "Dinsos")


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    ledger = Ledger(store_url, actor="operator")
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10, four_eyes=False)
    ledger.register([SITI, BUDI])
    yield ledger
    ledger.close()


# -- references ------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["SP2D/01/2026 ", "sp2d/01/2026", " Sp2d/01/2026",
                                      "SP2D/01/2026\t"])
def test_a_reference_is_one_however_it_is_spelled(ledger: Ledger, spelling: str) -> None:
    ledger.enrol(niks=[SITI.nik], start=Month(2026, 1), decree="KEP/1/2026")
    ledger.pay_premiums(month=Month(2026, 1), sp2d="SP2D/01/2026")
    with pytest.raises(DuplicateReference, match="was already used"):
        ledger.pay_premiums(month=Month(2026, 2), sp2d=spelling)
    with pytest.raises(DuplicateReference, match="was already used"):
        ledger.enrol(niks=[BUDI.nik], start=Month(2026, 1), decree=spelling.replace(
            "SP2D/01", "KEP/1").replace("sp2d/01", "kep/1").replace("Sp2d/01", "Kep/1"))
    ledger.file_claim(SITI.nik, scheme="JKK", incident_date=date(2026, 1, 9),
                      reference="JKK  000123")
    with pytest.raises(DuplicateReference, match="'jkk 000123' was already used"):
        ledger.file_claim(SITI.nik, scheme="JKK", incident_date=date(2026, 1, 9),
                          reference=" jkk 000123 ")
    # The benefit of a claim is recorded under the claim as a person reads its reference.
    ledger.record_benefit(SITI.nik, reference="jkk 000123", amount=42_000_000)
    assert ledger.worker(SITI.nik).claims[0]["benefit"] == 42_000_000
    assert ledger.worker(SITI.nik).claims[0]["reference"] == "JKK 000123"  # as written


@pytest.mark.parametrize("blank", ["", "   ", "\t \n"])
def test_a_blank_reference_is_refused(ledger: Ledger, blank: str) -> None:
    with pytest.raises(InvalidInput, match="blank"):
        ledger.enrol(niks=[SITI.nik], start=Month(2026, 1), decree=blank)


def test_references_recorded_before_they_were_normalised_are_still_found(
    ledger: Ledger,
) -> None:
    """A ledger written before: ids made from the text as typed, values not normalised."""
    ledger.enrol(niks=[SITI.nik], start=Month(2026, 1), decree="KEP/1/2026")
    program, siti = ledger.program(), ledger.worker(SITI.nik)
    old_sp2d, old_claim = "SP2D/01/2026 ", "JKK-1 "
    program._premium_paid(month=Month(2026, 1), sp2d=old_sp2d, participants=1, jkk=10_000,
                          jkm=6_800, actor="old")
    siti._claim_filed(program_id=program.id, scheme="JKK", incident_date=date(2026, 1, 9),
                      reference=old_claim, actor="old")
    old_ids = [
        Reference._create(Reference.Used, id=uuid5(LEDGER_NAMESPACE, f"reference:{kind}:{v}"),
                          kind=kind, value=v, program_id=program.id, actor="old")
        for kind, v in (("sp2d", old_sp2d), ("claim", old_claim), ("decree", "KEP/OLD"))
    ]
    ledger.save(program, siti, *old_ids)
    # The same spelling finds the old id; another spelling finds the program's own payment.
    for spelling in (old_sp2d, "sp2d/01/2026"):
        with pytest.raises(DuplicateReference):
            ledger.pay_premiums(month=Month(2026, 2), sp2d=spelling)
    with pytest.raises(DuplicateReference):
        ledger.enrol(niks=[BUDI.nik], start=Month(2026, 1), decree="KEP/OLD")
    for spelling in (old_claim, "jkk-1"):
        with pytest.raises(DuplicateReference):
            ledger.file_claim(SITI.nik, scheme="JKK", incident_date=date(2026, 1, 9),
                              reference=spelling)
    # A benefit on the old claim, typed as read: recorded under its reference as stored, so
    # that replaying the history finds the claim.
    ledger.record_benefit(SITI.nik, reference="jkk-1", amount=5_000_000)
    assert ledger.worker(SITI.nik).claims[0]["benefit"] == 5_000_000
    with pytest.raises(NotFound):
        ledger.record_benefit(SITI.nik, reference="JKK-2", amount=1)


# -- one check of a registration's fields ----------------------------------------------------


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def person(born: date, serial: int = 1, name: str = "Pekerja") -> Registration:
    nik = f"327501{born.day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    return Registration(nik, name, born, "L", "01", "Margahayu", "ojol", 2, "Disnaker")


@pytest.mark.parametrize(
    ("born", "on", "problem"),
    [
        (date(2008, 3, 1), date(2026, 2, 28), "aged 17 when registered on 2026-02-28"),
        (date(2008, 3, 1), date(2026, 3, 1), None),  # 18 on the day
        # Too old for BPU coverage is checked when coverage starts, not here: a file that is
        # right today must not turn wrong next year.
        (date(1940, 3, 1), date(2026, 3, 1), None),
        (date(2090, 1, 17), date(2026, 3, 1), "birth date 2090-01-17 has not come yet"),
    ],
)
def test_a_registration_is_refused_for_a_child_or_a_birth_date_to_come(
    born: date, on: date, problem: str | None
) -> None:
    found = [why for field, why in person(born).problems(on) if field == "birth_date"]
    if problem is None:
        assert found == []
    else:
        (why,) = found
        assert problem in why


def test_the_age_range_is_checked_again_when_coverage_starts(store_url: str) -> None:
    born = years_before(today(), 64)
    ledger = Ledger(store_url, actor="operator")
    try:
        later = today().year + 3
        ledger.open_program(year=later, allocation=2_000_000_000, quota=10, four_eyes=False)
        ledger.register([person(born)])
        with pytest.raises(Exception, match=f"aged 6[67] when coverage starts in {later}-01"):
            ledger.enrol(niks=[person(born).nik], start=Month(later, 1))
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Siti\x85Rahmawati", "name holds control character 0x85"),
        ("name", "Siti\u200bRahmawati", "name holds control character 0x200B"),
        ("kelurahan", "Marga\x1bhayu", "kelurahan holds control character 0x1B"),
        ("occupation", "o" * 201, "occupation is 201 characters long"),
        ("source", " ", "source is empty"),
        ("kecamatan", "Cikarang", "'Cikarang' is not a kecamatan of the city"),
    ],
)
def test_a_correction_is_checked_as_an_import_is(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    siti = Worker.register(SITI, actor="disnaker")
    with pytest.raises(InvalidInput, match=message):
        siti.correct(field=field, value=value, reason="typo", actor="dinsos")
    assert siti.version == 1
    # The same value in a registration file: the same words, read in one process or in parts.
    row = {c: str(getattr(SITI, c)) for c in COLUMNS}
    row[field] = value
    path = tmp_path / "one.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
    alone = [str(p) for p in read_registrations(path).problems]
    assert len(alone) == 1 and alone[0].startswith(f"line 2, {field}: "), alone
    assert message in alone[0]


def test_a_file_read_in_parts_refuses_what_one_process_refuses(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(3_000):
            born = date(1970, 1, 1) + timedelta(days=i // 9000)
            name = "War\x85ga" if i == 1_500 else f"Warga {i}"
            birth = "2090-01-01" if i == 2_000 else born.isoformat()
            nik = f"3275{i % 12 + 1:02d}{born:%d%m%y}{i + 1:04d}"
            if i == 2_000:
                nik = f"3275{i % 12 + 1:02d}010190{i + 1:04d}"
            writer.writerow([nik, name, birth, "L", "01", "Margahayu", "ojol", "2", "Disnaker"])
    prepared = prepare_file(path, actor="op", timestamp=MOMENT, processes=2, parallel_from=0)
    alone = read_registrations(path)
    assert [str(p) for p in prepared.file.problems] == [str(p) for p in alone.problems] == [
        "line 1502, name: name holds control character 0x85",
        f"line 2002, birth_date: birth date 2090-01-01 has not come yet when registered on "
        f"{today().isoformat()}",
    ]


# -- a re-import that differs ----------------------------------------------------------------


def test_a_reimport_that_differs_names_the_fields_and_changes_nothing(ledger: Ledger) -> None:
    moved = Registration(SITI.nik, "Siti R.", SITI.birth_date, "P", "Bekasi Barat",
                         "Margahayu", "pedagang", 3, "Disnaker")
    before = ledger.worker(SITI.nik).version
    result = ledger.register([moved, BUDI])
    assert (result.registered, result.already) == (0, 2)
    assert result.differing == (
        ("327501********01", ("name", "kecamatan 'Bekasi Barat' (the ledger has 'Bekasi Timur')",
                              "decile 3 (the ledger has 2)")),
    )
    assert ledger.worker(SITI.nik).version == before
    # Once corrected, the same row is the ledger's: nothing differs any more.
    ledger.correct_worker(SITI.nik, field="decile", value="3", reason="DTSEN 2026-Q2")
    again = ledger.register([moved])
    assert [fields for _, fields in again.differing] == [
        ("name", "kecamatan 'Bekasi Barat' (the ledger has 'Bekasi Timur')")
    ]


def test_enrolment_by_rank_passes_over_a_worker_too_old_when_coverage_starts(
    store_url: str,
) -> None:
    """The best-ranked worker is 66 in the first covered month: `--top 1` takes the next."""
    ledger = Ledger(store_url, actor="operator")
    try:
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10, four_eyes=False)
        old = person(date(1959, 6, 1), serial=1)
        young = person(date(1990, 6, 1), serial=2)
        ledger.register([old, young])
        ledger.prioritize()
        assert ledger.worker(old.nik).rank == 1
        result = ledger.enrol(top=1, start=Month(2026, 1))
        assert result.nik_masked == [ledger.worker(young.nik).masked_nik]
        with pytest.raises(RuleViolation, match="1 more passed over for their age"):
            ledger.enrol(top=1, start=Month(2026, 2))
    finally:
        ledger.close()
