"""Workers on their own: registration checks, ranks, claims; and references used once."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from jamsos_ledger.domain.errors import DuplicateReference, InvalidInput, RuleViolation
from jamsos_ledger.domain.model import (
    Program,
    Reference,
    Registration,
    Worker,
    duplicate_reference,
    reference_id,
    worker_id,
)
from jamsos_ledger.domain.months import Month

JAN, MAR, APR, MAY, DEC = (Month(2026, m) for m in (1, 3, 4, 5, 12))

# Siti Aminah, street vendor in Bekasi Timur, born 1 January 1990: NIK day 1 + 40 = 41.
SITI = Registration(
    nik="3275014101900001",
    name="Siti Aminah",
    birth_date=date(1990, 1, 1),
    sex="P",
    kecamatan="01",
    kelurahan=" Aren Jaya ",
    occupation="pedagang kaki lima",
    decile=1,
    source="Disnaker",
)


def open_2026() -> Program:
    return Program.open(
        code="bekasi-2026", name="", year=2026, start=JAN, end=DEC,
        allocation=2_000_000_000, quota=10_000, jkk_monthly=10_000, jkm_monthly=6_800,
        ruleset_name="dtsen-desil-v1", actor="disnaker",
    )


def test_a_good_registration_has_no_problems() -> None:
    assert SITI.problems() == []


def test_register_normalises_the_kecamatan_and_trims_text() -> None:
    siti = Worker.register(SITI, actor="disnaker")
    assert siti.id == worker_id("3275014101900001")
    assert siti.kecamatan == "Bekasi Timur"  # from code 01
    assert siti.kelurahan == "Aren Jaya"
    assert (siti.rank, siti.tier, siti.ruleset) == (None, None, None)
    assert siti.coverages == {} and siti.claims == []
    assert siti.masked_nik == "327501********01"
    assert isinstance(siti.pending_events[0], Worker.Registered)


def test_the_same_nik_is_the_same_worker_id() -> None:
    # One worker per NIK, ever: the id is derived from the NIK, so the store refuses a second.
    again = dataclasses.replace(SITI, name="Siti Aminah binti Ahmad")
    assert Worker.register(SITI, actor="a").id == Worker.register(again, actor="b").id


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"nik": "3275014101900000"}, "nik", "serial 0000"),
        ({"birth_date": date(1990, 1, 2)}, "nik", "disagrees with birth date 1990-01-02"),
        ({"sex": "L"}, "nik", "says sex P (day + 40), the row says L"),
        ({"sex": "X"}, "sex", "sex must be L or P, not 'X'"),
        ({"name": "  "}, "name", "name is empty"),
        ({"kecamatan": "Cikarang"}, "kecamatan", "'Cikarang' is not a kecamatan of the city"),
        ({"kecamatan": "13"}, "kecamatan", "'13' is not a kecamatan"),
        ({"decile": 0}, "decile", "DTSEN decile must be 1-10, not 0"),
        ({"decile": 11}, "decile", "DTSEN decile must be 1-10, not 11"),
        ({"source": ""}, "source", "source is empty"),
    ],
)
def test_registration_problems(change: dict[str, object], field: str, words: str) -> None:
    bad = dataclasses.replace(SITI, **change)  # type: ignore[arg-type]
    problems = bad.problems()
    assert [f for f, _ in problems] == [field]
    assert words in problems[0][1]
    with pytest.raises(InvalidInput, match=field):
        Worker.register(bad, actor="disnaker")


@pytest.mark.parametrize("kecamatan", ["Bekasi Timur", "bekasi timur", "BekasiTimur", "1", "01"])
def test_kecamatan_by_name_or_code(kecamatan: str) -> None:
    worker = Worker.register(dataclasses.replace(SITI, kecamatan=kecamatan), actor="disnaker")
    assert worker.kecamatan == "Bekasi Timur"


def test_prioritize_records_rank_and_tier_once() -> None:
    siti = Worker.register(SITI, actor="disnaker")
    siti.prioritize(ruleset_name="dtsen-desil-v1", rank=1, tier=1, actor="disnaker")
    assert (siti.ruleset, siti.rank, siti.tier) == ("dtsen-desil-v1", 1, 1)
    ranked = siti.pending_events[-1]
    assert isinstance(ranked, Worker.Prioritized) and ranked.decile == 1
    version = siti.version
    siti.prioritize(ruleset_name="dtsen-desil-v1", rank=1, tier=1, actor="disnaker")
    assert siti.version == version  # the same rank again records nothing
    siti.prioritize(ruleset_name="dtsen-desil-v1", rank=2, tier=1, actor="disnaker")
    assert siti.version == version + 1  # a re-ranking is an event


def test_prioritize_refuses_a_rank_that_does_not_fit_the_rule() -> None:
    siti = Worker.register(SITI, actor="disnaker")
    with pytest.raises(InvalidInput, match="rank must be 1 or more"):
        siti.prioritize(ruleset_name="dtsen-desil-v1", rank=0, tier=1, actor="disnaker")
    with pytest.raises(RuleViolation, match="decile 1 is not in tier 2"):
        siti.prioritize(ruleset_name="dtsen-desil-v1", rank=1, tier=2, actor="disnaker")
    assert siti.rank is None


def test_a_claim_is_recorded_for_a_covered_month_and_refused_otherwise() -> None:
    program = open_2026()
    siti = Worker.register(SITI, actor="disnaker")
    with pytest.raises(RuleViolation, match=r"not covered in 2026-03 \(coverage: never enrolled\)"):
        siti.file_claim(scheme="JKK", incident_date=date(2026, 3, 2), reference="JKK-1",
                        actor="bpjs")
    program.enrol([siti], start=MAR, decree=None, actor="disnaker")
    # Siti dies on 10 April 2026: her coverage ends with April.
    program.end_coverage(siti, month=APR, reason="died", actor="disnaker")

    # A work accident on 2 March and the death on 10 April are covered...
    assert siti.file_claim(
        scheme="JKK", incident_date=date(2026, 3, 2), reference="JKK/2026/0001", actor="bpjs"
    ) == program.id
    assert siti.file_claim(
        scheme="JKM", incident_date=date(2026, 4, 10), reference="JKM/2026/0001", actor="bpjs"
    ) == program.id
    assert [c["reference"] for c in siti.claims] == ["JKK/2026/0001", "JKM/2026/0001"]
    filed = siti.pending_events[-1]
    assert isinstance(filed, Worker.ClaimFiled) and filed.scheme == "JKM"

    # ...February (before the start) and May (after the end) are not.
    for day in (date(2026, 2, 28), date(2026, 5, 1)):
        with pytest.raises(RuleViolation, match=r"\(coverage: 2026-03 to 2026-04\)"):
            siti.file_claim(scheme="JKK", incident_date=day, reference="JKK-X", actor="bpjs")
    assert len(siti.claims) == 2
    # Claims never touch the budget: BPJS pays benefits.
    assert program.committed.total == 2 * 16_800


def test_a_claim_needs_a_scheme_and_a_reference() -> None:
    siti = Worker.register(SITI, actor="disnaker")
    with pytest.raises(InvalidInput, match="scheme must be JKK or JKM, not 'JHT'"):
        siti.file_claim(scheme="JHT", incident_date=date(2026, 3, 2), reference="R",
                        actor="bpjs")
    with pytest.raises(InvalidInput, match="needs its BPJS reference"):
        siti.file_claim(scheme="JKK", incident_date=date(2026, 3, 2), reference=" ",
                        actor="bpjs")


def test_references_are_identified_by_kind_and_value() -> None:
    decree = Reference(kind="decree", value="KEP-1", program_id=None, actor="disnaker")
    assert decree.id == reference_id("decree", "KEP-1")
    assert reference_id("decree", "KEP-1") != reference_id("sp2d", "KEP-1")
    refusal = duplicate_reference("sp2d", "SP2D-001")
    assert isinstance(refusal, DuplicateReference)
    assert str(refusal) == (
        "SP2D number 'SP2D-001' was already used in this ledger; nothing was written"
    )
