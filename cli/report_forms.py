"""How the reports are shown: tables with totals for people, CSV and JSON for scripts.

The reports are typed values (`projections.report_values`), computed by `projections.reporting`
from whatever `Views` the command hands over (live, or an auditor's replay as of a moment),
each report's read in one go (`Views.reading`); this module only lays them out, once the
reading is over (a chart can take seconds to draw, too long to keep a transaction open). JSON
is `report_json` of the value, as a service would return it.
Every report says the ledger position (the last event) it was computed from and the chain
digest of the log there: two lines under the tables, the last columns of CSV, and `position`
and `digest` keys in JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import click

from jamsos_ledger.application.proposal_view import pending_rows, pending_totals
from jamsos_ledger.cli.output import (
    Column,
    echo_csv,
    echo_fields,
    echo_json,
    echo_table,
    wib,
)
from jamsos_ledger.cli.output_files import OutputFile
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.proposals import Proposal
from jamsos_ledger.projections.report_values import (
    BudgetReport,
    ClaimsReport,
    MaskNiks,
    PriorityShown,
    QuotaByReport,
    QuotaReport,
    report_json,
)
from jamsos_ledger.projections.reporting import (
    budget_report,
    claims_report,
    enrolment_by_kecamatan_and_decile,
    quota_by_report,
    quota_report,
)
from jamsos_ledger.projections.views import Views
from jamsos_ledger.stores.integrity import Digest

__all__ = ["MaskNiks", "echo_position", "show_budget", "show_claims", "show_quota",
           "show_quota_by"]


def position_line(position: int) -> str:
    return f"Computed from the ledger up to event {count(position)} (its position in the log)."


def digest_line(position: int, digest: Digest | None) -> str:
    """The chain digest a report was computed at, to check against an export of the log."""
    if digest is None:
        return f"Chain digest at event {count(position)}: none (this store keeps no chain there)."
    return (f"Chain digest at event {count(position)}: {digest} "
            "(`jamsos audit verify --digest` checks the log against it).")


def echo_position(position: int, digest: Digest | None) -> None:
    """Under a report's tables: where in the log it was computed, and the digest there."""
    click.echo(position_line(position))
    click.echo(digest_line(position, digest))


def where_columns(position: int, digest: Digest | None) -> dict[str, Any]:
    """The last columns of every CSV report: its position, then the digest there."""
    return {"position": position, "digest": None if digest is None else str(digest)}


def echo_totals_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    totals: Mapping[str, Any] | None,
    *,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """A table whose last row, set apart, holds the totals."""
    echo_table(columns, rows, totals=totals, title=title, caption=caption)


# -- budget ------------------------------------------------------------------------------

MONTH_COLUMNS = [
    Column("month", "Month"),
    Column("active", "Participants", "count"),
    Column("paid_participants", "Paid for", "count"),
    Column("planned", "Planned", "money"),
    Column("committed", "Committed", "money"),
    Column("paid", "Paid", "money"),
    Column("overpaid", "Overpaid", "money"),
]
# CSV keeps its first columns in their order; later ones are added at the end.
BUDGET_CSV_COLUMNS = [
    *MONTH_COLUMNS,
    *(Column(f"{k}_{s}", "") for k in ("committed", "paid") for s in ("jkk", "jkm")),
    Column("status", ""),
    Column("sp2d", ""),
    Column("forecast", ""),
    Column("cumulative_paid", ""),
    Column("cumulative_forecast", ""),
    *(Column(f"{k}_{s}", "") for k in ("planned", "overpaid") for s in ("jkk", "jkm")),
]
BUDGET_TABLE_COLUMNS = [
    Column("month", "Month"),
    Column("active", "Participants", "count"),
    Column("paid_participants", "Paid for", "count"),
    Column("planned", "Planned", "money"),
    Column("paid", "Paid", "money"),
    Column("sp2d_text", "SP2D"),
    Column("forecast", "Forecast to pay", "money"),
    Column("overpaid", "Overpaid", "money"),
    Column("status", "Status"),
]


def budget_summary(
    report: BudgetReport, pending: Sequence[Proposal] | None = None
) -> dict[str, Any]:
    """The program's figures on every row of the budget's CSV, after the month's own: the
    month's `committed`, `paid` and `overpaid` keep their names, the program's are `total_`;
    then what the `pending` proposals would change, when given; the position last, as in
    every report's CSV."""
    return {
        "allocation": report.allocation,
        "total_committed": report.committed,
        "total_paid": report.paid,
        "total_overpaid": report.overpaid,
        "available": report.available,
        "silpa": report.silpa,
        "enrolled": report.enrolled,
        **(pending_totals(pending) if pending is not None else {}),
        **where_columns(report.position, report.digest),
    }


def show_budget(
    views: Views, program_id: UUID, fmt: str, chart: OutputFile | None,
    pending: Sequence[Proposal] | None = None,
) -> BudgetReport:
    """`report budget`: the figures, the months with their SP2D numbers, the forecast; in
    JSON and CSV, the `pending` proposals given (the table lists them under itself)."""
    with views.reading():
        report = budget_report(views, program_id)
    if chart is not None:
        from jamsos_ledger.cli.charts import budget_figure, save

        save(budget_figure(report), chart)
    if fmt == "json":
        shown = report_json(report)
        echo_json(shown if pending is None else {**shown, "pending": pending_rows(pending)})
    elif fmt == "csv":
        echo_csv(BUDGET_CSV_COLUMNS,
                 [{**report_json(m), "sp2d": " ".join(m.sp2d)} for m in report.months],
                 budget_summary(report, pending))
    else:
        f = report.forecast
        echo_fields(
            [
                ("Allocation (pagu)", rupiah(report.allocation)),
                ("Committed", f"{rupiah(report.committed)} (JKK "
                              f"{rupiah(report.committed_jkk)}, JKM "
                              f"{rupiah(report.committed_jkm)})"),
                ("Paid", f"{rupiah(report.paid)} (JKK {rupiah(report.paid_jkk)}, JKM "
                         f"{rupiah(report.paid_jkm)}) under {count(report.payments)} SP2D"),
                ("Overpaid", f"{rupiah(report.overpaid)} (paid for coverage that ended: "
                             "to offset or recover)"),
                ("Available", rupiah(report.available)),
                ("Enrolled", count(report.enrolled)),
                ("Forecast", f"{rupiah(f.to_pay)} still to pay"
                             + (f", from {f.first_unpaid_month} to {report.end}"
                                if f.first_unpaid_month else "")
                             + f": {rupiah(f.spent_at_end)} spent by {report.end}"),
                ("SiLPA", f"{rupiah(f.silpa)} left unspent at year end if nothing changes"),
            ],
            title=f"Budget of {report.program} ({report.start} to {report.end})",
        )
        rows = [{**report_json(m), "sp2d_text": ", ".join(m.sp2d) or "-"}
                for m in report.months]
        totals: dict[str, Any] = {
            "planned": sum(m.planned for m in report.months),
            "paid": sum(m.paid for m in report.months),
            "forecast": sum(m.forecast for m in report.months),
            "overpaid": sum(m.overpaid for m in report.months),
            "month": "Total",
        }
        echo_totals_table(
            BUDGET_TABLE_COLUMNS, rows, totals, title="Month by month: planned, paid, forecast",
            caption="Forecast: each month not yet paid is billed for its covered participants.",
        )
        if chart is not None:
            click.echo(f"Chart written to {chart}")
        echo_position(report.position, report.digest)
    return report


# -- quota -------------------------------------------------------------------------------


def priority_lines(priority: PriorityShown) -> list[str]:
    if priority.respected:
        return [f"Priority respected under {priority.ruleset} ({priority.description}): no "
                "worker of a lower tier was enrolled while an eligible worker of a higher tier "
                "waited."]
    one = priority.violations == 1
    lines = [f"PRIORITY NOT RESPECTED under {priority.ruleset}: "
             f"{counted(priority.violations, 'enrolment')} passed over eligible workers of a "
             f"higher tier who still wait, {'this one' if one else 'e.g.'}:"]
    for e in priority.examples:
        lines.append(
            f"  {e.enrolled} (decile {e.decile}) enrolled at event {count(e.position)} "
            f"while {count(e.waiting)} waited, first {e.first_waiting} (decile "
            f"{e.first_waiting_decile})"
        )
    return lines


QUOTA_COLUMNS = [
    Column("quota", "Quota", "count"),
    Column("enrolled", "Enrolled", "count"),
    Column("available", "Available", "count"),
    Column("ended", "Ended", "count"),
    Column("registered", "Registered", "count"),
    Column("eligible", "Eligible", "count"),
    Column("waiting", "Eligible, waiting", "count"),
]


def show_quota(
    views: Views, program_id: UUID, fmt: str, mask: MaskNiks, chart: OutputFile | None
) -> QuotaReport:
    """`report quota`: places held and available, eligible workers, the priority check."""
    with views.reading():
        report = quota_report(views, program_id, mask)
        drawn = _quota_chart_table(views, program_id, chart)
    _quota_chart(drawn, report, chart)
    if fmt == "json":
        echo_json(report_json(report))
    elif fmt == "csv":
        echo_csv([Column("program", ""), *QUOTA_COLUMNS], [report_json(report)],
                 {"priority_violations": report.priority.violations,
                  **where_columns(report.position, report.digest)})
    else:
        echo_totals_table(QUOTA_COLUMNS, [report_json(report)], None,
                          title=f"Quota of {report.program}")
        for line in priority_lines(report.priority):
            click.echo(line)
        if chart is not None:
            click.echo(f"Chart written to {chart}")
        echo_position(report.position, report.digest)
    return report


def show_quota_by(
    views: Views, program_id: UUID, by: str, fmt: str, mask: MaskNiks, chart: OutputFile | None
) -> QuotaByReport:
    """`report quota --by`: per group, enrolled against registered and eligible."""
    with views.reading():
        report = quota_by_report(views, program_id, by, mask)
        drawn = _quota_chart_table(views, program_id, chart)
    summary = report.summary
    _quota_chart(drawn, summary, chart)
    columns = [
        Column(by, by.capitalize()),
        Column("enrolled", "Enrolled", "count"),
        Column("ended", "Ended", "count"),
        Column("registered", "Registered", "count"),
        Column("eligible", "Eligible", "count"),
        Column("waiting", "Eligible, waiting", "count"),
        *([Column("tier", "Tier")] if by == "decile" else []),
    ]
    # A list, one object a group (keys kept from release to release); each says the
    # position it was computed from and the digest there.
    rows = report_json(report)
    if fmt == "json":
        echo_json(rows)
    elif fmt == "csv":
        echo_csv(columns, rows, {
            "quota": summary.quota, "total_enrolled": summary.enrolled,
            "available": summary.available, **where_columns(report.position, report.digest),
        })
    else:
        totals: dict[str, Any] = {
            "enrolled": sum(g.enrolled for g in report.groups),
            "ended": sum(g.ended for g in report.groups),
            "registered": sum(g.registered for g in report.groups),
            "eligible": sum(g.eligible for g in report.groups),
            "waiting": sum(g.waiting for g in report.groups),
            by: "Total",
        }
        echo_totals_table(
            columns, rows, totals, title=f"Quota of {summary.program} by {by}",
            caption=f"{count(summary.enrolled)} enrolled of a quota of {count(summary.quota)}",
        )
        for line in priority_lines(summary.priority):
            click.echo(line)
        if chart is not None:
            click.echo(f"Chart written to {chart}")
        echo_position(report.position, report.digest)
    return report


def _quota_chart_table(
    views: Views, program_id: UUID, chart: OutputFile | None
) -> dict[str, dict[int, int]] | None:
    """What the quota chart draws, when one is asked for."""
    return None if chart is None else enrolment_by_kecamatan_and_decile(views, program_id)


def _quota_chart(
    table: dict[str, dict[int, int]] | None, summary: QuotaReport, chart: OutputFile | None
) -> None:
    if chart is None or table is None:
        return
    from jamsos_ledger.cli.charts import quota_figure, save

    save(quota_figure(table, program=summary.program, quota=summary.quota,
                      position=summary.position,
                      digest=None if summary.digest is None else str(summary.digest)), chart)


# -- claims ------------------------------------------------------------------------------

CLAIM_COLUMNS = [
    Column("reference", "Reference"),
    Column("scheme", "Scheme"),
    Column("incident_date", "Date"),
    Column("month", "Month"),
    Column("kecamatan", "Kecamatan"),
    Column("occupation", "Occupation"),
    Column("decile", "Decile"),
    Column("recorded_at", "Recorded (WIB)"),
    Column("actor", "By"),
    Column("benefit", "Benefit (BPJS)", "money"),
]
TALLY_COLUMNS = [
    Column("JKK", "JKK", "count"),
    Column("JKM", "JKM", "count"),
    Column("total", "Claims", "count"),
    Column("benefits", "Benefits (BPJS)", "money"),
]


def show_claims(views: Views, program_id: UUID, code: str, fmt: str) -> ClaimsReport:
    """`report claims`: every claim, and counts and benefits by scheme, month and kecamatan."""
    with views.reading():
        report = claims_report(views, program_id, code)
    rows = [report_json(c) for c in report.claims]
    if fmt == "json":
        echo_json(report_json(report))
        return report
    if fmt == "csv":
        echo_csv(CLAIM_COLUMNS, rows, {
            "total_claims": report.total, "total_jkk": report.by_scheme["JKK"],
            "total_jkm": report.by_scheme["JKM"], "total_benefits": report.benefits_total,
            **where_columns(report.position, report.digest),
        })
        return report
    by_scheme, benefits = report.by_scheme, report.benefits_by_scheme
    echo_totals_table(
        CLAIM_COLUMNS, [{**r, "recorded_at": wib(r["recorded_at"])} for r in rows],
        {"reference": "Total", "benefit": report.benefits_total} if rows else None,
        title=f"Claims in {code}",
        caption=f"{counted(len(rows), 'claim')}: JKK {count(by_scheme['JKK'])}, "
                f"JKM {count(by_scheme['JKM'])}; benefits paid by BPJS, never from the budget",
    )
    if rows:
        schemes = [
            {"scheme": s, "total": by_scheme[s], "benefits": benefits[s]} for s in ("JKK", "JKM")
        ]
        echo_totals_table(
            [Column("scheme", "Scheme"), *TALLY_COLUMNS[2:]], schemes,
            {"scheme": "Total", "total": len(rows), "benefits": report.benefits_total},
            title="By scheme",
            caption=f"Benefits recorded on {count(report.with_benefit)} of "
                    f"{counted(len(rows), 'claim')}",
        )
        for key, title, tallies in (("month", "By month", report.by_month),
                                    ("kecamatan", "By kecamatan", report.by_kecamatan)):
            tally = [report_json(t) for t in tallies]
            totals: dict[str, Any] = {
                **{s: sum(t.by_scheme[s] for t in tallies) for s in ("JKK", "JKM")},
                "total": sum(t.total for t in tallies),
                "benefits": sum(t.benefits for t in tallies),
            }
            echo_totals_table([Column(key, key.capitalize()), *TALLY_COLUMNS], tally,
                              {key: "Total", **totals}, title=title)
    echo_position(report.position, report.digest)
    return report
