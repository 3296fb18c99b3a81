"""`jamsos premiums reconcile`: BPJS's invoice of a month set against the ledger, recorded.

The differences are printed (table, CSV, JSON; NIKs masked, names as initials) with the
participants paid for months after their coverage ended, to recover; the reconciliation is
recorded on the program and the KPJ numbers on the workers. `premiums pay --invoice FILE`
then pays what it agreed.
"""

from __future__ import annotations

from pathlib import Path

import click

from jamsos_ledger.application.audit_values import reconciliation_json
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import recorded_so_far
from jamsos_ledger.cli.options import MONTH, format_option
from jamsos_ledger.cli.output import Column, echo_recorded, render
from jamsos_ledger.cli.report_forms import echo_position, where_columns
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.reconciliation import Reconciliation
from jamsos_ledger.files.invoice_file import read_invoice
from jamsos_ledger.stores.integrity import digest_at

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
    obj.ledger.check_role("reconcile_invoice")  # before the file is read: exit 7 without it
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
    data = reconciliation_json(obj.ledger, p, result, invoice.digest)
    rows = data["differences"] + data["recover"]
    at = data["position"]
    chain = digest_at(obj.ledger.recorder, at)
    render(fmt, COLUMNS, rows, data=data,
           summary={"agreed": len(result.agreed), "agreed_amount": agreed.total,
                    "billed_amount": result.billed.total, "invoice": invoice.digest,
                    **where_columns(at, chain)},
           title=f"Invoice of {month} against {p.code}",
           caption=_caption(result))
    if fmt == "table":
        click.echo(f"Pay it with: jamsos premiums pay --month {month} --sp2d REF --invoice {path}")
        echo_position(at, chain)


def _caption(result: Reconciliation) -> str:
    counts = "; ".join(f"{kind}: {count(n)}" for kind, n in result.counts().items())
    return f"Differences: {counts}"
