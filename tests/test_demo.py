"""The demo's closing hint is a command that works as printed, in a shell without the venv.

`make demo` runs the venv's interpreter without activating the venv, so a hint naming plain
`jamsos` found nothing on PATH ("command not found"). The hint is run here as a user would
paste it: through a shell, from where the demo ran and from elsewhere, with the venv's folder
off PATH and no JAMSOS_STORE.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bekasi_2026 import (
    BUD,
    HEAD,
    Operator,
    closing_hint,
    deaths_of_april,
    dtsen_release,
    open_program,
    pay,
    proposal_of,
    reconcile_and_pay,
    reverse_and_pay_again,
    story_workers,
)
from click.testing import CliRunner

from cli_helpers import ok
from jamsos_ledger.cli import main
from registration_file import generate_registrations

JAMSOS = Path(sys.executable).parent / "jamsos"


def _shell_without_the_venv() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "JAMSOS_STORE", "JAMSOS_PROGRAM")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    return env


@pytest.mark.parametrize("ran_from", ["the folder above", "elsewhere"])
def test_the_closing_hint_runs_as_printed(tmp_path: Path, ran_from: str) -> None:
    folder = tmp_path / "demo-ledger"
    folder.mkdir()
    ok(f"sqlite:///{folder / 'jamsos.db'}", "program", "open", "--year", "2026",
       "--allocation", "2000000000", "--quota", "10000")
    cwd = tmp_path if ran_from == "the folder above" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    hint = closing_hint(folder, JAMSOS, cwd)
    if ran_from == "the folder above":
        assert "sqlite:///demo-ledger/jamsos.db" in hint, hint
    result = subprocess.run(
        hint, shell=True, cwd=cwd, env=_shell_without_the_venv(), capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, f"{hint}\n{result.stdout}{result.stderr}"
    assert "10.000" in result.stdout  # the quota of the program opened above
    assert not (cwd / "jamsos.db").exists()  # the demo's ledger, not a new one here


class InProcessOperator(Operator):
    """The demo's operator, running `jamsos` in this process (the real command, on a real
    SQLite file in the folder) so that the year's monthly cycle can be checked in seconds."""

    def execute(self, args: list[str]) -> tuple[int, str, str]:
        env: dict[str, str | None] = {"JAMSOS_STORE": "sqlite:///jamsos.db", "COLUMNS": "250",
                                      "JAMSOS_PROGRAM": None}
        result = CliRunner(env=env).invoke(main, args, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr


def test_the_monthly_cycle_runs_through_the_real_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's deaths, invoice reconciliation, DTSEN release and reversal, on a small
    program of 20 places, leave their events in the audit log and their figures in the
    reports: each difference of the invoice once, the March death's overpayment, the worker
    who became eligible, the August SP2D reversed and paid again."""
    monkeypatch.chdir(tmp_path)
    generate_registrations(tmp_path / "registrasi-2026.csv", 40, bad_rate=0,
                           duplicate_rate=0)
    op = InProcessOperator(tmp_path)
    premium = 16_800
    open_program(op, allocation=20 * 12 * premium, quota=20)
    op.run("workers", "import", "registrasi-2026.csv")
    op.run("workers", "prioritize")
    decree = proposal_of(op.run("enroll", "--top", "20", "--start", "2026-01", "--decree",
                                "KEP-WALI/100/2026"))
    op.run("proposals", "approve", decree, actor=HEAD)
    for month in range(1, 5):
        pay(op, month)
    cast = story_workers(tmp_path)
    deaths_of_april(op, cast)
    reconcile_and_pay(op, cast, "2026-06")
    dtsen_release(op, cast)
    pay(op, 8)
    reverse_and_pay_again(op, 8)
    said = capsys.readouterr().out
    assert ("Differences: unknown NIK: 1; billed, not covered: 1; billed twice: 1; "
            "amount differs: 1; covered, not billed: 1") in said, said
    assert "overpaid, to recover" in said
    assert said.count(" -> 3 now eligible") == 1, said

    invoice = (tmp_path / "tagihan-bpjs-2026-06.csv").read_bytes()
    assert invoice.startswith(b"\xef\xbb\xbfnik,kpj,") and invoice.count(b"\r\n") > 10
    numbers = {tuple(line.split(b",")[:2]) for line in invoice.splitlines()[1:]}
    assert len({kpj for _, kpj in numbers}) == len(numbers)  # one KPJ a participant
    assert (tmp_path / "meninggal-2026-04.xlsx").read_bytes().startswith(b"PK")
    assert b"NIK;Nama;Desil\r\n" in (tmp_path / "dtsen-2026-q2.csv").read_bytes()

    log = [json.loads(line) for line in
           op.run("audit", "log", "--format", "jsonl", actor="inspektorat.audit",
                  show_lines=0).splitlines()]
    events = [e["event"] for e in log]
    died = [e for e in log if e["event"] == "Worker.CoverageEnded" and e["reference"] == "died"]
    assert sorted(e["changes"]["month"] for e in died) == ["2026-03", "2026-04"]
    released = [e["changes"] for e in log if e["event"] == "Program.CoverageReleased"]
    assert sum(c["overpaid_jkk"] + c["overpaid_jkm"] for c in released) == premium
    assert events.count("Program.InvoiceReconciled") == 1
    assert events.count("Program.InvoicePaid") == 1
    corrected = [e for e in log if e["event"] == "Worker.Corrected"]
    assert len(corrected) == 2 and {e["reference"] for e in corrected} == {"DTSEN 2026-Q2"}
    reversed_ = [e for e in log if e["event"] == "Program.PaymentReversed"]
    assert [e["reference"] for e in reversed_] == ["SP2D/08/BPKAD/2026"]
    # Under four eyes: proposed by the finance officer, applied by the Kuasa BUD's approval.
    assert reversed_[0]["actor"] == BUD
    proposed = [e for e in log if e["event"] == "Proposal.Proposed"
                and e["changes"]["kind"] == "reversal"]
    assert [e["actor"] for e in proposed] == ["bpkad.finance"]

    budget = json.loads(op.run("report", "budget", "--format", "json",
                               actor="inspektorat.audit", show_lines=0))
    august = next(m for m in budget["months"] if m["month"] == "2026-08")
    assert august["sp2d"] == ["SP2D/08-R/BPKAD/2026"] and august["status"] == "paid"
    assert budget["overpaid"] == premium
    op.run("audit", "verify", actor="inspektorat.audit")
