"""BPJS's monthly invoice reconciled before it is paid, on SQLite and PostgreSQL, through the
command line, with an invoice generated with the defects real ones carry.

The small program of the CLI story (Rp 16.800 a participant a month: JKK 10.000, JKM 6.800):
nine enrolled from January, January to March paid, then a death in February recorded (March
was paid for the dead worker: Rp 16.800 to recover). April's invoice bills the eight covered
except one not yet active at BPJS, one at a wrong JKK, one twice, the dead worker, a registered
worker never enrolled and a NIK nobody registered: six lines agreed, Rp 100.800.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from test_cli_story import nik, registrations

from cli_helpers import as_json, contents, jamsos, ok
from jamsos_ledger.application import Ledger

CORPUS = Path(__file__).parent / "corpus" / "invoices"
HEADER = "nik,kpj,name,month,jkk,jkm,status"


def worker(i: int) -> str:
    return nik(i, "P" if i % 2 else "L")


DEAD = worker(2)  # ranked first; died in February, after March was paid
NOT_BILLED = worker(5)
WRONG_AMOUNT = worker(3)
TWICE = worker(6)
NEVER_ENROLLED = worker(12)  # registered, ranked tenth: not among the nine
UNKNOWN = "3275011203850001"  # well formed, never registered
GOOD = [worker(i) for i in (6, 8, 1, 9, 11, 4)]


def kpj(i: int) -> str:
    return f"{26040000000 + i:011d}"


def line(n: str, i: int, *, jkk: int = 10_000, jkm: int = 6_800, status: str = "AKTIF") -> str:
    return f"{n},{kpj(i)},Pekerja {i},2026-04,{jkk},{jkm},{status}"


def april_invoice(folder: Path) -> Path:
    lines = [HEADER]
    lines += [line(n, i) for i, n in enumerate(GOOD, start=1)]
    lines += [
        line(WRONG_AMOUNT, 20, jkk=12_000),
        line(TWICE, 1),  # the same participant again, as a second line
        line(DEAD, 21),
        line(NEVER_ENROLLED, 22),
        line(UNKNOWN, 23),
        line(NOT_BILLED, 24, jkk=0, jkm=0, status="nonaktif"),
    ]
    path = folder / "tagihan-2026-04.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")  # as Excel saves it
    return path


@pytest.fixture
def march_paid(store_url: str, tmp_path: Path) -> str:
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(registrations(tmp_path)))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-1")
    for month in (1, 2, 3):
        ok(store_url, "premiums", "pay", "--month", f"2026-{month:02d}", "--sp2d",
           f"SP2D-{month:02d}")
    ok(store_url, "end", "--nik", DEAD, "--month", "2026-02", "--reason", "died")
    return store_url


def test_the_invoice_is_reconciled_recorded_and_its_agreement_paid(
    march_paid: str, tmp_path: Path
) -> None:
    url = march_paid
    invoice = april_invoice(tmp_path)
    result = ok(url, "premiums", "reconcile", "--month", "2026-04", "--invoice", str(invoice))
    out = result.stdout
    assert ("Reconciled the invoice of 2026-04 (12 lines, Rp 186.800 billed): Rp 100.800 agreed "
            "for 6 participants, 6 differences") in out
    for text in ("unknown NIK", "billed, not covered", "billed twice", "amount differs",
                 "covered, not billed", "overpaid, to recover", "ended in 2026-02",
                 "never enrolled in 2026", "already billed on line 2", "Rp 12.000",
                 "Rp 16.800", "P. 2."):
        assert text in out, text
    for whole in (DEAD, UNKNOWN, NEVER_ENROLLED, TWICE, "Pekerja"):
        assert whole not in result.output  # NIKs masked, names as initials
    # The KPJ numbers are kept with each registered worker the invoice names.
    ledger = Ledger(url)
    try:
        assert ledger.worker(GOOD[0]).kpj == kpj(1)
        assert ledger.worker(DEAD).kpj == kpj(21)
    finally:
        ledger.close()
    assert as_json(url, "workers", "show", GOOD[0])["kpj"] == kpj(1)
    # Another file for April (one byte differs) is not the invoice reconciled.
    other = tmp_path / "other.csv"
    other.write_bytes(invoice.read_bytes() + b"\n")
    refused = jamsos(url, "premiums", "pay", "--month", "2026-04", "--sp2d", "SP2D-04",
                     "--invoice", str(other))
    assert refused.exit_code == 1 and "is not the one reconciled last for 2026-04" in (
        refused.stderr.replace("\n", " "))
    may = jamsos(url, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D-05",
                 "--invoice", str(invoice))
    assert may.exit_code == 1 and "no invoice of 2026-05 is reconciled" in may.stderr
    # The reconciled invoice pays what it agreed: six of the eight covered.
    paid = ok(url, "premiums", "pay", "--month", "2026-04", "--sp2d", "SP2D-04", "--invoice",
              str(invoice))
    assert "Paid Rp 100.800 for 6 participants in 2026-04" in paid.stdout
    april = as_json(url, "report", "budget")["months"][3]
    assert (april["active"], april["paid_participants"], april["paid"]) == (8, 6, 100_800)
    trail = ok(url, "audit", "log").stdout
    assert "InvoiceReconciled" in trail and "InvoicePaid" in trail and "KpjRecorded" in trail
    ok(url, "audit", "replay")


def test_the_differences_as_json_and_csv(march_paid: str, tmp_path: Path) -> None:
    invoice = april_invoice(tmp_path)
    result = ok(march_paid, "premiums", "reconcile", "--month", "2026-04", "--invoice",
                str(invoice), "--format", "json")
    data = json.loads(result.stdout)
    assert data["counts"] == {"unknown NIK": 1, "billed, not covered": 2, "billed twice": 1,
                              "amount differs": 1, "covered, not billed": 1}
    assert (data["agreed"], data["agreed_amount"], data["billed"]) == (6, 100_800, 186_800)
    assert [(r["nik"], r["recover"]) for r in data["recover"]] == [
        (DEAD[:6] + "********" + DEAD[14:], 16_800)]
    wrong = next(d for d in data["differences"] if d["kind"] == "amount differs")
    assert (wrong["line"], wrong["billed_jkk"], wrong["expected_jkk"]) == (8, 12_000, 10_000)
    assert "Reconciled the invoice" in result.stderr
    again = ok(march_paid, "premiums", "reconcile", "--month", "2026-04", "--invoice",
               str(invoice), "--format", "csv")
    rows = list(csv.DictReader(again.stdout.splitlines()))
    assert len(rows) == 7 and rows[0]["kind"] == "unknown NIK"
    assert rows[0]["agreed_amount"] == "100800"


def test_bad_invoices_are_refused_whole_naming_every_bad_line(march_paid: str) -> None:
    with (CORPUS / "manifest.csv").open(encoding="utf-8", newline="") as f:
        cases = list(csv.DictReader(f))
    assert {c["file"] for c in cases} == {p.name for p in CORPUS.iterdir()} - {"manifest.csv"}
    before = contents(march_paid)
    for case in cases:
        path = CORPUS / case["file"]
        result = jamsos(march_paid, "premiums", "reconcile", "--month", "2026-04", "--invoice",
                        str(path))
        assert result.exit_code == int(case["exit"]), (case["file"], result.output)
        message = result.stderr.replace("\n", " ")
        assert "Traceback" not in result.output
        for fragment in case["expect"].split("|"):
            assert fragment in message, (case["file"], fragment, message)
    assert contents(march_paid) == before


def test_an_invoice_saved_by_excel_reads_as_its_csv(march_paid: str, tmp_path: Path) -> None:
    """The invoice opened in Excel and saved again, as a workbook with Indonesian headers or as
    a semicolon CSV in Windows-1252 (Excel's "CSV" on an Indonesian Windows), is read by the
    reader of every office file and reconciled line for line as BPJS's own CSV."""
    from openpyxl import Workbook

    rows = [r.split(",") for r in april_invoice(tmp_path).read_text("utf-8-sig").splitlines()]
    book = Workbook()
    sheet = book.active
    sheet.append(["NIK", "KPJ", "Nama", "Bulan", "JKK", "JKM", "Status"])
    for nik_, kpj_, name, month, jkk, jkm, status in rows[1:]:
        sheet.append([nik_, kpj_, name, month, int(jkk), int(jkm), status])
    workbook = tmp_path / "tagihan.xlsx"
    book.save(workbook)
    semicolons = tmp_path / "tagihan-excel.csv"
    semicolons.write_bytes("\r\n".join(";".join(r) for r in rows).encode("cp1252"))

    def differences(path: Path) -> Any:
        data = as_json(march_paid, "premiums", "reconcile", "--month", "2026-04", "--invoice",
                       str(path))
        return data["counts"], data["agreed_amount"], [
            (d["line"], d["kind"]) for d in data["differences"]]

    from_csv = differences(april_invoice(tmp_path))
    assert from_csv[1] == 100_800
    assert differences(workbook) == from_csv
    assert differences(semicolons) == from_csv
