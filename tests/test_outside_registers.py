"""Deaths from the civil registry and DTSEN's deciles, end to end on SQLite and PostgreSQL.

The files are made as offices make them: a registration file with Indonesian headers,
semicolons, Windows-1252 names and CR LF; Dukcapil's deaths as a workbook; DTSEN's deciles as
CSV UTF-8 with a byte-order mark and semicolons. They carry the defects of real months: a
death after the month was paid (an overpayment), a death before the coverage started, a NIK
the ledger does not know, a decile that moves a worker across the eligibility line.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from cli_helpers import as_json, contents, events, jamsos, ok

NIKS = {
    "SITI": "3275014203850001",  # decile 2, enrolled from January, dies in February
    "BUDI": "3275051708900042",  # decile 1, enrolled from January, leaves eligibility
    "AGUS": "3275092512880007",  # decile 3, registered, never enrolled
    "DEWI": "3275115506920013",  # decile 8, not eligible, becomes decile 3
    "RINA": "3275074107910005",  # decile 5, enrolled from March, "died" in January
    "UNKNOWN": "3275011203850001",  # well formed, never registered
}
REGISTRATIONS = (
    "NIK;Nama;Tanggal Lahir;Jenis Kelamin;Kecamatan;Kelurahan;Pekerjaan;Desil;Sumber\r\n"
    f"{NIKS['SITI']};Siti Rahmawati;1985-03-02;P;01;Margahayu;pedagang;2;Disnaker\r\n"
    f"{NIKS['BUDI']};Budi Santoso;1990-08-17;L;05;Bojong Rawalumbu;ojol;1;Dinsos\r\n"
    f"{NIKS['AGUS']};Agus Sétiawan;1988-12-25;L;09;Jatiluhur;buruh harian;3;Grab\r\n"
    f"{NIKS['DEWI']};Dewi Lestari;1992-06-15;P;11;Mustikajaya;ojol;8;Dinsos\r\n"
    f"{NIKS['RINA']};Rina Ñoviyanti;1991-07-01;P;07;Cikiwul;penjahit;5;Disnaker\r\n"
)
PREMIUM = 16_800  # JKK Rp 10.000 + JKM Rp 6.800 a month, the program's default rates


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def year_under_way(url: str, tmp_path: Path) -> None:
    """Registered from an Indonesian semicolon file in Windows-1252; Siti and Budi enrolled
    from January, Rina from March; January and February paid."""
    registrations = tmp_path / "registrasi.csv"
    registrations.write_bytes(REGISTRATIONS.encode("cp1252"))
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    imported = ok(url, "workers", "import", str(registrations))
    assert "Registered 5 workers" in imported.stdout
    ok(url, "workers", "prioritize")
    ok(url, "enroll", "--nik", NIKS["SITI"], "--nik", NIKS["BUDI"], "--start", "2026-01",
       "--decree", "KEP/1/2026")
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01")
    ok(url, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02")
    ok(url, "enroll", "--nik", NIKS["RINA"], "--start", "2026-03", "--decree", "KEP/2/2026")


def test_deaths_from_a_workbook_end_coverage_once_and_report_the_rest(
    store_url: str, tmp_path: Path
) -> None:
    year_under_way(store_url, tmp_path)
    # The accented name read right from the Windows-1252 file (shown in full for a reason).
    agus = as_json(store_url, "workers", "show", NIKS["AGUS"], "--unmask", "--reason",
                   "checking the import")
    assert agus["name"] == "Agus Sétiawan"
    deaths = workbook(tmp_path / "meninggal.xlsx", [
        ["NIK", "Nama", "Tanggal Meninggal"],
        [NIKS["SITI"], "Siti Rahmawati", datetime(2026, 1, 14)],  # January and February paid
        [NIKS["UNKNOWN"], "Tak Dikenal", date(2026, 2, 1)],
        [NIKS["AGUS"], "Agus Sétiawan", "2026-02-03"],  # registered, never enrolled
        [NIKS["RINA"], "Rina Ñoviyanti", "2026-01-20"],  # before her coverage started
    ])
    result = ok(store_url, "workers", "deaths", str(deaths))
    out = result.stdout
    # Siti's coverage ends in January: February was paid (an overpayment), March to
    # December are released.
    assert out.startswith(
        f"Ended coverage of 1 worker as died in 2026 from {deaths}: Rp 168.000 released, "
        "Rp 16.800 overpaid\n"), out
    assert "line 2: 327501********01 died in 2026-01: coverage ends then, Rp 168.000 " \
           "released; Rp 16.800 already paid for months after it" in out
    assert "3 rows recorded nothing, to look into:" in out
    assert "line 3: 327501********01: not registered in the ledger" in out
    assert "line 4: 327509********07: not enrolled in 2026: no coverage to end" in out
    assert ("line 5: 327507********05: died in 2026-01, before the coverage in 2026 started "
            "in 2026-03") in out
    for nik in NIKS.values():
        assert nik not in out  # NIKs masked
    budget = as_json(store_url, "report", "budget")
    assert budget["overpaid"] == PREMIUM
    siti = as_json(store_url, "workers", "show", NIKS["SITI"])
    assert siti["coverages"][0]["ended"] == "2026-01"
    # Again: nobody ends twice, and nothing is written.
    before = events(store_url)
    again = ok(store_url, "workers", "deaths", str(deaths)).stdout
    assert again.startswith("Ended coverage of 0 workers")
    assert "line 2: 327501********01: coverage in 2026 already ended in 2026-01" in again
    assert events(store_url) == before
    trail = ok(store_url, "audit", "log", "--nik", NIKS["SITI"]).stdout
    assert "died" in trail
    assert jamsos(store_url, "audit", "replay").exit_code == 0


def test_a_deaths_file_with_any_bad_line_records_nothing(store_url: str, tmp_path: Path) -> None:
    year_under_way(store_url, tmp_path)
    deaths = workbook(tmp_path / "meninggal.xlsx", [
        ["nik", "tanggal_meninggal"],
        [NIKS["SITI"], "2026-01-14"],
        [3275051708900040, "2026-01-14"],  # the NIK typed into a number cell: digits lost
        [NIKS["RINA"], "14/01/2026"],
        [NIKS["AGUS"], "2099-01-01"],
    ])
    before = contents(store_url)
    result = jamsos(store_url, "workers", "deaths", str(deaths))
    assert result.exit_code == 2, result.output
    assert "3 of 4 rows are malformed; nothing was recorded" in result.stderr
    assert "line 3, nik: the NIK was turned into a number by the spreadsheet (3.27505E+15)" \
        in result.stderr
    assert "line 4, date_of_death: not a date YYYY-MM-DD: '14/01/2026'" in result.stderr
    assert "line 5, date_of_death: 2099-01-01 has not come yet" in result.stderr
    assert "Traceback" not in result.output
    assert contents(store_url) == before


def test_a_dtsen_release_corrects_deciles_and_ranks_again(store_url: str, tmp_path: Path) -> None:
    year_under_way(store_url, tmp_path)
    deciles = tmp_path / "dtsen-2026-q2.csv"
    deciles.write_bytes(
        "\ufeffNIK;Desil;Nama\r\n"
        f"{NIKS['BUDI']};8;Budi Santoso\r\n"  # enrolled, leaves the eligible deciles
        f"{NIKS['DEWI']};3;Dewi Lestari\r\n"  # crosses into eligibility
        f"{NIKS['AGUS']};3;Agus Sétiawan\r\n"  # unchanged
        f"{NIKS['UNKNOWN']};2;Tak Dikenal\r\n".encode()
    )
    result = ok(store_url, "workers", "deciles", str(deciles), "--release", "2026-Q2")
    out = result.stdout
    assert out.startswith(
        "Corrected the decile of 2 workers from DTSEN 2026-Q2 (1 unchanged); ranked 4 eligible "
        "workers under dtsen-desil-v1: "), out
    assert "line 2: 327505********42: decile 1 -> 8 no longer eligible (enrolled: coverage " \
           "continues" in out
    assert "line 3: 327511********13: decile 8 -> 3 now eligible" in out
    assert "line 5: 327501********01: not registered in the ledger" in out
    dewi = as_json(store_url, "workers", "show", NIKS["DEWI"])
    assert (dewi["decile"], dewi["decile_release"], dewi["rank_release"]) == (3, "2026-Q2",
                                                                              "2026-Q2")
    # Siti (2) first, then the decile-3 workers in order of registration: Agus, then Dewi.
    assert dewi["rank"] == 3 and dewi["tier"] == 1
    assert dewi["rank_explained"] == (
        f"rank 3: tier 1 (decile 3, DTSEN 2026-Q2) under dtsen-desil-v1; ties broken by order "
        f"of registration, position {dewi['tie_break_position']}")
    agus = as_json(store_url, "workers", "show", NIKS["AGUS"])
    assert agus["rank"] == 2 and agus["rank_release"] is None  # his decile as registered
    assert agus["tie_break_position"] < dewi["tie_break_position"]
    budi = as_json(store_url, "workers", "show", NIKS["BUDI"])
    assert budi["rank"] is None and budi["decile_release"] == "2026-Q2"
    table = ok(store_url, "workers", "show", NIKS["DEWI"]).stdout
    assert "tier 1 (decile 3, DTSEN 2026-Q2) under dtsen-desil-v1" in table
    trail = ok(store_url, "audit", "log", "--nik", NIKS["DEWI"], "--format", "jsonl").stdout
    assert "DTSEN 2026-Q2" in trail
    # The same release again records nothing but what is missing.
    before = events(store_url)
    again = ok(store_url, "workers", "deciles", str(deciles), "--release", "2026-Q2").stdout
    assert "Corrected the decile of 0 workers" in again and "0 ranks recorded" in again
    assert events(store_url) == before
    assert jamsos(store_url, "audit", "replay").exit_code == 0


def test_a_release_that_is_not_one_and_a_bad_deciles_file_write_nothing(
    store_url: str, tmp_path: Path
) -> None:
    year_under_way(store_url, tmp_path)
    deciles = tmp_path / "dtsen.csv"
    deciles.write_text(f"nik,decile\n{NIKS['BUDI']},8\n", encoding="utf-8")
    before = contents(store_url)
    wrong = jamsos(store_url, "workers", "deciles", str(deciles), "--release", "Q2 2026")
    assert wrong.exit_code == 2 and "e.g. 2026-Q2, not 'Q2 2026'" in wrong.stderr
    bad = tmp_path / "dtsen-bad.csv"
    bad.write_text(f"nik,decile\n3.27505E+15,8\n{NIKS['DEWI']},11\n{NIKS['DEWI']},3\n",
                   encoding="utf-8")
    refused = jamsos(store_url, "workers", "deciles", str(bad), "--release", "2026-Q2")
    assert refused.exit_code == 2
    assert "line 2, nik: the NIK was turned into a number by the spreadsheet (3.27505E+15)" \
        in refused.stderr
    assert "line 3, decile: DTSEN decile must be a whole number 1-10, not '11'" in refused.stderr
    assert "line 4, nik: the same NIK is already on line 3 of this file" in refused.stderr
    assert contents(store_url) == before


def test_a_registration_workbook_is_imported_and_a_nik_as_number_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    header = ["NIK", "Nama", "Tanggal Lahir", "Jenis Kelamin", "Kecamatan", "Kelurahan",
              "Pekerjaan", "Desil", "Sumber"]
    bad = workbook(tmp_path / "registrasi.xlsx", [
        header,
        [NIKS["SITI"], "Siti Rahmawati", datetime(1985, 3, 2), "P", "01", "Margahayu",
         "pedagang", 2, "Disnaker"],
        [3275051708900042.0, "Budi Santoso", datetime(1990, 8, 17), "L", 5, "Bojong", "ojol",
         1, "Dinsos"],
    ])
    before = contents(sqlite_url)
    refused = jamsos(sqlite_url, "workers", "import", str(bad))
    assert refused.exit_code == 2, refused.output
    assert "1 of 2 rows is malformed" in refused.stderr
    assert "line 3, nik: the NIK was turned into a number by the spreadsheet (3.27505E+15)" \
        in refused.stderr
    assert "line 3, nik: NIK must" not in refused.stderr  # the cause, not its consequence
    assert contents(sqlite_url) == before
    good = workbook(tmp_path / "registrasi-baik.xlsx", [
        header,
        [NIKS["SITI"], "Siti Rahmawati", datetime(1985, 3, 2), "P", "01", "Margahayu",
         "pedagang", 2, "Disnaker"],
        [],
        [NIKS["BUDI"], "Budi Santoso", datetime(1990, 8, 17), "L", 5, "Bojong", "ojol", 1,
         "Dinsos"],
    ])
    assert "Registered 2 workers" in ok(sqlite_url, "workers", "import", str(good)).stdout
    assert as_json(sqlite_url, "workers", "show", NIKS["BUDI"])["kecamatan"] == "Rawalumbu"


def test_templates_are_written_once_and_read_back(sqlite_url: str, tmp_path: Path) -> None:
    for kind in ("registrations", "deaths", "deciles", "invoice"):
        for suffix in ("csv", "xlsx"):
            path = tmp_path / f"{kind}.{suffix}"
            assert ok(sqlite_url, "workers", "template", kind, str(path)).stdout == (
                f"Template of the {kind} file written to {path}\n")
            kept = path.read_bytes()
            again = jamsos(sqlite_url, "workers", "template", kind, str(path))
            assert again.exit_code == 2 and "exists already" in again.stderr
            assert path.read_bytes() == kept
            ok(sqlite_url, "workers", "template", kind, str(path), "--overwrite")
    # A template read back is a file with a header and no rows: each reader says so (in a
    # ledger: the role is checked before a file is read).
    ok(sqlite_url, "program", "open", "--one-key", "--year", "2026", "--allocation",
       "1000000000", "--quota", "10")
    commands = {"deaths": ["workers", "deaths"],
                "deciles": ["workers", "deciles", "--release", "2026-Q2"],
                "invoice": ["premiums", "reconcile", "--month", "2026-04", "--invoice"],
                "registrations": ["workers", "import"]}
    for kind, command in commands.items():
        for suffix in ("csv", "xlsx"):
            result = jamsos(sqlite_url, *command, str(tmp_path / f"{kind}.{suffix}"))
            assert result.exit_code == 2 and "has a header but no rows" in result.stderr, (
                kind, suffix, result.output)
    header = (tmp_path / "registrations.csv").read_bytes()
    assert header == ("\ufeffNIK,Nama,Tanggal Lahir,Jenis Kelamin,Kecamatan,Kelurahan,"
                      "Pekerjaan,Desil,Sumber\r\n").encode()
    invoice = (tmp_path / "invoice.csv").read_bytes()
    assert invoice == "\ufeffNIK,KPJ,Nama,Bulan,JKK,JKM,Status\r\n".encode()
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "invoice.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["NIK", "KPJ", "Nama", "Bulan", "JKK", "JKM", "Status"]
    # NIK and KPJ are identifiers of digits: text cells, so that no digit is lost.
    assert [sheet.column_dimensions[c].number_format for c in "ABC"] == ["@", "@", "General"]
    wrong = jamsos(sqlite_url, "workers", "template", "deaths", str(tmp_path / "d.txt"))
    assert wrong.exit_code == 2 and "as .csv or .xlsx, not .txt" in wrong.stderr
    assert not (tmp_path / "d.txt").exists()


def test_events_recorded_before_releases_and_positions_still_read() -> None:
    """A ledger written before ranks recorded their release and tie-break, and corrections
    their release: its events, without those fields, read as they did, and a rank is still
    explained (without the position it never recorded)."""
    from dataclasses import replace
    from functools import reduce

    from eventsourcing.persistence import StoredEvent

    from jamsos_ledger.application import Ledger
    from jamsos_ledger.cli.workers import rank_explained
    from jamsos_ledger.domain.model import Registration, Worker

    ledger = Ledger("memory://", actor="test")
    try:
        worker = Worker.register(Registration(
            nik=NIKS["SITI"], name="Siti Rahmawati", birth_date=date(1985, 3, 2), sex="P",
            kecamatan="Bekasi Timur", kelurahan="Margahayu", occupation="pedagang", decile=4,
            source="Disnaker"), actor="test")
        worker.correct(field="decile", value="2", reason="DTSEN 2025-Q4", actor="test",
                       release="2025-Q4")
        worker.prioritize(ruleset_name="dtsen-desil-v1", rank=7, tier=1, actor="test",
                          position=88_412)
        mapper = ledger.mapper
        events = worker.collect_events()
        old = []
        for event in events:
            stored = mapper.to_stored_event(event)
            state = mapper.transcoder.decode(stored.state)
            assert isinstance(state, dict)
            if isinstance(event, Worker.Corrected | Worker.Prioritized):
                assert state.pop("release") == "2025-Q4"
                state.pop("position", None)
            assert isinstance(stored, StoredEvent)
            old.append(replace(stored, state=mapper.transcoder.encode(state)))
        read: Worker = reduce(lambda a, e: e.mutate(a), map(mapper.to_domain_event, old), None)
        assert (read.decile, read.rank, read.tier) == (2, 7, 1)
        assert (read.decile_release, read.rank_release, read.rank_position) == (None, None, None)
        assert rank_explained(read) == (
            "rank 7: tier 1 (decile 2, as registered) under dtsen-desil-v1; ties broken by "
            "order of registration")
        # As recorded now: the release and the tie-break are kept and said.
        now: Worker = reduce(lambda a, e: e.mutate(a),
                             [mapper.to_domain_event(mapper.to_stored_event(e)) for e in
                              events], None)
        assert rank_explained(now) == (
            "rank 7: tier 1 (decile 2, DTSEN 2025-Q4) under dtsen-desil-v1; ties broken by "
            "order of registration, position 88.412")
    finally:
        ledger.close()
