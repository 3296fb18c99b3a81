"""`jamsos report`: budget burn, quota use and claims, for people and for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from uuid import UUID

import click

from jamsos_ledger.application.as_of import report_views
from jamsos_ledger.application.moments import format_when
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import as_of_option, format_option
from jamsos_ledger.cli.output_files import OutputFile, output_file, overwrite_option
from jamsos_ledger.cli.proposals import echo_pending
from jamsos_ledger.cli.report_forms import (
    MaskNiks,
    show_budget,
    show_claims,
    show_quota,
    show_quota_by,
)
from jamsos_ledger.projections import GROUPINGS


@click.group()
def report() -> None:
    """Reports from the projections: budget, quota, claims."""


CHART_OPTION = click.option(
    "--chart",
    type=click.Path(path_type=Path),
    metavar="FILE.png",
    help="Also draw the report as a PNG chart in FILE.png, a new file (for a printed page).",
)


def chart_file(chart: Path | None, overwrite: bool) -> OutputFile | None:
    """The chart's file, checked (never the ledger; new unless --overwrite) before the report
    reads anything."""
    return output_file(chart, option="--chart", overwrite=overwrite)


@report.command("budget")
@format_option()
@as_of_option()
@CHART_OPTION
@overwrite_option()
@pass_ledger
def budget_command(
    obj: LedgerContext, fmt: str, as_of: datetime | None, chart: Path | None, overwrite: bool
) -> None:
    """Allocation, committed, paid and available (pagu - committed - paid), month by month.

    Each month shows what was planned, what was paid (with its SP2D numbers) and what is still
    to pay; the forecast says what will be left unspent at year end (SiLPA) if nothing changes.
    CSV has one row a month, then as its last columns the program's figures, what the pending
    proposals would change once approved (`pending_proposals`, `pending_commit`,
    `pending_pay`; each proposal: `proposals list --status pending`) and the position;
    JSON has the totals, `forecast`, the months under `months` and the proposals under
    `pending`. The table ends with the pending proposals (four eyes) and what each would
    commit, pay or release once approved. With --as-of no pending proposals are given.
    """
    drawn = chart_file(chart, overwrite)
    p = obj.program()
    # The proposals waiting now (as of a moment past, none are listed: what waited then is
    # not what a script reading the figures of then could act on).
    pending = obj.ledger.pending(p.code) if as_of is None else None
    with report_views(obj.ledger, as_of, p) as views:
        _as_of_header(fmt, as_of)
        show_budget(views, p.id, fmt, drawn, pending)
    if fmt == "table" and as_of is None:
        echo_pending(obj, p.code)


@report.command("quota")
@format_option()
@click.option(
    "--by", type=click.Choice(GROUPINGS), help="One row per kecamatan, occupation or decile."
)
@as_of_option()
@CHART_OPTION
@overwrite_option()
@pass_ledger
def quota_command(
    obj: LedgerContext,
    fmt: str,
    by: str | None,
    as_of: datetime | None,
    chart: Path | None,
    overwrite: bool,
) -> None:
    """Quota use: places held (enrolled, not ended) and available, or per group with --by.

    Enrolled is shown against registered and eligible workers, with whether priority was
    respected: no worker of a lower tier enrolled while an eligible one of a higher tier waits.
    The chart draws enrolment by kecamatan and decile.
    """
    drawn = chart_file(chart, overwrite)
    p = obj.program()
    with report_views(obj.ledger, as_of, p) as views:
        _as_of_header(fmt, as_of)
        if by is None:
            show_quota(views, p.id, fmt, _masker(obj), drawn)
        else:
            show_quota_by(views, p.id, by, fmt, _masker(obj), drawn)


def _as_of_header(fmt: str, as_of: datetime | None) -> None:
    """Above the tables of a report as of a moment: which moment, and how it was computed."""
    if as_of is not None and fmt == "table":
        click.echo(f"As of {format_when(as_of)}: replayed from the events recorded up to then")


def _masker(obj: LedgerContext) -> MaskNiks:
    def mask(ids: Sequence[UUID]) -> dict[UUID, str]:
        return {wid: w.masked_nik for wid, w in obj.ledger.aggregates(list(ids)).items()}

    return mask


@report.command("claims")
@format_option()
@as_of_option()
@pass_ledger
def claims_command(obj: LedgerContext, fmt: str, as_of: datetime | None) -> None:
    """Claims recorded under the program, by scheme, month and kecamatan, with benefits.

    Benefits are paid by BPJS, not from the budget: recorded for the program's evaluation.
    """
    p = obj.program()
    with report_views(obj.ledger, as_of, p) as views:
        _as_of_header(fmt, as_of)
        show_claims(views, p.id, p.code, fmt)
