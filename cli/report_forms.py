"""How the reports are shown: tables with totals for people, CSV and JSON for scripts.

The figures come from `projections.reporting`, computed from whatever `Views` the command
hands over (live, or an auditor's replay as of a moment), each report's read in one go
(`Views.reading`); this module only lays them out, once the reading is over (a chart can take
seconds to draw, too long to keep a transaction open).
Every report says the ledger position (the last event) it was computed from: a line under the
tables, and a `position` key in JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import click

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
from jamsos_ledger.projections.reporting import (
    PriorityCheck,
    budget_report,
    claims_report,
    enrolment_by_kecamatan_and_decile,
    quota_groups,
    quota_report,
)
from jamsos_ledger.projections.views import Views

# Masked NIKs of workers, by aggregate id: the projections hold no personal data.
MaskNiks = Callable[[Sequence[UUID]], Mapping[UUID, str]]


def position_line(position: int) -> str:
    return f"Computed from the ledger up to event {count(position)} (its position in the log)."


def echo_position(position: int) -> None:
    click.echo(position_line(position))


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


def budget_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    """The program's figures on every row of the budget's CSV, after the month's own: the
    month's `committed`, `paid` and `overpaid` keep their names, the program's are `total_`."""
    return {
        "allocation": data["allocation"],
        "total_committed": data["committed"],
        "total_paid": data["paid"],
        "total_overpaid": data["overpaid"],
        "available": data["available"],
        "silpa": data["silpa"],
        "enrolled": data["enrolled"],
        "position": data["position"],
    }


def show_budget(
    views: Views, program_id: UUID, fmt: str, chart: OutputFile | None
) -> dict[str, Any]:
    """`report budget`: the figures, the months with their SP2D numbers, the forecast."""
    with views.reading():
        data = budget_report(views, program_id)
    if chart is not None:
        from jamsos_ledger.cli.charts import budget_figure, save

        save(budget_figure(data), chart)
    months = data["months"]
    if fmt == "json":
        echo_json(data)
    elif fmt == "csv":
        echo_csv(BUDGET_CSV_COLUMNS, [{**m, "sp2d": " ".join(m["sp2d"])} for m in months],
                 budget_summary(data))
    else:
        f = data["forecast"]
        echo_fields(
            [
                ("Allocation (pagu)", rupiah(data["allocation"])),
                ("Committed", f"{rupiah(data['committed'])} (JKK "
                              f"{rupiah(data['committed_jkk'])}, JKM "
                              f"{rupiah(data['committed_jkm'])})"),
                ("Paid", f"{rupiah(data['paid'])} (JKK {rupiah(data['paid_jkk'])}, JKM "
                         f"{rupiah(data['paid_jkm'])}) under {count(data['payments'])} SP2D"),
                ("Overpaid", f"{rupiah(data['overpaid'])} (paid for coverage that ended: "
                             "to offset or recover)"),
                ("Available", rupiah(data["available"])),
                ("Enrolled", count(data["enrolled"])),
                ("Forecast", f"{rupiah(f['to_pay'])} still to pay"
                             + (f", from {f['first_unpaid_month']} to {data['end']}"
                                if f["first_unpaid_month"] else "")
                             + f": {rupiah(f['spent_at_end'])} spent by {data['end']}"),
                ("SiLPA", f"{rupiah(f['silpa'])} left unspent at year end if nothing changes"),
            ],
            title=f"Budget of {data['program']} ({data['start']} to {data['end']})",
        )
        rows = [{**m, "sp2d_text": ", ".join(m["sp2d"]) or "-"} for m in months]
        totals = {k: sum(m[k] for m in months) for k in ("planned", "paid", "forecast",
                                                         "overpaid")}
        totals["month"] = "Total"
        echo_totals_table(
            BUDGET_TABLE_COLUMNS, rows, totals, title="Month by month: planned, paid, forecast",
            caption="Forecast: each month not yet paid is billed for its covered participants.",
        )
        if chart is not None:
            click.echo(f"Chart written to {chart}")
        echo_position(data["position"])
    return data


# -- quota -------------------------------------------------------------------------------


def priority_json(check: PriorityCheck, mask: MaskNiks) -> dict[str, Any]:
    ids = [e.worker_id for e in check.examples] + [e.first_waiting for e in check.examples]
    masked = mask(ids) if ids else {}
    return {
        "ruleset": check.ruleset,
        "respected": check.respected,
        "violations": check.violations,
        "examples": [
            {
                "enrolled": masked.get(e.worker_id, str(e.worker_id)),
                "decile": e.decile,
                "tier": e.tier,
                "position": e.position,
                "waiting": e.waiting,
                "first_waiting": masked.get(e.first_waiting, str(e.first_waiting)),
                "first_waiting_decile": e.first_waiting_decile,
            }
            for e in check.examples
        ],
    }


def priority_lines(priority: Mapping[str, Any], description: str) -> list[str]:
    if priority["respected"]:
        return [f"Priority respected under {priority['ruleset']} ({description}): no worker "
                "of a lower tier was enrolled while an eligible worker of a higher tier waited."]
    one = priority["violations"] == 1
    lines = [f"PRIORITY NOT RESPECTED under {priority['ruleset']}: "
             f"{counted(priority['violations'], 'enrolment')} passed over eligible workers of a "
             f"higher tier who still wait, {'this one' if one else 'e.g.'}:"]
    for e in priority["examples"]:
        lines.append(
            f"  {e['enrolled']} (decile {e['decile']}) enrolled at event {count(e['position'])} "
            f"while {count(e['waiting'])} waited, first {e['first_waiting']} (decile "
            f"{e['first_waiting_decile']})"
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
) -> Any:
    """`report quota`: places held and available, eligible workers, the priority check."""
    with views.reading():
        data = quota_report(views, program_id)
        drawn = _quota_chart_table(views, program_id, chart)
    check: PriorityCheck = data["priority"]
    data["priority"] = priority_json(check, mask)
    _quota_chart(drawn, data, chart)
    if fmt == "json":
        echo_json(data)
    elif fmt == "csv":
        echo_csv([Column("program", ""), *QUOTA_COLUMNS], [data],
                 {"priority_violations": check.violations, "position": data["position"]})
    else:
        echo_totals_table(QUOTA_COLUMNS, [data], None, title=f"Quota of {data['program']}")
        for line in priority_lines(data["priority"], check.description):
            click.echo(line)
        if chart is not None:
            click.echo(f"Chart written to {chart}")
        echo_position(data["position"])
    return data


def show_quota_by(
    views: Views, program_id: UUID, by: str, fmt: str, mask: MaskNiks, chart: OutputFile | None
) -> Any:
    """`report quota --by`: per group, enrolled against registered and eligible."""
    with views.reading():
        rows = quota_groups(views, program_id, by)
        summary = quota_report(views, program_id)
        drawn = _quota_chart_table(views, program_id, chart)
    check: PriorityCheck = summary["priority"]
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
    if fmt == "json":
        # A list, one object a group (keys kept from release to release); each says the
        # position it was computed from.
        echo_json([{**r, "position": summary["position"]} for r in rows])
    elif fmt == "csv":
        echo_csv(columns, rows, {
            "quota": summary["quota"], "total_enrolled": summary["enrolled"],
            "available": summary["available"], "position": summary["position"],
        })
    else:
        totals = {k: sum(r[k] for r in rows) for k in ("enrolled", "ended", "registered",
                                                        "eligible", "waiting")}
        totals[by] = "Total"
        echo_totals_table(
            columns, rows, totals, title=f"Quota of {summary['program']} by {by}",
            caption=f"{count(summary['enrolled'])} enrolled of a quota of "
                    f"{count(summary['quota'])}",
        )
        for line in priority_lines(priority_json(check, mask), check.description):
            click.echo(line)
        if chart is not None:
            click.echo(f"Chart written to {chart}")
        echo_position(summary["position"])
    return rows


def _quota_chart_table(
    views: Views, program_id: UUID, chart: OutputFile | None
) -> dict[str, dict[int, int]] | None:
    """What the quota chart draws, when one is asked for."""
    return None if chart is None else enrolment_by_kecamatan_and_decile(views, program_id)


def _quota_chart(
    table: dict[str, dict[int, int]] | None, summary: Mapping[str, Any], chart: OutputFile | None
) -> None:
    if chart is None or table is None:
        return
    from jamsos_ledger.cli.charts import quota_figure, save

    save(quota_figure(table, program=summary["program"], quota=summary["quota"],
                      position=summary["position"]), chart)


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


def show_claims(views: Views, program_id: UUID, code: str, fmt: str) -> dict[str, Any]:
    """`report claims`: every claim, and counts and benefits by scheme, month and kecamatan."""
    with views.reading():
        data = {"program": code, **claims_report(views, program_id)}
    rows = data["claims"]
    if fmt == "json":
        echo_json(data)
        return data
    if fmt == "csv":
        echo_csv(CLAIM_COLUMNS, rows, {
            "total_claims": data["total"], "total_jkk": data["by_scheme"]["JKK"],
            "total_jkm": data["by_scheme"]["JKM"], "total_benefits": data["benefits_total"],
            "position": data["position"],
        })
        return data
    by_scheme, benefits = data["by_scheme"], data["benefits_by_scheme"]
    echo_totals_table(
        CLAIM_COLUMNS, [{**r, "recorded_at": wib(r["recorded_at"])} for r in rows],
        {"reference": "Total", "benefit": data["benefits_total"]} if rows else None,
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
            {"scheme": "Total", "total": len(rows), "benefits": data["benefits_total"]},
            title="By scheme",
            caption=f"Benefits recorded on {count(data['with_benefit'])} of "
                    f"{counted(len(rows), 'claim')}",
        )
        for key, title in (("month", "By month"), ("kecamatan", "By kecamatan")):
            tally = data[f"by_{key}"]
            totals = {k: sum(t[k] for t in tally) for k in ("JKK", "JKM", "total", "benefits")}
            echo_totals_table([Column(key, key.capitalize()), *TALLY_COLUMNS], tally,
                              {key: "Total", **totals}, title=title)
    echo_position(data["position"])
    return data
