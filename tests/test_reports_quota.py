"""`report quota`: enrolled against registered and eligible, whether priority was respected,
and the chart of enrolment by kecamatan and decile.

Twelve workers (serials 1-12) with deciles 3 1 2 5 4 1 7 2 3 7 4 5, three a kecamatan:
serials 4, 8, 12 in Bekasi Timur; 1, 5, 9 in Bekasi Barat; 2, 6, 10 in Rawalumbu; 3, 7, 11 in
Bekasi Selatan. Under dtsen-desil-v1 tier 1 is deciles 1-3 (serials 1, 2, 3, 6, 8, 9), tier 2
deciles 4-5 (4, 5, 11, 12), deciles 7 are not eligible (7, 10): ten eligible.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PIL import Image

from cli_helpers import as_json, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.cli.charts import quota_figure, quota_series
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.projections.reporting import enrolment_by_kecamatan_and_decile

BIRTH = date(1984, 5, 17)
DECILES = [3, 1, 2, 5, 4, 1, 7, 2, 3, 7, 4, 5]
KECAMATAN = ["01", "02", "Rawalumbu", "04"]


def nik(serial: int) -> str:
    sex = "P" if serial % 2 else "L"
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


def registrations(path: Path, serials_deciles: list[tuple[int, int]]) -> Path:
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"]
    for i, decile in serials_deciles:
        sex = "P" if i % 2 else "L"
        lines.append(f"{nik(i)},Pekerja {i},{BIRTH},{sex},{KECAMATAN[i % 4]},Margahayu,"
                     f"{['ojol', 'pedagang kaki lima', 'buruh harian'][i % 3]},{decile},Dinsos")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def opened(url: str, tmp_path: Path) -> str:
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000", "--quota",
       "10")
    ok(url, "workers", "import",
       str(registrations(tmp_path / "r.csv", list(enumerate(DECILES, start=1)))))
    ok(url, "workers", "prioritize")
    return url


def test_priority_broken_then_respected_then_broken_again(store_url: str, tmp_path: Path) -> None:
    url = opened(store_url, tmp_path)
    assert as_json(url, "report", "quota")["priority"]["violations"] == 0

    # A decree names serial 4 (decile 5, tier 2) while all six of tier 1 wait.
    ok(url, "enroll", "--nik", nik(4), "--start", "2026-01", "--decree", "KEP-1")
    q = as_json(url, "report", "quota")
    assert (q["quota"], q["enrolled"], q["available"], q["registered"]) == (10, 1, 9, 12)
    assert (q["eligible"], q["waiting"]) == (10, 9)
    p = q["priority"]
    assert (p["ruleset"], p["respected"], p["violations"]) == ("dtsen-desil-v1", False, 1)
    (example,) = p["examples"]
    # Serial 1 (decile 3) was registered first of the six who wait.
    assert example == {
        "enrolled": mask_nik(nik(4)), "decile": 5, "tier": 2, "position": example["position"],
        "waiting": 6, "first_waiting": mask_nik(nik(1)), "first_waiting_decile": 3,
    }
    table = ok(url, "report", "quota").stdout
    assert "PRIORITY NOT RESPECTED" in table and mask_nik(nik(4)) in table
    assert nik(4) not in table  # NIKs are masked

    # The six of tier 1 are enrolled: nobody of tier 1 waits any more.
    ok(url, "enroll", "--top", "6", "--start", "2026-01", "--decree", "KEP-2")
    assert as_json(url, "report", "quota")["priority"]["violations"] == 0
    assert "Priority respected under dtsen-desil-v1" in ok(url, "report", "quota").stdout

    # A decile-1 worker registered after every enrolment so far is no breach of them...
    ok(url, "workers", "import", str(registrations(tmp_path / "late.csv", [(13, 1)])))
    assert as_json(url, "report", "quota")["priority"]["violations"] == 0
    # ...but enrolling serial 5 (decile 4) by name while serial 13 waits is one.
    ok(url, "enroll", "--nik", nik(5), "--start", "2026-01", "--decree", "KEP-3")
    p = as_json(url, "report", "quota")["priority"]
    assert p["violations"] == 1 and p["examples"][0]["first_waiting"] == mask_nik(nik(13))


def test_a_decile_corrected_after_an_enrolment_does_not_make_it_a_breach(
    sqlite_url: str, tmp_path: Path
) -> None:
    url = opened(sqlite_url, tmp_path)
    ok(url, "enroll", "--top", "10", "--start", "2026-02", "--decree", "KEP-1")  # all eligible
    assert as_json(url, "report", "quota")["priority"]["violations"] == 0
    # DTSEN's next release puts serial 7 (decile 7, never eligible) in decile 2: it waits now,
    # but it was not eligible when the tier-2 workers were enrolled.
    ok(url, "workers", "correct", nik(7), "--field", "decile", "--value", "2",
       "--reason", "DTSEN 2026-Q2")
    assert as_json(url, "report", "quota")["priority"]["violations"] == 0


def test_quota_by_group_against_registered_and_eligible(store_url: str, tmp_path: Path) -> None:
    url = opened(store_url, tmp_path)
    ok(url, "enroll", "--nik", nik(4), "--start", "2026-01")
    ok(url, "enroll", "--top", "6", "--start", "2026-01")
    by = {r["kecamatan"]: r for r in as_json(url, "report", "quota", "--by", "kecamatan")}
    # Enrolled: Bekasi Timur 4, 8; Bekasi Barat 1, 9; Rawalumbu 2, 6; Bekasi Selatan 3.
    assert {k: (r["enrolled"], r["registered"], r["eligible"], r["waiting"])
            for k, r in by.items()} == {
        "Bekasi Timur": (2, 3, 3, 1),
        "Bekasi Barat": (2, 3, 3, 1),
        "Rawalumbu": (2, 3, 2, 0),
        "Bekasi Selatan": (1, 3, 2, 1),
    }
    assert all("position" in r for r in by.values())
    deciles = as_json(url, "report", "quota", "--by", "decile")
    assert [(r["decile"], r["enrolled"], r["eligible"], r["tier"]) for r in deciles] == [
        (1, 2, 2, 1), (2, 2, 2, 1), (3, 2, 2, 1), (4, 0, 2, 2), (5, 1, 2, 2), (7, 0, 0, None)
    ]
    table = ok(url, "report", "quota", "--by", "decile").stdout
    assert "7 enrolled of a quota of 10" in table and "Total" in table


def test_the_enrolment_chart(store_url: str, tmp_path: Path) -> None:
    url = opened(store_url, tmp_path)
    ok(url, "enroll", "--nik", nik(4), "--start", "2026-01")
    ok(url, "enroll", "--top", "6", "--start", "2026-01")
    ledger = Ledger(url)
    try:
        table = enrolment_by_kecamatan_and_decile(ledger.views, ledger.program().id)
    finally:
        ledger.close()
    s = quota_series(table)
    assert s["kecamatan"] == ["Bekasi Barat", "Bekasi Selatan", "Bekasi Timur", "Rawalumbu"]
    assert s["deciles"] == [1, 2, 3, 5]
    assert s["enrolled"] == {1: [0, 0, 0, 2], 2: [0, 1, 1, 0], 3: [2, 0, 0, 0], 5: [0, 0, 1, 0]}

    fig = quota_figure(table, program="2026", quota=10, position=1)
    ax = fig.axes[0]
    bars = {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}
    assert bars == {f"Decile {d}": values for d, values in s["enrolled"].items()}
    assert [t.get_text() for t in ax.get_xticklabels()] == s["kecamatan"]
    assert "7 of a quota of 10" in ax.get_title(loc="left")

    chart = tmp_path / "quota.png"
    ok(url, "report", "quota", "--by", "kecamatan", "--chart", str(chart))
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] >= 1200 and image.size[1] >= 700
