"""A year of Kota Bekasi's 2026 program, run through the `jamsos` command as operators would.

`make demo` (or `.venv/bin/python demo/bekasi_2026.py [FOLDER]`) writes a realistic
registration file (Disnaker and Dinsos extracts, with the kinds of bad rows real audits find:
`registration_file.py`), then opens the program, imports, ranks, shows the refusal of 10,000
full-year places, proposes the 9,920 that fit for the head of Disnaker to approve (four eyes),
pays twelve monthly bills, each proposed by one BPKAD officer and approved by another (two of
them late, warned about by `premiums due`), and through the year the outside parties' files,
which the demo writes in the forms their offices produce (`office_files.py`): Dukcapil's deaths
as a workbook (`workers deaths`: a death reported after its month was paid, an overpayment),
BPJS's June invoice as Excel's CSV UTF-8 with one difference of each kind (`premiums
reconcile`, then `premiums pay --invoice`), DTSEN's 2026-Q2 deciles separated by semicolons
(`workers deciles`: one worker crosses the eligibility line, all ranked again), and an August
SP2D returned by the bank (`premiums reverse` proposed by one BPKAD officer and approved by
another, then paid again under a new SP2D). It records
moves, claims and their benefits, and prints the reports and their charts
(`budget-burndown.png` mid-year, `quota-by-kecamatan.png`).
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from office_files import (
    InvoiceDefects,
    Person,
    invoice_lines,
    write_deaths,
    write_deciles,
    write_invoice,
)

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
        returncode, stdout, stderr = self.execute(["--key", key, *args])
        output = (stdout + stderr).rstrip()
        lines = output.splitlines()
        print("\n".join(lines[:show_lines]))
        if len(lines) > show_lines:
            print(f"... ({counted(len(lines) - show_lines, 'more line')})")
        if returncode != expect:
            print(f"[exit {returncode}, expected {expect}]")
            raise SystemExit(f"demo stopped: `jamsos {shown}` exited {returncode}")
        if expect:
            print(f"[exit {returncode}, as expected: nothing was written]")
        return stdout

    def execute(self, args: list[str]) -> tuple[int, str, str]:
        """Run `jamsos ARGS` in the demo's folder: its exit code, standard output and error."""
        result = subprocess.run(
            [*self.command, *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode, result.stdout, result.stderr


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


def open_program(op: Operator, *, allocation: int, quota: int) -> str:
    """Each of the cast makes its key; the administrator opens the 2026 program with four eyes,
    enrols the others and gives up every role but its own. Returns the administrator's key
    fingerprint, the root of trust."""
    public = {name: _public_key(op.run("key", "new", actor=name)) for name, _, _ in CAST}
    opened = op.run("program", "open", "--year", "2026", "--allocation", str(allocation),
                    "--quota", str(quota), "--name", "Perlindungan pekerja rentan 2026",
                    "--four-eyes", "--admin-name", ADMIN, "--admin-office", "Diskominfo",
                    actor=ADMIN)
    for name, office, role in CAST[1:]:
        op.run("principals", "enrol", name, "--office", office, "--role", role,
               "--public-key", public[name], actor=ADMIN)
    # The root holds every role until the offices have their own principals; then it keeps
    # only the administrator's, so the key that makes principals moves no money nor sees data.
    op.run("principals", "withdraw", ADMIN, "--role", "operator", "--role", "approver",
           "--role", "finance", "--role", "auditor",
           "--reason", "separation of duties: each office acts with its own key", actor=ADMIN)
    return opened.split("key fingerprint ")[1].split()[0]


def _public_key(said: str) -> str:
    return said.split("Public key:")[1].split()[0]


def proposal_of(said: str) -> str:
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
    root = open_program(op, allocation=2_000_000_000, quota=10_000)
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
    decree = proposal_of(op.run("enroll", "--top", "9920", "--start", "2026-01", "--decree",
                                "KEP-WALI/100/2026"))
    op.run("report", "budget", actor=HEAD, show_lines=60)
    # One key never moves money or places: the operator who proposed cannot approve.
    op.run("proposals", "approve", decree, expect=7)
    op.run("proposals", "approve", decree, actor=HEAD)
    # An APBD-P proposed before the budget law passed: rejected, with its reason.
    amendment = proposal_of(op.run("program", "amend", "--allocation", "2016000000",
                                   "--reason", "APBD-P 2026 draft",
                                   actor="bpkad.finance"))
    op.run("proposals", "reject", amendment, "--reason", "APBD-P not passed by DPRD yet",
           actor=HEAD)

    heading("A year of BPJS bills, deaths, moves, claims, DTSEN and a reversal")
    cast = story_workers(folder)
    died, moved, injured = (p.nik for p in cast.enrolled[:3])
    for month in range(1, 13):
        if month == 5:
            # A March death, reported in May after the April bill was paid: April is overpaid.
            # JKM pays Rp 42.000.000 (BPJS's money: recorded for evaluation, not the budget).
            op.run("claims", "file", "--nik", died, "--scheme", "JKM", "--date", "2026-03-14",
                   "--reference", "JKM-2026-000123", "--benefit", "42000000",
                   actor="dinsos.operator")
            deaths_of_april(op, cast)
        if month == 6:
            op.run("claims", "file", "--nik", injured, "--scheme", "JKK", "--date", "2026-06-10",
                   "--reference", "JKK-2026-000311", actor="dinsos.operator")
            reconcile_and_pay(op, cast, "2026-06")
            continue  # paid as reconciled
        if month == 7:
            # Mid-year, finance reads the burn-down: paid so far, and the forecast to December.
            op.run("report", "budget", "--chart", "budget-burndown.png", actor="bpkad.finance",
                   show_lines=45)
            print(f"(chart: {folder / 'budget-burndown.png'})")
            dtsen_release(op, cast)
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
        if month == 8:
            reverse_and_pay_again(op, month)
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


def pay(op: Operator, month: int, *, sp2d: str | None = None, invoice: str | None = None) -> None:
    """A month's payment: proposed by BPKAD's finance officer, approved by its Kuasa BUD;
    with `invoice`, what the reconciliation of BPJS's invoice agreed."""
    order = sp2d or f"SP2D/{month:02d}/BPKAD/2026"
    agreed = ("--invoice", invoice) if invoice else ()
    proposed = op.run("premiums", "pay", "--month", f"2026-{month:02d}", "--sp2d", order,
                      *agreed, actor="bpkad.finance", show_lines=3)
    op.run("proposals", "approve", proposal_of(proposed), actor=BUD, show_lines=3)


# NIKs of the NIK's form that the registration file does not hold: people the ledger does not
# know, as the civil registry and BPJS name them.
STRANGER_DIED = Person("3275024212889901", "Yanti Marlina")
STRANGER_BILLED = Person("3275051708909902", "Dedi Kurniawan")


@dataclass
class StoryWorkers:
    """The workers the year's events happen to, found in the ledger as an operator would."""

    enrolled: list[Person]  # died in March, moved, injured, died in April, and four more
    ineligible: Person  # registered with a decile the rules do not rank
    deciles: dict[str, int]  # each story worker's decile as registered
    names: dict[str, str]  # every NIK of the registration file, with its name


def deaths_of_april(op: Operator, cast: StoryWorkers) -> None:
    """Dukcapil's deaths up to April, a workbook: the March death reported late (April was
    paid: an overpayment), an April death (its later months released), a stranger."""
    died_march, died_april = cast.enrolled[0], cast.enrolled[3]
    write_deaths(op.folder / "meninggal-2026-04.xlsx", [
        (died_march, date(2026, 3, 14)),
        (STRANGER_DIED, date(2026, 4, 2)),
        (died_april, date(2026, 4, 20)),
    ])
    op.run("workers", "deaths", "meninggal-2026-04.xlsx", actor="dinsos.operator")


def reconcile_and_pay(op: Operator, cast: StoryWorkers, month: str) -> None:
    """BPJS's invoice of the month, set against the ledger before it is paid: one difference
    of each kind; the month paid as agreed, the two left out once BPJS bills them right."""
    covered, jkk, jkm = _covered(op.folder, month, cast.names)
    defects = InvoiceDefects(ended=cast.enrolled[0], not_billed=cast.enrolled[4],
                             other_amount=cast.enrolled[5], twice=cast.enrolled[6],
                             unknown=STRANGER_BILLED)
    invoice = f"tagihan-bpjs-{month}.csv"
    write_invoice(op.folder / invoice, invoice_lines(month, covered, defects, jkk, jkm))
    op.run("premiums", "reconcile", "--month", month, "--invoice", invoice,
           actor="bpkad.finance", show_lines=30)
    number = int(month[-2:])
    pay(op, number, invoice=invoice)
    # BPJS activates the participant it had not billed and corrects the JKK it billed wrong:
    # the two left out are paid under an SP2D of their own.
    pay(op, number, sp2d=f"SP2D/{number:02d}-2/BPKAD/2026")


def dtsen_release(op: Operator, cast: StoryWorkers) -> None:
    """DTSEN's 2026-Q2 release: one registered worker becomes eligible (decile 7 -> 3), an
    enrolled one moves within the eligible deciles, one is unchanged; all ranked again."""
    moved_up, changed, same = cast.ineligible, cast.enrolled[7], cast.enrolled[2]
    within = 1 if cast.deciles[changed.nik] != 1 else 2
    write_deciles(op.folder / "dtsen-2026-q2.csv", [
        (same, cast.deciles[same.nik]), (changed, within), (moved_up, 3)])
    op.run("workers", "deciles", "dtsen-2026-q2.csv", "--release", "2026-Q2")
    op.run("workers", "show", moved_up.nik, show_lines=14)


def reverse_and_pay_again(op: Operator, month: int) -> None:
    """The bank returned the month's SP2D (BPJS's account mistyped): the payment is reversed,
    never deleted, and the month paid again under a new SP2D, under four eyes: the finance
    officer proposes the reversal, the officer who proposed it cannot approve it, the Kuasa
    BUD does."""
    proposed = op.run("premiums", "reverse", "--sp2d", f"SP2D/{month:02d}/BPKAD/2026",
                      "--reason", "SP2D returned by the bank: BPJS account number mistyped, "
                      "BPKAD letter 900/1187/2026", actor="bpkad.finance")
    reversal = proposal_of(proposed)
    op.run("proposals", "approve", reversal, actor="bpkad.finance", expect=1)
    op.run("proposals", "approve", reversal, actor=BUD)
    op.run("premiums", "due", "--today", f"2026-{month:02d}-20", actor="bpkad.finance")
    pay(op, month, sp2d=f"SP2D/{month:02d}-R/BPKAD/2026")


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


def _registered(folder: Path) -> list[dict[str, str]]:
    with (folder / "registrasi-2026.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def story_workers(folder: Path) -> StoryWorkers:
    """Eight enrolled workers and one registered but not eligible, looked up as an operator
    would, by NIK."""
    from jamsos_ledger.application import Ledger
    from jamsos_ledger.domain.errors import NotFound

    rows = _registered(folder)
    names = {row["nik"]: row["name"] for row in rows}
    for stranger in (STRANGER_DIED, STRANGER_BILLED):
        if stranger.nik in names:
            raise SystemExit(f"demo's stranger {stranger.nik} is in the registration file")
    ledger = Ledger(f"sqlite:///{folder / 'jamsos.db'}", actor="demo")
    try:
        program = ledger.program()
        enrolled: list[Person] = []
        ineligible: Person | None = None
        deciles: dict[str, int] = {}
        for row in rows:
            nik = row["nik"]
            if len(enrolled) == 8 and ineligible is not None:
                break
            if nik in deciles:
                continue  # a repeated row
            try:
                worker = ledger.worker(nik)
            except NotFound:
                continue  # a rejected row
            if program.id in worker.coverages and len(enrolled) < 8:
                enrolled.append(Person(nik, row["name"]))
            elif int(row["decile"]) >= 6 and ineligible is None:
                ineligible = Person(nik, row["name"])
            else:
                continue
            deciles[nik] = int(row["decile"])
        if len(enrolled) < 8 or ineligible is None:
            raise SystemExit("demo found too few workers for its story")
        return StoryWorkers(enrolled, ineligible, deciles, names)
    finally:
        ledger.close()


def _covered(folder: Path, month: str, names: dict[str, str]) -> tuple[list[Person], int, int]:
    """The participants the program covers in the month, as BPJS has them, and the rates."""
    from jamsos_ledger.application import Ledger
    from jamsos_ledger.domain.model import worker_id

    ledger = Ledger(f"sqlite:///{folder / 'jamsos.db'}", actor="demo")
    try:
        program = ledger.program()
        ids = set(ledger.views.covered_in(program.id, month))
        covered = [Person(nik, name) for nik, name in names.items() if worker_id(nik) in ids]
        return covered, program.premium.jkk, program.premium.jkm
    finally:
        ledger.close()


if __name__ == "__main__":
    main()
