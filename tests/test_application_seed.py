"""The seed at full size, on each store: Kota Bekasi's 2026 year, from import to December.

10.500 registrations, Rp 2.000.000.000, quota 10.000, Rp 16.800 a month (JKK 10.000 + JKM 6.800).

The registrations are generated so that every figure can be worked out by hand:
- row i lives in kecamatan block i // 875 + 1 (875 rows in each of the 12 kecamatan);
- rows 0-10.199 have decile i % 5 + 1 (2.040 each of deciles 1-5), rows 10.200-10.499 decile
  6 + i % 5 (60 each of deciles 6-10, not eligible);
- occupation i % 3: ojol, pedagang kaki lima, buruh harian (3.500 each).
Row 0 is Siti Aminah (decile 1, ojol, Bekasi Timur), row 1 Budi Santoso (decile 2), row 10.200
Eka Prasetya (decile 6).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from jamsos_ledger.application import Ledger, RegisterResult
from jamsos_ledger.domain.errors import OverBudget, RuleViolation
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.regions import KOTA_BEKASI_KECAMATAN
from jamsos_ledger.projections import GROUPINGS
from jamsos_ledger.projections.reporting import quota_groups

pytestmark = pytest.mark.slow

JAN, FEB, APR, MAY, JUL, DEC = (Month(2026, m) for m in (1, 2, 4, 5, 7, 12))
YEAR_2026 = [Month(2026, m) for m in range(1, 13)]
OCCUPATIONS = ("ojol", "pedagang kaki lima", "buruh harian")
NAMES = {0: "Siti Aminah", 1: "Budi Santoso", 10_200: "Eka Prasetya"}


def seed_registrations() -> Iterator[Registration]:
    for i in range(10_500):
        block, serial = divmod(i, 875)
        kecamatan = f"{block + 1:02d}"
        decile = i % 5 + 1 if i < 10_200 else 6 + i % 5
        born = date(1962 + i % 40, i % 12 + 1, i % 28 + 1)  # 18 to 65 in 2026
        sex = "L" if i % 2 else "P"
        day = born.day + (40 if sex == "P" else 0)
        nik = f"3275{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial + 1:04d}"
        yield Registration(
            nik, NAMES.get(i, f"Pekerja {i}"), born, sex, kecamatan, "-",
            OCCUPATIONS[i % 3], decile, "Disnaker" if i % 4 else "Dinsos",
        )


SEED = list(seed_registrations())
SITI, BUDI, EKA = SEED[0], SEED[1], SEED[10_200]


def reports(ledger: Ledger, program_id: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "programs": ledger.views.programs(),
        "budget": ledger.views.budget(program_id),
        "budget_months": ledger.views.budget_months(program_id),
        "payments": ledger.views.payments(program_id),
        "quota": ledger.views.quota(program_id),
        "claims": ledger.views.claims(program_id),
        "all_claims": ledger.views.claims(),
    }
    for by in GROUPINGS:
        found[f"quota by {by}"] = quota_groups(ledger.views, program_id, by)
    return found


def by_group(rows: list[dict[str, Any]], by: str) -> dict[Any, tuple[int, int, int]]:
    return {r[by]: (r["registered"], r["enrolled"], r["ended"]) for r in rows}


def test_the_seed_year_end_to_end(store_url: str) -> None:
    ledger = Ledger(store_url, actor="operator-disnaker")
    program = ledger.open_program(
        year=2026, allocation=2_000_000_000, quota=10_000, name="Pekerja Rentan 2026",
        four_eyes=False,
    )
    pid = program.id

    # -- import and rank ------------------------------------------------------------------
    assert ledger.register(SEED) == RegisterResult(registered=10_500, already=0)
    # Deciles 1-5 are eligible: 5 x 2.040 = 10.200 ranked.
    assert ledger.prioritize() == (10_200, 10_200)
    # Decile first, then registration order: Siti is the first decile 1; Budi the first
    # decile 2, after the 2.040 of decile 1; Eka is not ranked.
    assert ledger.worker(SITI.nik).rank == 1
    assert ledger.worker(BUDI.nik).rank == 2_041
    assert ledger.worker(EKA.nik).rank is None

    # -- 10.000 for the full year do not fit ----------------------------------------------
    before = ledger.recorder.max_notification_id()
    with pytest.raises(OverBudget) as refused:
        ledger.enrol(start=JAN, top=10_000, decree="KEP-WALIKOTA/2026/1")
    # 10.000 x 12 x 16.800 = 2.016.000.000: 16.000.000 over; 2.000.000.000 // 201.600 = 9.920.
    message = str(refused.value)
    assert "Rp 2.016.000.000" in message
    assert "Rp 16.000.000 is missing" in message
    assert "9.920 workers fit from 2026-01" in message
    assert ledger.recorder.max_notification_id() == before
    # From February 10.000 would fit (10.000 x 11 x 16.800 = 1.848.000.000).
    assert ledger.capacity(JAN) == 9_920
    assert ledger.capacity(FEB) == 10_000

    # -- the decree: the best-ranked 9.920 --------------------------------------------------
    enrolled = ledger.enrol(start=JAN, top=9_920, decree="KEP-WALIKOTA/2026/1")
    assert enrolled.workers == 9_920
    assert enrolled.committed == 1_999_872_000  # 9.920 x 201.600
    assert enrolled.nik_masked[0] == mask_nik(SITI.nik)
    budget = ledger.views.budget(pid)
    assert (budget["allocation"], budget["committed"], budget["paid"], budget["available"]) == (
        2_000_000_000, 1_999_872_000, 0, 128_000
    )
    # JKK 9.920 x 12 x 10.000 = 1.190.400.000; JKM 9.920 x 12 x 6.800 = 809.472.000.
    assert (budget["committed_jkk"], budget["committed_jkm"]) == (1_190_400_000, 809_472_000)
    # Money is spent: Rp 128.000 covers nobody for a year, 7 for December (7 x 16.800).
    assert ledger.capacity(JAN) == 0
    assert ledger.capacity(DEC) == 7

    # -- January-June paid, 9.920 x 16.800 = 166.656.000 a month ------------------------------
    for n, month in enumerate(YEAR_2026[:6], start=1):
        amount = 166_656_000 if n == 1 else None
        assert ledger.pay_premiums(month=month, sp2d=f"SP2D-{n:04d}/BPKAD/2026",
                                   amount=amount) == (9_920, 166_656_000)

    # -- Siti dies on 10 April; Budi had an accident on 2 March ------------------------------
    ledger.file_claim(BUDI.nik, scheme="JKK", incident_date=date(2026, 3, 2),
                      reference="JKK/3275/2026/0001")
    program = ledger.end_coverage(SITI.nik, month=APR, reason="died")
    # May and June were paid for her: 2 x 16.800 = 33.600 overpaid.
    # July-December are released: 6 x 16.800 = 100.800.
    assert program.overpaid.total == 33_600
    assert program.available == 128_000 + 100_800
    ledger.file_claim(SITI.nik, scheme="JKM", incident_date=date(2026, 4, 10),
                      reference="JKM/3275/2026/0001")
    with pytest.raises(RuleViolation, match="not covered in 2026-05"):
        ledger.file_claim(EKA.nik, scheme="JKK", incident_date=date(2026, 5, 5),
                          reference="JKK/3275/2026/0002")

    # -- July-December paid for the 9.919 left: 9.919 x 16.800 = 166.639.200 -----------------
    for n, month in enumerate(YEAR_2026[6:], start=7):
        assert ledger.pay_premiums(month=month, sp2d=f"SP2D-{n:04d}/BPKAD/2026") == (
            9_919, 166_639_200
        )

    # -- the budget at year end --------------------------------------------------------------
    budget = ledger.views.budget(pid)
    # Paid: 6 x 166.656.000 + 6 x 166.639.200 = 999.936.000 + 999.835.200 = 1.999.771.200.
    # Participant-months paid: 6 x 9.920 + 6 x 9.919 = 119.034:
    #   JKK 119.034 x 10.000 = 1.190.340.000, JKM 119.034 x 6.800 = 809.431.200.
    # Available: 2.000.000.000 - 1.999.771.200 = 228.800 (128.000 + Siti's 100.800).
    assert budget["allocation"] == 2_000_000_000
    assert budget["committed"] == 0
    assert budget["paid"] == 1_999_771_200
    assert (budget["paid_jkk"], budget["paid_jkm"]) == (1_190_340_000, 809_431_200)
    assert budget["available"] == 228_800
    assert budget["overpaid"] == 33_600
    assert (budget["overpaid_jkk"], budget["overpaid_jkm"]) == (20_000, 13_600)
    # Planned (covered) participant-months: January-April 4 x 9.920 + May-December
    # 8 x 9.919 = 39.680 + 79.352 = 119.032; x 16.800 = 1.999.737.600 = paid - overpaid.
    assert budget["planned_jkk"] + budget["planned_jkm"] == 1_999_737_600
    assert budget["enrolled"] == 9_919
    assert budget["available"] == program.allocation - 0 - ledger.program().paid_total.total

    months = {r["month"]: r for r in ledger.views.budget_months(pid)}
    assert list(months) == [str(m) for m in YEAR_2026]
    january, may, december = months["2026-01"], months["2026-05"], months["2026-12"]
    assert (january["active"], january["paid_participants"]) == (9_920, 9_920)
    assert (january["paid_jkk"], january["paid_jkm"]) == (99_200_000, 67_456_000)
    assert (may["active"], may["paid_participants"]) == (9_919, 9_920)
    assert (may["overpaid_jkk"], may["overpaid_jkm"]) == (10_000, 6_800)
    assert (december["active"], december["paid_participants"]) == (9_919, 9_919)
    assert december["paid_jkk"] + december["paid_jkm"] == 166_639_200
    assert all(r["committed_jkk"] == r["committed_jkm"] == 0 for r in months.values())

    payments = ledger.views.payments(pid)
    assert [p["sp2d"] for p in payments] == [f"SP2D-{n:04d}/BPKAD/2026" for n in range(1, 13)]
    assert [p["participants"] for p in payments] == [9_920] * 6 + [9_919] * 6
    assert all(p["actor"] == "operator-disnaker" for p in payments)

    # -- the quota ----------------------------------------------------------------------------
    quota = ledger.views.quota(pid)
    assert (quota["quota"], quota["enrolled"], quota["ended"], quota["available"]) == (
        10_000, 9_919, 1, 81
    )
    assert quota["registered"] == 10_500

    # By decile: the top 9.920 are deciles 1-4 (4 x 2.040 = 8.160) and the first 1.760
    # of decile 5; Siti (decile 1) ended.
    assert by_group(quota_groups(ledger.views, pid, "decile"), "decile") == {
        1: (2_040, 2_039, 1), 2: (2_040, 2_040, 0), 3: (2_040, 2_040, 0),
        4: (2_040, 2_040, 0), 5: (2_040, 1_760, 0),
        6: (60, 0, 0), 7: (60, 0, 0), 8: (60, 0, 0), 9: (60, 0, 0), 10: (60, 0, 0),
    }
    # By kecamatan (blocks of 875 rows, 175 of each decile 1-5 in blocks 01-10):
    # - decile-5 enrolled are rows 5k + 4 for k < 1.760, i.e. up to row 8.799;
    # - blocks 01-10 (rows 0-8.749): all 875 enrolled (Bekasi Timur: 874 + Siti ended);
    # - block 11 (rows 8.750-9.624): 4 x 175 = 700 of deciles 1-4 + rows 8.754-8.799
    #   of decile 5 (10) = 710;
    # - block 12 (rows 9.625-10.499): rows up to 10.199 are 575 = 5 x 115, of which
    #   deciles 1-4 are 460; no decile-5 row is early enough.
    # 10 x 875 + 710 + 460 = 9.920.
    expected = {name: (875, 875, 0) for name in KOTA_BEKASI_KECAMATAN.values()}
    expected["Bekasi Timur"] = (875, 874, 1)
    expected["Mustikajaya"] = (875, 710, 0)
    expected["Pondokmelati"] = (875, 460, 0)
    assert by_group(quota_groups(ledger.views, pid, "kecamatan"), "kecamatan") == expected
    # By occupation (i % 3): rows 0-10.199 are 680 cycles of 15, so deciles 1-4 give each
    # occupation 4 x 680 = 2.720. Decile-5 row 5k + 4 has occupation (2k + 1) % 3: for
    # k = 0..1.759 that is pedagang (k = 0 mod 3) 587, ojol (k = 1 mod 3) 587, buruh 586.
    # Siti (row 0) is an ojol: 2.720 + 587 - 1 = 3.306 holding a place, 1 ended.
    assert by_group(quota_groups(ledger.views, pid, "occupation"), "occupation") == {
        "ojol": (3_500, 3_306, 1),
        "pedagang kaki lima": (3_500, 3_307, 0),
        "buruh harian": (3_500, 3_306, 0),
    }

    # -- claims --------------------------------------------------------------------------------
    claims = ledger.views.claims(pid)
    assert [(c["reference"], c["scheme"], c["incident_date"], c["month"]) for c in claims] == [
        ("JKK/3275/2026/0001", "JKK", "2026-03-02", "2026-03"),
        ("JKM/3275/2026/0001", "JKM", "2026-04-10", "2026-04"),
    ]
    # Budi is row 1: Bekasi Timur, pedagang kaki lima, decile 2.
    assert (claims[0]["kecamatan"], claims[0]["occupation"], claims[0]["decile"]) == (
        "Bekasi Timur", "pedagang kaki lima", 2
    )

    # -- every report is re-derived from the events alone -----------------------------------
    before_rebuild = reports(ledger, pid)
    ledger.views.rebuild()
    assert reports(ledger, pid) == before_rebuild
    assert all(s.behind == 0 for s in ledger.views.status())
    # And by a new process reading the same store.
    ledger.close()
    reopened = Ledger(store_url, actor="auditor-bpk")
    assert reports(reopened, pid) == before_rebuild
    assert reopened.program().available == 228_800
