"""`jamsos premiums reconcile`: BPJS's invoice of a month set against the ledger, recorded.

The differences are printed (table, CSV, JSON; NIKs masked, names as initials) with the
participants paid for months after their coverage ended, to recover; the reconciliation is
recorded on the program and the KPJ numbers on the workers. `premiums pay --invoice FILE`
then pays what it agreed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import recorded_so_far
from jamsos_ledger.cli.options import MONTH, format_option
from jamsos_ledger.cli.output import Column, echo_recorded, render
from jamsos_ledger.cli.report_forms import echo_position, where_columns
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.reconciliation import Reconciliation
from jamsos_ledger.files.invoice_file import read_invoice
from jamsos_ledger.projections.reporting import position
from jamsos_ledger.stores.integrity import digest_at

RECOVER = "overpaid, to recover"

COLUMNS = [
    Column("kind", "Difference"),
    Column("line", "Line"),
    Column("nik", "NIK"),
    Column("kpj", "KPJ"),
    Column("name", "Name"),
    Column("billed_jkk", "Billed JKK", "money"),
    Column("billed_jkm", "Billed JKM", "money"),
    Column("expected_jkk", "Expected JKK", "money"),
    Column("expected_jkm", "Expected JKM", "money"),
    Column("recover", "To recover", "money"),
    Column("detail", "Detail"),
]


@click.command("reconcile")
@click.option("--month", type=MONTH, required=True, help="The month the invoice bills.")
@click.option("--invoice", "path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="BPJS Ketenagakerjaan's invoice: CSV with nik,kpj,name,month,jkk,jkm,status.")
@format_option()
@pass_ledger
def reconcile_command(obj: LedgerContext, month: Month, path: Path, fmt: str) -> None:
    """Compare BPJS's invoice of a month with the program's participants of that month.

    Lists what is billed but not covered (ended, died, never enrolled), covered but not billed,
    billed at other amounts than the program's rates, billed twice, and NIKs the ledger does
    not know; and the participants paid for months after their coverage ended, to recover.
    Records the reconciliation (the invoice by its SHA-256) and the KPJ numbers it gives;
    `premiums pay --invoice` with the same file then pays what it agreed. A bad invoice is
    refused whole (exit 2), every bad line named, nothing recorded.
    """
    invoice = read_invoice(path, month)
    result = obj.ledger.reconcile_invoice(
        month=month, lines=invoice.lines, invoice=invoice.digest, code=obj.program_code
    )
    p = obj.program()
    agreed = result.agreed_amount
    said = (
        f"Reconciled the invoice of {month} ({counted(result.lines, 'line')}, "
        f"{rupiah(result.billed.total)} billed): {rupiah(agreed.total)} agreed for "
        f"{counted(len(result.agreed), 'participant')}, "
        f"{counted(len(result.differences), 'difference')}"
    )
    if fmt == "table":
        echo_recorded(said)
    else:  # scripts read standard output: what was recorded goes to standard error
        recorded_so_far().append(said)
        click.echo(said, err=True)
    rows = [d.row() | {"recover": 0} for d in result.differences] + _recoveries(obj, p)
    with obj.ledger.views.reading() as reading:
        at = position(reading)
    chain = digest_at(obj.ledger.recorder, at)
    data = _json(result, invoice.digest, rows, at) | {
        "digest": None if chain is None else str(chain)}
    render(fmt, COLUMNS, rows, data=data,
           summary={"agreed": len(result.agreed), "agreed_amount": agreed.total,
                    "billed_amount": result.billed.total, "invoice": invoice.digest,
                    **where_columns(at, chain)},
           title=f"Invoice of {month} against {p.code}",
           caption=_caption(result))
    if fmt == "table":
        click.echo(f"Pay it with: jamsos premiums pay --month {month} --sp2d REF --invoice {path}")
        echo_position(at, chain)


def _recoveries(obj: LedgerContext, program: Any) -> list[dict[str, Any]]:
    """Workers paid for months after their coverage ended, with the amounts to recover."""
    recoveries = program.recoveries()
    if not recoveries:
        return []
    workers = obj.ledger.aggregates(list(recoveries))
    rows = []
    for wid, premium in recoveries.items():
        worker = workers[wid]
        ended = worker.coverages[program.id].ended
        rows.append({
            "kind": RECOVER, "line": None, "nik": mask_nik(worker.nik),
            "kpj": getattr(worker, "kpj", None) or "", "name": "",
            "billed_jkk": 0, "billed_jkm": 0, "expected_jkk": 0, "expected_jkm": 0,
            "recover": premium.total,
            "detail": f"paid JKK {rupiah(premium.jkk)} and JKM {rupiah(premium.jkm)} for "
                      f"months after coverage ended in {ended}",
        })
    return sorted(rows, key=lambda r: (r["nik"], r["detail"]))


def _caption(result: Reconciliation) -> str:
    counts = "; ".join(f"{kind}: {count(n)}" for kind, n in result.counts().items())
    return f"Differences: {counts}"


def _json(result: Reconciliation, digest: str, rows: list[dict[str, Any]], at: int) -> Any:
    agreed = result.agreed_amount
    return {
        "month": str(result.month),
        "invoice": digest,
        "lines": result.lines,
        "billed": result.billed.total,
        "billed_jkk": result.billed.jkk,
        "billed_jkm": result.billed.jkm,
        "agreed": len(result.agreed),
        "agreed_amount": agreed.total,
        "agreed_jkk": agreed.jkk,
        "agreed_jkm": agreed.jkm,
        "counts": result.counts(),
        "differences": [r for r in rows if r["kind"] != RECOVER],
        "recover": [r for r in rows if r["kind"] == RECOVER],
        "position": at,
    }
