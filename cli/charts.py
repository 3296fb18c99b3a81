"""Charts of the reports, as PNG files for a printed page: the budget burn-down, quota use.

Drawn with matplotlib's object API on its Agg canvas (no display, no pyplot state), so a chart
can be drawn from any process, a server or a test. Each chart has a data function (plain
numbers, tested against figures worked out by hand) and a drawing function that only draws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from jamsos_ledger.domain.money import count, rupiah
from jamsos_ledger.projections.report_values import BudgetReport, report_json

if TYPE_CHECKING:
    from jamsos_ledger.cli.output_files import OutputFile

# 12 x 7.5 inches at 120 dots an inch: 1440 x 900 pixels, sharp on an A4 page in landscape.
SIZE = (12.0, 7.5)
DPI = 120
MILIAR = 1_000_000_000
# The units of a rupiah axis, the largest first: an axis is labelled in the largest unit its
# top reaches, so a small program reads `250 rb`, not `0 M` at every tick.
UNITS = ((MILIAR, "M", "miliar"), (1_000_000, "jt", "juta"), (1_000, "rb", "ribu"),
         (1, "", "rupiah"))
# Below this share of the axis the allocation would squash the spending into a flat line at 0:
# the axis then follows the spending, and the allocation is written in the title instead.
ALLOCATION_IN_VIEW = 1 / 3

LABEL_ALLOCATION = "Allocation (pagu)"
LABEL_PAID = "Paid (realisasi), cumulative"
LABEL_FORECAST = "Forecast: paid + committed, cumulative"
LABEL_PAID_MONTH = "Paid in the month"
LABEL_COMMITTED_MONTH = "Committed, still to pay in the month"


def _in_unit(value: float, unit: int, symbol: str) -> str:
    """A tick in a unit, the Indonesian way (`1,25 M`, `250 rb`), to three decimals at most."""
    text = f"{value / unit:.3f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} {symbol}".rstrip()


def rupiah_unit(top: float) -> tuple[int, str, str]:
    """The unit an axis reaching `top` rupiah is labelled in: (size, symbol, name)."""
    return next((u for u in UNITS if top >= u[0]), UNITS[-1])


def _percent(part: int, whole: int) -> str:
    """`part` as a share of `whole`, e.g. `0,17%` (two significant figures when small)."""
    share = 100 * part / whole if whole else 0.0
    text = f"{share:.2g}" if share < 1 else f"{share:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


def computed_from(position: int, digest: str | None) -> str:
    """The foot of a chart, as under a report's tables: where in the log it was computed, and
    the chain digest there (to check a printed page against the log)."""
    text = f"Computed from the ledger up to event {count(position)}"
    return text if digest is None else f"{text}; chain digest {digest}"


def _as_json(report: BudgetReport | Mapping[str, Any]) -> Mapping[str, Any]:
    """A budget report as its JSON-ready figures, which the charts draw (a script's saved
    `report budget --format json` draws the same chart)."""
    return report_json(report) if isinstance(report, BudgetReport) else report


def burndown_series(report: BudgetReport | Mapping[str, Any]) -> dict[str, Any]:
    """The numbers the burn-down draws, from a budget report or its JSON.

    Paid is drawn up to the last month with a payment; the forecast runs from there (or from
    the first month when nothing is paid yet) to the end of the period, adding each month's
    commitment: where it ends is what will have been spent if nothing changes.
    """
    report = _as_json(report)
    months = list(report["months"])
    names = [m["month"] for m in months]
    paid_upto = max((i for i, m in enumerate(months) if m["paid_participants"] > 0), default=-1)
    start = max(paid_upto, 0)
    return {
        "months": names,
        "allocation": int(report["allocation"]),
        "paid_cumulative": [m["cumulative_paid"] for m in months[: paid_upto + 1]],
        "forecast_months": names[start:],
        "forecast_cumulative": [m["cumulative_forecast"] for m in months[start:]],
        "paid_monthly": [m["paid"] for m in months],
        "committed_monthly": [m["committed"] for m in months],
        "silpa": int(report["silpa"]),
    }


def budget_figure(report: BudgetReport | Mapping[str, Any]) -> Figure:
    """The burn-down of a program's budget: allocation, paid and forecast by month.

    The axis is the allocation's when the spending to the end reaches a good part of it;
    otherwise (a small program in a large allocation) the spending's, with the allocation
    written in the title. The legend sits outside the plot, beside it, covering nothing.
    """
    report = _as_json(report)
    s = burndown_series(report)
    fig = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(s["months"])))
    ax.bar(x, s["paid_monthly"], width=0.6, color="#4c72b0", alpha=0.55, label=LABEL_PAID_MONTH)
    ax.bar(x, s["committed_monthly"], width=0.6, bottom=s["paid_monthly"], color="#dd8452",
           alpha=0.55, label=LABEL_COMMITTED_MONTH)
    end = s["forecast_cumulative"][-1] if s["forecast_cumulative"] else 0
    spending = max([end, *s["paid_cumulative"],
                    *(p + c for p, c in zip(s["paid_monthly"], s["committed_monthly"],
                                            strict=True))])
    title = (f"Budget burn-down, program {report['program']}: allocation "
             f"{rupiah(s['allocation'])}")
    if spending >= s["allocation"] * ALLOCATION_IN_VIEW:
        ax.axhline(s["allocation"], color="#c44e52", linewidth=2.5, label=LABEL_ALLOCATION)
        top = max(s["allocation"], end) * 1.1
    else:
        top = max(spending, 1) * 1.25
        title += (f"\nfar above this scale: spending to the end reaches "
                  f"{_percent(end, s['allocation'])} of it")
    if s["paid_cumulative"]:
        ax.plot(x[: len(s["paid_cumulative"])], s["paid_cumulative"], color="#1f3a93",
                linewidth=3, marker="o", label=LABEL_PAID)
    forecast_x = x[len(x) - len(s["forecast_cumulative"]):]
    ax.plot(forecast_x, s["forecast_cumulative"], color="#dd8452", linewidth=3,
            linestyle="--", marker="o", label=LABEL_FORECAST)
    ax.annotate(
        f"Left unspent at the end if nothing changes (SiLPA): {rupiah(s['silpa'])}",
        xy=(x[-1], end), xytext=(0.02, 0.85), textcoords="axes fraction", fontsize=12,
        arrowprops={"arrowstyle": "->", "color": "#555555"},
    )
    ax.set_xticks(x, s["months"], rotation=45, ha="right")
    ax.set_xlabel("Month of coverage", fontsize=13)
    size, symbol, name = rupiah_unit(top)
    ax.set_ylabel("Rupiah" if size == 1 else f"Rupiah ({symbol} = {name}, {rupiah(size)})",
                  fontsize=13)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _in_unit(v, size, symbol)))
    ax.set_ylim(0, top)
    ax.tick_params(labelsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=11, framealpha=0.9)
    ax.set_title(title, fontsize=15, loc="left")
    fig.text(0.01, 0.01, computed_from(report["position"], report.get("digest")), fontsize=9,
             color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def quota_series(table: Mapping[str, Mapping[int, int]]) -> dict[str, Any]:
    """Workers holding a place per kecamatan, one series a decile (deciles with any)."""
    kecamatan = list(table)
    deciles = sorted({d for row in table.values() for d, n in row.items() if n})
    return {
        "kecamatan": kecamatan,
        "deciles": deciles,
        "enrolled": {d: [table[k].get(d, 0) for k in kecamatan] for d in deciles},
    }


def quota_figure(
    table: Mapping[str, Mapping[int, int]],
    *,
    program: str,
    quota: int,
    position: int,
    digest: str | None = None,
) -> Figure:
    """Enrolment by kecamatan, stacked by DTSEN decile."""
    s = quota_series(table)
    fig = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(s["kecamatan"])))
    bottom = [0] * len(x)
    colours = ["#1a9850", "#66bd63", "#a6d96a", "#fdae61", "#f46d43", "#d73027", "#a50026",
               "#762a83", "#9970ab", "#c2a5cf"]
    for d in s["deciles"]:
        values = s["enrolled"][d]
        ax.bar(x, values, bottom=bottom, width=0.7, label=f"Decile {d}",
               color=colours[(d - 1) % len(colours)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, total in enumerate(bottom):
        ax.text(i, total, count(total), ha="center", va="bottom", fontsize=10)
    ax.set_xticks(x, s["kecamatan"], rotation=30, ha="right")
    ax.set_xlabel("Kecamatan of domicile", fontsize=13)
    ax.set_ylabel("Workers enrolled (holding a place)", fontsize=13)
    # Whole workers only: a few enrolled would otherwise get ticks at 0,5 printed as 0 and 1.
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: count(int(v))))
    ax.tick_params(labelsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylim(0, max([*bottom, 1]) * 1.1)
    ax.legend(title="DTSEN decile", fontsize=11, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(
        f"Enrolment by kecamatan and decile, program {program}: {count(sum(bottom))} of a "
        f"quota of {count(quota)}",
        fontsize=15, loc="left",
    )
    fig.text(0.01, 0.01, computed_from(position, digest), fontsize=9, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def save(fig: Figure, out: OutputFile) -> OutputFile:
    """Write the chart as PNG, whole or not at all (`output_files`)."""
    out.write(lambda path: fig.savefig(path, format="png", dpi=DPI))
    return out
