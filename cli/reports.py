"""`jamsos report`: budget burn, quota use and claims, for people and for scripts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_csv, echo_fields, echo_json, echo_table, plain
from jamsos_ledger.money import count, rupiah
from jamsos_ledger.projections import GROUPINGS


@click.group()
def report() -> None:
    """Reports from the projections: budget, quota, claims."""


MONTH_COLUMNS = [
    Column("month", "Month"),
    Column("active", "Participants", "count"),
    Column("paid_participants", "Paid for", "count"),
    Column("planned", "Planned", "money"),
    Column("committed", "Committed", "money"),
    Column("paid", "Paid", "money"),
    Column("overpaid", "Overpaid", "money"),
]


@report.command("budget")
@format_option()
@pass_ledger
def budget_command(obj: LedgerContext, fmt: str) -> None:
    """Allocation, committed, paid and available (pagu - committed - paid), month by month.

    CSV has one row a month; JSON has the totals and the months under `months`.
    """
    p = obj.program()
    b = plain(obj.ledger.views.budget(p.id))
    months = [
        {
            "month": m["month"],
            "active": m["active"],
            "paid_participants": m["paid_participants"],
            **{k: m[f"{k}_jkk"] + m[f"{k}_jkm"] for k in ("planned", "committed", "paid",
                                                         "overpaid")},
            **{f"{k}_{s}": m[f"{k}_{s}"] for k in ("planned", "committed", "paid", "overpaid")
               for s in ("jkk", "jkm")},
        }
        for m in plain(obj.ledger.views.budget_months(p.id))
    ]
    data: dict[str, Any] = {
        "program": b["code"],
        "allocation": b["allocation"],
        "committed": b["committed"],
        "paid": b["paid"],
        "available": b["available"],
        "overpaid": b["overpaid"],
        "planned": b["planned_jkk"] + b["planned_jkm"],
        **{f"{k}_{s}": b[f"{k}_{s}"] for k in ("planned", "committed", "paid", "overpaid")
           for s in ("jkk", "jkm")},
        "enrolled": b["enrolled"],
        "months": months,
    }
    if fmt == "json":
        echo_json(data)
    elif fmt == "csv":
        echo_csv(MONTH_COLUMNS + [Column(f"{k}_{s}", "") for k in ("committed", "paid")
                                  for s in ("jkk", "jkm")], months)
    else:
        echo_fields(
            [
                ("Allocation", rupiah(data["allocation"])),
                ("Committed", f"{rupiah(data['committed'])} (JKK "
                              f"{rupiah(data['committed_jkk'])}, JKM "
                              f"{rupiah(data['committed_jkm'])})"),
                ("Paid", f"{rupiah(data['paid'])} (JKK {rupiah(data['paid_jkk'])}, JKM "
                         f"{rupiah(data['paid_jkm'])})"),
                ("Overpaid", rupiah(data["overpaid"])),
                ("Available", rupiah(data["available"])),
                ("Enrolled", count(data["enrolled"])),
            ],
            title=f"Budget of {data['program']}",
        )
        echo_table(MONTH_COLUMNS, months, title="Month by month")


@report.command("quota")
@format_option()
@click.option(
    "--by", type=click.Choice(GROUPINGS), help="One row per kecamatan, occupation or decile."
)
@pass_ledger
def quota_command(obj: LedgerContext, fmt: str, by: str | None) -> None:
    """Quota use: places held (enrolled, not ended) and available, or per group with --by."""
    p = obj.program()
    views = obj.ledger.views
    if by is None:
        q = plain(views.quota(p.id))
        data = {
            "program": q["code"],
            "quota": q["quota"],
            "enrolled": q["enrolled"],
            "available": q["available"],
            "ended": q["ended"],
            "registered": q["registered"],
        }
        columns = [
            Column("quota", "Quota", "count"),
            Column("enrolled", "Enrolled", "count"),
            Column("available", "Available", "count"),
            Column("ended", "Ended", "count"),
            Column("registered", "Registered", "count"),
        ]
        if fmt == "json":
            echo_json(data)
        elif fmt == "csv":
            echo_csv([Column("program", ""), *columns], [data])
        else:
            echo_table(columns, [data], title=f"Quota of {data['program']}")
        return
    rows = [
        {by: r[by], "enrolled": r["enrolled"], "ended": r["ended"],
         "registered": r["registered"]}
        for r in plain(views.quota_by(p.id, by))
    ]
    columns = [
        Column(by, by.capitalize()),
        Column("enrolled", "Enrolled", "count"),
        Column("ended", "Ended", "count"),
        Column("registered", "Registered", "count"),
    ]
    if fmt == "json":
        echo_json(rows)
    elif fmt == "csv":
        echo_csv(columns, rows)
    else:
        total = sum(r["enrolled"] for r in rows)
        echo_table(columns, rows, title=f"Quota of {p.code} by {by}",
                   caption=f"{count(total)} enrolled of a quota of {count(p.quota)}")


CLAIM_COLUMNS = [
    Column("reference", "Reference"),
    Column("scheme", "Scheme"),
    Column("incident_date", "Date"),
    Column("month", "Month"),
    Column("kecamatan", "Kecamatan"),
    Column("occupation", "Occupation"),
    Column("decile", "Decile"),
    Column("recorded_at", "Recorded"),
    Column("actor", "By"),
]


@report.command("claims")
@format_option()
@pass_ledger
def claims_command(obj: LedgerContext, fmt: str) -> None:
    """Claims recorded under the program (benefits paid by BPJS, not from the budget)."""
    p = obj.program()
    rows = plain(obj.ledger.views.claims(p.id))
    by_scheme = Counter(r["scheme"] for r in rows)
    data = {
        "program": p.code,
        "total": len(rows),
        "by_scheme": {s: by_scheme.get(s, 0) for s in ("JKK", "JKM")},
        "claims": rows,
    }
    if fmt == "json":
        echo_json(data)
    elif fmt == "csv":
        echo_csv(CLAIM_COLUMNS, rows)
    else:
        echo_table(
            CLAIM_COLUMNS,
            rows,
            title=f"Claims in {p.code}",
            caption=f"{count(len(rows))} claims: JKK {count(by_scheme.get('JKK', 0))}, "
                    f"JKM {count(by_scheme.get('JKM', 0))}",
        )
