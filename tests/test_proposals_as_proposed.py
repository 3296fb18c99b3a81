"""Four eyes approve what was proposed (a reviewer's finding), on SQLite and PostgreSQL.

A payment proposed without --amount pins the bill it showed: if the bill has moved by the
time of approval (a worker enrolled since, or an enrolment annulled), the approval is refused
with both figures, nothing is written and the proposal stays pending. A decree of the top N
names the workers ranked first when it was proposed: a DTSEN release in between neither
changes whom it enrols nor lets it enrol one no longer eligible. Proposals stored before
these terms were pinned are checked against the figures they showed (payments) or refused
(a decree of the top N that names nobody).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_outside_registers import NIKS, REGISTRATIONS

from cli_helpers import as_json, enrolled, events, jamsos, key_for, ok
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.proposals import Proposal
from registration_file import generate_registrations


def short_of(out: str) -> str:
    """The short id of the proposal a command said it made."""
    found = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", out)
    assert found, out
    return found.group(1)


def proposed(url: str, *args: str, actor: str) -> str:
    """The short id of the proposal a command made."""
    return short_of(ok(url, *args, actor=actor).stdout)


def opened(url: str, tmp_path: Path) -> None:
    """A four-eyes program with the five workers of `test_outside_registers`, ranked: Budi
    (decile 1) first, then Siti (2) and Agus (3); Rina (5) and Dewi (8) are not eligible."""
    registrations = tmp_path / "registrasi.csv"
    registrations.write_bytes(REGISTRATIONS.encode("cp1252"))
    ok(url, "program", "open", "--four-eyes", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    ok(url, "workers", "import", str(registrations), actor="ops")
    ok(url, "workers", "prioritize", actor="ops")
    for actor in ("kadis", "ppk", "bud", "auditor"):
        enrolled(url, actor)  # their principals enrolled before any count of events


def status_of(url: str, pid: str) -> str:
    return str(as_json(url, "proposals", "show", pid)["status"])


def refused(url: str, pid: str, actor: str) -> str:
    """Approving is refused (exit 1), writes nothing and leaves the proposal pending."""
    before = events(url)
    result = jamsos(url, "proposals", "approve", pid, actor=actor)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert events(url) == before
    assert status_of(url, pid) == "pending"
    return " ".join(result.output.split())


def test_a_payment_pays_the_bill_it_proposed_or_nothing(store_url: str, tmp_path: Path) -> None:
    url = store_url
    opened(url, tmp_path)
    decree = proposed(url, "enroll", "--top", "2", "--start", "2026-05", "--decree", "KEP/1",
                      actor="ops")
    ok(url, "proposals", "approve", decree, actor="kadis")
    pay = ok(url, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D/05",
             actor="ppk").stdout
    assert "2 participants, would pay Rp 33.600" in pay
    pay_id = short_of(pay)
    # Another worker is enrolled from May before the payment is approved.
    agus = proposed(url, "enroll", "--nik", NIKS["AGUS"], "--start", "2026-05", "--decree",
                    "KEP/2", actor="ops")
    ok(url, "proposals", "approve", agus, actor="kadis")
    said = refused(url, pay_id, "bud")
    assert ("the bill for 2026-05 is now Rp 50.400 for 3 participants; the proposal was for "
            f"Rp 33.600 for 2: reject it (`jamsos proposals reject {pay_id}`) and propose "
            "again; nothing was paid") in said
    assert as_json(url, "program", "show")["paid"] == 0
    ok(url, "proposals", "reject", pay_id, "--reason", "the bill moved", actor="bud")

    # The other way: proposed for 3, one enrolment annulled before approval.
    again = proposed(url, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D/05b",
                     actor="ppk")
    assert as_json(url, "proposals", "show", again)["would_pay"] == 50_400
    annul = proposed(url, "annul", "--nik", NIKS["AGUS"], "--reason", "KEP/2 named him in "
                     "error", actor="ops")
    ok(url, "proposals", "approve", annul, actor="kadis")
    said = refused(url, again, "bud")
    assert ("the bill for 2026-05 is now Rp 33.600 for 2 participants; the proposal was for "
            "Rp 50.400 for 3") in said
    ok(url, "proposals", "reject", again, "--reason", "the bill moved", actor="bud")

    # The normal flow: proposed and approved on the same bill pays it.
    last = proposed(url, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D/05c",
                    actor="ppk")
    assert as_json(url, "proposals", "show", last)["figures"] == {"participants": 2,
                                                                   "paid": 33_600}
    approved = ok(url, "proposals", "approve", last, actor="bud").stdout
    assert "paid Rp 33.600 for 2 participants" in approved
    assert as_json(url, "program", "show")["paid"] == 33_600


def deciles(url: str, tmp_path: Path, release: str, budi: int) -> None:
    path = tmp_path / f"dtsen-{release}.csv"
    path.write_bytes(f"\ufeffNIK;Desil;Nama\r\n{NIKS['BUDI']};{budi};Budi Santoso\r\n".encode())
    ok(url, "workers", "deciles", str(path), "--release", release, actor="ops")


def test_a_decree_of_the_top_n_enrols_whom_it_named(store_url: str, tmp_path: Path) -> None:
    url = store_url
    opened(url, tmp_path)
    pid = proposed(url, "enroll", "--top", "1", "--start", "2026-01", "--decree", "KEP/1",
                   actor="ops")
    budi, siti = mask_nik(NIKS["BUDI"]), mask_nik(NIKS["SITI"])
    listed = ok(url, "proposals", "list", actor="auditor").stdout
    assert budi in listed and NIKS["BUDI"] not in listed
    shown = as_json(url, "proposals", "show", pid)
    assert shown["workers"] == [budi]
    assert f"top 1 as ranked when proposed: {budi} from 2026-01" in shown["what"]
    table = ok(url, "proposals", "show", pid).stdout
    assert f"1 worker: {budi}" in table and NIKS["BUDI"] not in table
    trail = ok(url, "audit", "log", "--format", "jsonl", actor="auditor").stdout
    assert NIKS["BUDI"] not in trail

    # In clear only for a reason, the viewing recorded first.
    clear = jamsos(url, "proposals", "show", pid, "--unmask", "--reason", "checking the "
                   "decree against the letter", "--format", "json", actor="auditor")
    assert clear.exit_code == 0, clear.output
    assert json.loads(clear.stdout)["workers"] == [NIKS["BUDI"]]
    viewings = ok(url, "audit", "viewings", "--nik", NIKS["BUDI"], actor="auditor").stdout
    assert "checking the decree" in viewings

    # DTSEN moves Budi out of the eligible deciles: Siti ranks first now. The decree named
    # Budi: refused with the reason, nothing written, pending.
    deciles(url, tmp_path, "2026-Q2", 8)
    said = refused(url, pid, "kadis")
    assert (f"1 of 1 worker cannot be enrolled in 2026: {budi} has DTSEN decile 8, not "
            "eligible under dtsen-desil-v1; nobody was enrolled") in said
    assert NIKS["BUDI"] not in said
    # Budi back to decile 3, now below Siti: the decree still enrols Budi, not Siti.
    deciles(url, tmp_path, "2026-Q3", 3)
    approved = ok(url, "proposals", "approve", pid, actor="kadis").stdout
    assert "enrolled 1 worker from 2026-01" in approved
    assert as_json(url, "workers", "show", NIKS["BUDI"])["coverages"]
    assert not as_json(url, "workers", "show", NIKS["SITI"])["coverages"]
    assert siti not in ok(url, "proposals", "show", pid).stdout


def stored_the_old_way(url: str, kind: str, terms: dict[str, object],
                       figures: dict[str, int]) -> str:
    """A proposal as the ledger stored it before its terms were pinned (the same event, the
    terms of then), proposed by `ops`."""
    ledger = Ledger(url, create=False, key=KeySource(key=key_for("ops")))
    try:
        proposal = Proposal.propose(kind=kind, program=ledger.program().code, terms=terms,
                                    figures=figures, proposer=ledger.actor)
        ledger.save(proposal)
        return proposal.short
    finally:
        ledger.close()


def test_proposals_stored_before_the_terms_were_pinned(store_url: str, tmp_path: Path) -> None:
    url = store_url
    opened(url, tmp_path)
    decree = stored_the_old_way(url, "enrolment", {"start": "2026-01", "niks": [], "top": 1,
                                                   "decree": "KEP/9"},
                                {"workers": 1, "committed": 201_600})
    said = refused(url, decree, "kadis")
    assert "was proposed as the top 1 before decrees named their workers" in said
    assert "reject it" in said and "propose again" in said
    assert "not named (propose it again)" in ok(url, "proposals", "show", decree).stdout
    ok(url, "proposals", "reject", decree, "--reason", "proposed the old way", actor="kadis")

    decree = proposed(url, "enroll", "--top", "2", "--start", "2026-01", actor="ops")
    ok(url, "proposals", "approve", decree, actor="kadis")
    # An annulment whose release is not the one it showed (no command moves it while no
    # month of the coverage is paid; the check guards the figures the approver saw).
    annul = stored_the_old_way(url, "annulment", {"nik": NIKS["BUDI"], "reason": "in error"},
                               {"workers": 1, "released": 16_800})
    said = refused(url, annul, "kadis")
    assert (f"annulling the enrolment of {mask_nik(NIKS['BUDI'])} would now release "
            "Rp 201.600; the proposal was for Rp 16.800") in said
    assert NIKS["BUDI"] not in said
    ok(url, "proposals", "reject", annul, "--reason", "figures do not match", actor="kadis")
    # A payment proposed without --amount when the bill was one participant: pinned to the
    # figures it showed.
    pay = stored_the_old_way(url, "payment", {"month": "2026-01", "sp2d": "SP2D/01",
                                              "amount": None, "invoice": None},
                             {"participants": 1, "paid": 16_800})
    said = refused(url, pay, "bud")
    assert ("the bill for 2026-01 is now Rp 33.600 for 2 participants; the proposal was for "
            "Rp 16.800 for 1") in said
    pay = stored_the_old_way(url, "payment", {"month": "2026-01", "sp2d": "SP2D/02",
                                              "amount": None, "invoice": None},
                             {"participants": 2, "paid": 33_600})
    assert "paid Rp 33.600 for 2 participants" in ok(url, "proposals", "approve", pay,
                                                     actor="bud").stdout


def test_a_large_decree_is_shown_in_part_and_listed_whole_in_json(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    path = tmp_path / "registrasi.csv"
    generate_registrations(path, 80, bad_rate=0, duplicate_rate=0)
    ok(url, "program", "open", "--four-eyes", "--year", "2026", "--allocation", "2000000000",
       "--quota", "100")
    ok(url, "workers", "import", str(path))
    ok(url, "workers", "prioritize")
    pid = proposed(url, "enroll", "--top", "25", "--start", "2026-01", actor="ops")
    table = " ".join(ok(url, "proposals", "show", pid).stdout.split())
    assert "25 workers: " in table and "and 5 more (--format json lists them all)" in table
    workers = as_json(url, "proposals", "show", pid)["workers"]
    assert len(workers) == 25
    assert all(re.fullmatch(r"\d{6}\*{8}\d{2}", n) for n in workers)
