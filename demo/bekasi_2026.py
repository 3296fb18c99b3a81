"""A year of Kota Bekasi's 2026 program, run through the `jamsos` command as operators would.

`make demo` (or `.venv/bin/python demo/bekasi_2026.py [FOLDER]`) writes a realistic
registration file (Disnaker and Dinsos extracts, with the kinds of bad rows real audits find:
`registration_file.py`), then opens the program, imports, ranks, shows the refusal of 10,000
full-year places, proposes the 9,920 that fit for the head of Disnaker to approve (four
eyes), pays twelve monthly bills, each proposed by one BPKAD officer and approved by another
(two of them late,
warned about by `premiums due`), records deaths, moves, claims and their benefits, and prints
the reports and their charts (`budget-burndown.png` mid-year, `quota-by-kecamatan.png`).
Everything runs on an embedded SQLite file in FOLDER (default `./demo-ledger`). A script of
the repository, not of the installed package: it writes files and runs commands.
"""

from __future__ import annotations

import csv
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from jamsos_ledger.domain.money import counted
from registration_file import file_summary, generate_registrations


class Operator:
    """Runs `jamsos` commands as a person at a terminal would, and shows them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        executable = Path(sys.executable).parent / "jamsos"
        self.command = [str(executable)] if executable.exists() else ["jamsos"]
        self.env = dict(os.environ, JAMSOS_STORE="sqlite:///jamsos.db", COLUMNS="110")
        self.env.pop("JAMSOS_PROGRAM", None)

    def run(self, *args: str, actor: str = "disnaker.operator", expect: int = 0,
            show_lines: int = 40) -> str:
        """`jamsos --key keys/ACTOR.key ARGS`: each of the cast signs with its own key."""
        shown = " ".join(_quote(a) for a in args)
        key = f"keys/{actor}.key"
        print(f"\n$ jamsos --key {key} {shown}", flush=True)
        result = subprocess.run(
            [*self.command, "--key", key, *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        output = (result.stdout + result.stderr).rstrip()
        lines = output.splitlines()
        print("\n".join(lines[:show_lines]))
        if len(lines) > show_lines:
            print(f"... ({counted(len(lines) - show_lines, 'more line')})")
        if result.returncode != expect:
            print(f"[exit {result.returncode}, expected {expect}]")
            raise SystemExit(f"demo stopped: `jamsos {shown}` exited {result.returncode}")
        if expect:
            print(f"[exit {result.returncode}, as expected: nothing was written]")
        return result.stdout


# The cast: each signs what it writes with its own key (keys/NAME.key in the demo's folder).
ADMIN = "diskominfo.admin"
# The program has four eyes on: the head of Disnaker approves the decree the operators
# prepared, BPKAD's Kuasa BUD approves the payments its finance officer proposed.
HEAD = "disnaker.kepala"
BUD = "bpkad.kuasa-bud"
CAST = [
    (ADMIN, "Diskominfo", "administrator"),
    ("disnaker.operator", "Disnaker", "operator"),
    ("dinsos.operator", "Dinsos", "operator"),
    (HEAD, "Disnaker", "approver"),
    ("bpkad.finance", "BPKAD", "finance"),
    (BUD, "BPKAD", "finance"),
    ("inspektorat.audit", "Inspektorat", "auditor"),
    ("dprd.oversight", "DPRD", "auditor"),
]


def _public_key(said: str) -> str:
    return said.split("Public key:")[1].split()[0]


def _proposal(said: str) -> str:
    """The id of the proposal a command just made (`Proposed ... ID for ...`)."""
    return said.split("Proposed ")[1].split(" for ")[0].split()[-1]


def _quote(arg: str) -> str:
    return f"'{arg}'" if " " in arg else arg


def heading(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the demo in a fresh folder."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "demo-ledger").resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    registrations = folder / "registrasi-2026.csv"
    held = generate_registrations(registrations, 14_000)
    op = Operator(folder)

    heading("Kota Bekasi, program 2026: Rp 2.000.000.000 for 10.000 vulnerable workers")
    print(f"Ledger: {folder / 'jamsos.db'}  (SQLite, the embedded default)")
    print(file_summary(registrations.name, held))
    heading("Each office makes its key; the administrator creates the ledger and enrols them")
    public = {name: _public_key(op.run("key", "new", actor=name)) for name, _, _ in CAST}
    opened = op.run("program", "open", "--year", "2026", "--allocation", "2000000000",
                    "--quota", "10000", "--name", "Perlindungan pekerja rentan 2026",
                    "--four-eyes", "--admin-name", ADMIN, "--admin-office", "Diskominfo",
                    actor=ADMIN)
    root = opened.split("key fingerprint ")[1].split()[0]
    for name, office, role in CAST[1:]:
        op.run("principals", "enrol", name, "--office", office, "--role", role,
               "--public-key", public[name], actor=ADMIN)
    op.run("principals", "list", actor="inspektorat.audit")
    op.run("program", "show")

    heading("Disnaker imports the registrations: a file with bad rows is refused whole")
    op.run("workers", "import", registrations.name, expect=2, show_lines=12)
    op.run("workers", "import", registrations.name, "--rejects", "ditolak.csv")
    op.run("workers", "import", registrations.name, "--rejects", "ditolak-2.csv")
    op.run("workers", "prioritize")

    heading("The decree: 10.000 full-year places do not fit in Rp 2.000.000.000")
    op.run("enroll", "--top", "10000", "--start", "2026-01", "--decree", "KEP-WALI/100/2026",
           expect=1)
    op.run("program", "capacity", "--start", "2026-01", show_lines=12)
    # What would an APBD-P of Rp 2.016.000.000 change? Nothing is recorded by asking.
    op.run("program", "capacity", "--start", "2026-01", "--allocation", "2016000000",
           actor="bpkad.finance", show_lines=12)
    decree = _proposal(op.run("enroll", "--top", "9920", "--start", "2026-01", "--decree",
                              "KEP-WALI/100/2026"))
    op.run("report", "budget", actor=HEAD, show_lines=60)
    # One key never moves money or places: the operator who proposed cannot approve.
    op.run("proposals", "approve", decree, expect=7)
    op.run("proposals", "approve", decree, actor=HEAD)
    # An APBD-P proposed before the budget law passed: rejected, with its reason.
    amendment = _proposal(op.run("program", "amend", "--allocation", "2016000000", "--reason",
                                 "APBD-P 2026 draft", actor="bpkad.finance"))
    op.run("proposals", "reject", amendment, "--reason", "APBD-P not passed by DPRD yet",
           actor=HEAD)

    heading("A year of BPJS bills, deaths, moves and claims")
    died, moved, injured = _enrolled_niks(folder, 3)
    for month in range(1, 13):
        if month == 5:
            # A March death, reported in May after the April bill was paid: April is overpaid.
            # JKM pays Rp 42.000.000 (BPJS's money: recorded for evaluation, not the budget).
            op.run("claims", "file", "--nik", died, "--scheme", "JKM", "--date", "2026-03-14",
                   "--reference", "JKM-2026-000123", "--benefit", "42000000",
                   actor="dinsos.operator")
            op.run("end", "--nik", died, "--month", "2026-03", "--reason", "died",
                   actor="dinsos.operator")
        if month == 6:
            op.run("claims", "file", "--nik", injured, "--scheme", "JKK", "--date", "2026-06-10",
                   "--reference", "JKK-2026-000311", actor="dinsos.operator")
        if month == 7:
            # Mid-year, finance reads the burn-down: paid so far, and the forecast to December.
            op.run("report", "budget", "--chart", "budget-burndown.png", actor="bpkad.finance",
                   show_lines=45)
            print(f"(chart: {folder / 'budget-burndown.png'})")
        if month == 8:
            op.run("end", "--nik", moved, "--month", "2026-07", "--reason", "moved")
            # The JKK benefit becomes known after the claim: recorded on it later.
            op.run("claims", "benefit", "--nik", injured, "--reference", "JKK-2026-000311",
                   "--amount", "8750000", actor="dinsos.operator")
        if month == 9:
            op.run("claims", "file", "--nik", moved, "--scheme", "JKK", "--date", "2026-09-02",
                   "--reference", "JKK-2026-000456", expect=1)
        if month in (9, 10):
            continue  # the SP2D for September and October is late (APBD-P in preparation)
        if month == 11:
            op.run("premiums", "due", "--today", "2026-11-05", actor="bpkad.finance")
            for late in (9, 10):
                pay(op, late)
        pay(op, month)
    op.run("premiums", "pay", "--month", "2026-03", "--sp2d", "SP2D/03/BPKAD/2026",
           actor="bpkad.finance", expect=1)

    heading("Personal data in clear: for a reason, and recorded")
    op.run("workers", "show", died, "--unmask", "--reason", "JKM claim JKM-2026-000123 check",
           actor="dinsos.operator", show_lines=12)
    op.run("workers", "show", died, "--unmask", "--reason", "curious", actor="bpkad.finance",
           expect=7)
    op.run("audit", "viewings", "--nik", died, actor="inspektorat.audit")

    heading("Reports for finance and oversight")
    op.run("report", "budget", actor="bpkad.finance")
    op.run("report", "quota", "--by", "kecamatan", "--chart", "quota-by-kecamatan.png",
           actor="dprd.oversight")
    op.run("report", "quota", "--by", "decile", actor="dprd.oversight")
    op.run("report", "claims", actor="inspektorat.audit", show_lines=60)

    heading("Projections rebuilt from the events alone give the same figures")
    before = op.run("report", "budget", "--format", "json", actor="inspektorat.audit",
                    show_lines=20)
    op.run("projections", "rebuild", actor="inspektorat.audit")
    after = op.run("report", "budget", "--format", "json", actor="inspektorat.audit",
                   show_lines=0)
    same = "identical" if before == after else "DIFFERENT"
    print(f"\nreport budget before and after the rebuild: {same}")
    if before != after:
        raise SystemExit("demo found a difference after rebuilding the projections")
    op.run("projections", "status", actor="inspektorat.audit")

    heading("Inspektorat checks who wrote what, against the fingerprint kept at creation")
    op.run("audit", "verify", "--root", root, actor="inspektorat.audit")
    print(f"\nThe ledger is in {folder / 'jamsos.db'}; from here, try:\n  "
          + closing_hint(folder, Path(op.command[0]), Path.cwd()))


def pay(op: Operator, month: int) -> None:
    """A month's payment: proposed by BPKAD's finance officer, approved by its Kuasa BUD."""
    proposed = op.run("premiums", "pay", "--month", f"2026-{month:02d}",
                      "--sp2d", f"SP2D/{month:02d}/BPKAD/2026", actor="bpkad.finance",
                      show_lines=3)
    op.run("proposals", "approve", _proposal(proposed), actor=BUD, show_lines=3)


def closing_hint(folder: Path, jamsos: Path, cwd: Path) -> str:
    """A command that shows the demo's ledger, working as printed from `cwd`, where the demo
    ran: the venv's `jamsos` by its path (the venv need not be active, nor `jamsos` on PATH)
    and the ledger by its store URL. Paths under `cwd` are shown relative to it, as typed."""

    def shown(path: Path) -> str:
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, cwd)
        if relative.startswith(".."):
            return absolute
        return relative if os.sep in relative else f".{os.sep}{relative}"

    # `jamsos` alone when the interpreter has none beside it: then it is the one on PATH.
    program = shown(jamsos) if jamsos.is_absolute() else str(jamsos)
    store = f"sqlite:///{shown(folder / 'jamsos.db')}"
    return " ".join(shlex.quote(part) for part in (program, "--store", store, "report", "quota"))


def _enrolled_niks(folder: Path, wanted: int) -> list[str]:
    """NIKs of enrolled workers for the story, looked up as an operator would, by NIK."""
    from jamsos_ledger.application import Ledger
    from jamsos_ledger.domain.errors import NotFound

    ledger = Ledger(f"sqlite:///{folder / 'jamsos.db'}", actor="demo")
    try:
        program = ledger.program()
        found: list[str] = []
        with (folder / "registrasi-2026.csv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                try:
                    worker = ledger.worker(row["nik"])
                except NotFound:
                    continue  # a rejected row
                if program.id in worker.coverages and row["nik"] not in found:
                    found.append(row["nik"])
                if len(found) == wanted:
                    return found
        raise SystemExit(f"demo found fewer than {wanted} enrolled workers")
    finally:
        ledger.close()


if __name__ == "__main__":
    main()
