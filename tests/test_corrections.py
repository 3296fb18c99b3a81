"""Corrections: a registration is never edited; a correction is a new event naming what it corrects.

DTSEN is released quarterly: Ahmad, registered in decile 5, is found in decile 2 in the next
release, and Eko, registered in decile 6 (not eligible), in decile 4.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from click.testing import CliRunner

from jamsos_ledger.application import Ledger
from jamsos_ledger.cli import main
from jamsos_ledger.domain.errors import InvalidInput, RuleViolation
from jamsos_ledger.domain.model import Registration, Worker
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections.reporting import quota_groups


def person(nik: str, name: str, born: date, sex: str, decile: int) -> Registration:
    return Registration(nik, name, born, sex, "05", "Pengasinan", "ojol", decile, "Disnaker")


BUDI = person("3275051708850001", "Budi Santoso", date(1985, 8, 17), "L", 3)
AHMAD = person("3275050503780003", "Ahmad Fauzi", date(1978, 3, 5), "L", 5)
EKO = person("3275052006820005", "Eko Prasetyo", date(1982, 6, 20), "L", 6)


def test_a_correction_names_the_value_and_the_event_it_replaces() -> None:
    ahmad = Worker.register(AHMAD, actor="disnaker")
    ahmad.prioritize(ruleset_name="dtsen-desil-v1", rank=1, tier=2, actor="disnaker")
    ahmad.correct(field="decile", value="2", reason="DTSEN 2026-Q2", actor="dinsos")
    ahmad.correct(field="kelurahan", value="Bojong Menteng", reason="moved house", actor="dinsos")
    ahmad.correct(field="decile", value="3", reason="DTSEN 2026-Q3", actor="dinsos")
    events = ahmad.collect_events()
    corrections = [e for e in events if isinstance(e, Worker.Corrected)]
    # Versions: 1 registered, 2 prioritized, 3 decile 5->2, 4 kelurahan, 5 decile 2->3.
    assert [(e.field, e.previous, e.value, e.corrects) for e in corrections] == [
        ("decile", 5, 2, 1),
        ("kelurahan", "Pengasinan", "Bojong Menteng", 1),
        ("decile", 2, 3, 3),
    ]
    assert [e.actor for e in corrections] == ["dinsos"] * 3
    # The rank came from decile 5: it is void until the next prioritisation.
    assert (ahmad.decile, ahmad.rank, ahmad.tier, ahmad.ruleset) == (3, None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "reason", "error", "message"),
    [
        ("nik", "3275050503780004", "typo", InvalidInput, "NIK, birth date and sex identify"),
        ("birth_date", "1978-03-06", "typo", InvalidInput, "field must be one of"),
        ("decile", "11", "DTSEN", InvalidInput, "DTSEN decile must be 1-10, not '11'"),
        ("decile", "dua", "DTSEN", InvalidInput, "DTSEN decile must be 1-10"),
        ("kecamatan", "Cikarang", "moved", InvalidInput, "'Cikarang' is not a kecamatan"),
        ("name", "  ", "typo", InvalidInput, "name is empty"),
        ("decile", "4", " ", InvalidInput, "needs a reason"),
        ("decile", "5", "DTSEN", RuleViolation, "is already 5: nothing to correct"),
    ],
)
def test_corrections_are_checked(
    field: str, value: str, reason: str, error: type[Exception], message: str
) -> None:
    ahmad = Worker.register(AHMAD, actor="disnaker")
    with pytest.raises(error, match=message):
        ahmad.correct(field=field, value=value, reason=reason, actor="dinsos")
    assert ahmad.version == 1


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    ledger = Ledger(store_url, actor="disnaker")
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, four_eyes=False)
    ledger.register([BUDI, AHMAD, EKO])
    ledger.prioritize()
    yield ledger
    ledger.close()


def test_a_new_decile_reaches_the_ranking_and_the_reports(ledger: Ledger) -> None:
    program = ledger.program()
    # Before: Budi (decile 3) first, Ahmad (decile 5) second, Eko (decile 6) not ranked.
    assert [(w.nik, w.rank) for w in map(ledger.worker, (BUDI.nik, AHMAD.nik, EKO.nik))] == [
        (BUDI.nik, 1), (AHMAD.nik, 2), (EKO.nik, None),
    ]
    ledger.correct_worker(AHMAD.nik, field="decile", value="2", reason="DTSEN 2026-Q2")
    ledger.correct_worker(EKO.nik, field="decile", value="4", reason="DTSEN 2026-Q2")
    # Ahmad's rank is void: --top cannot pick him on a rank computed from decile 5.
    assert ledger.views.candidates(program.id, program.ruleset, 10, "2026-01", "2026-12") == [
        ledger.worker(BUDI.nik).id
    ]
    by_decile = {
        r["decile"]: r["registered"] for r in quota_groups(ledger.views, program.id, "decile")
    }
    assert by_decile == {2: 1, 3: 1, 4: 1}
    # Re-ranked: Ahmad (decile 2) first, Budi (3), then Eko (4, second tier).
    assert ledger.prioritize() == (3, 3)
    assert [ledger.worker(r.nik).rank for r in (AHMAD, BUDI, EKO)] == [1, 2, 3]
    result = ledger.enrol(start=Month(2026, 1), top=3, decree="KEP-1")
    assert result.workers == 3
    # Rebuilt from the events alone, the corrected deciles stand.
    before = quota_groups(ledger.views, program.id, "decile")
    ledger.views.rebuild()
    assert quota_groups(ledger.views, program.id, "decile") == before


def test_workers_correct_on_the_command_line(store_url: str) -> None:
    runner = CliRunner()
    base = ["--store", store_url, "--actor", "dinsos.operator"]
    opened = runner.invoke(main, [*base, "program", "open", "--one-key", "--year", "2026",
                                  "--allocation", "2000000000", "--quota", "10000"])
    assert opened.exit_code == 0, opened.output
    ledger = Ledger(store_url, actor="disnaker")
    ledger.register([AHMAD])
    ledger.close()
    result = runner.invoke(main, [*base, "workers", "correct", AHMAD.nik, "--field", "decile",
                                  "--value", "2", "--reason", "DTSEN 2026-Q2"])
    assert result.exit_code == 0, result.output
    assert "Corrected decile of 327505********03 to 2 (DTSEN 2026-Q2)" in result.output
    assert AHMAD.nik not in result.output
    shown = runner.invoke(main, [*base, "workers", "show", AHMAD.nik, "--format", "json"])
    assert json.loads(shown.output)["decile"] == 2
    again = runner.invoke(main, [*base, "workers", "correct", AHMAD.nik, "--field", "decile",
                                 "--value", "2", "--reason", "DTSEN 2026-Q2"])
    assert again.exit_code == 1
    assert "nothing to correct" in again.output
    bad = runner.invoke(main, [*base, "workers", "correct", AHMAD.nik, "--field", "nik",
                               "--value", "1", "--reason", "x"])
    assert bad.exit_code == 2
