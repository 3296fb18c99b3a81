"""The charts of a small ledger, read as a person reads them: 17 workers in the seed's program.

Seventeen workers cost Rp 3.427.200 a year out of Rp 2.000.000.000: drawn on the allocation's
scale the burn-down was a flat line at 0 with every tick `0 M`; the quota chart's ticks fell on
halves printed as whole numbers (0, 0, 1, 1, 2...); the legend covered the allocation line.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cli_helpers import ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.cli.charts import LABEL_ALLOCATION, LABEL_FORECAST, budget_figure, quota_figure
from jamsos_ledger.projections.reporting import enrolment_by_kecamatan_and_decile
from small_ledger import ENROLLED, twenty_workers


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("charts")
    url = f"sqlite:///{folder / 'jamsos.db'}"
    twenty_workers(url, folder)
    return url


def budget(url: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(url, "report", "budget", "--format", "json").stdout)
    return data


def drawn(fig: Figure) -> Axes:
    fig.canvas.draw()
    return fig.axes[0]


def visible_ticks(ax: Axes) -> list[str]:
    low, high = ax.get_ylim()
    return [t.get_text() for t in ax.get_yticklabels() if low <= t.get_position()[1] <= high]


def assert_legend_beside_the_plot(fig: Figure) -> None:
    """The legend covers no part of the plot, where the lines and bars are drawn."""
    ax = drawn(fig)
    legend = ax.get_legend()
    assert legend is not None
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())
    assert fig.bbox.contains(*legend.get_window_extent().p1)  # and is not cut off


def test_the_quota_chart_counts_whole_workers(small: str) -> None:
    ledger = Ledger(small)
    try:
        table = enrolment_by_kecamatan_and_decile(ledger.views, ledger.program().id)
    finally:
        ledger.close()
    fig = quota_figure(table, program="2026", quota=10_000, position=1)
    ax = drawn(fig)
    labels = visible_ticks(ax)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    assert all(label.isdigit() for label in labels), labels
    assert [t for t in ax.get_yticks() if t <= ax.get_ylim()[1]] == [int(x) for x in labels]
    assert sum(sum(row.values()) for row in table.values()) == ENROLLED
    assert_legend_beside_the_plot(fig)


def test_a_small_burndown_is_scaled_to_its_spending(small: str) -> None:
    report = budget(small)
    fig = budget_figure(report)
    ax = drawn(fig)
    labels = visible_ticks(ax)
    assert len(set(labels)) == len(labels) >= 3, labels
    assert all(label.endswith(" jt") for label in labels), labels  # juta, not `0 M`
    forecast = next(line for line in ax.get_lines() if line.get_label() == LABEL_FORECAST)
    # The spending to the end takes most of the height, not a sliver at the bottom.
    assert max(forecast.get_ydata()) >= 0.6 * ax.get_ylim()[1]
    # The allocation, far above, is said in the title rather than drawn off the chart.
    assert LABEL_ALLOCATION not in [line.get_label() for line in ax.get_lines()]
    assert "Rp 2.000.000.000" in ax.get_title(loc="left")
    assert "0,17%" in ax.get_title(loc="left")
    assert_legend_beside_the_plot(fig)


def test_the_allocation_drawn_when_spending_reaches_it(small: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'amended.db'}"
    Path(tmp_path / "amended.db").write_bytes(Path(small.removeprefix("sqlite:///")).read_bytes())
    ok(url, "program", "amend", "--allocation", "4000000", "--reason", "APBD-P 2026")
    fig = budget_figure(budget(url))
    ax = drawn(fig)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines[LABEL_ALLOCATION].get_ydata()) == [4_000_000, 4_000_000]
    assert 4_000_000 < ax.get_ylim()[1]
    labels = visible_ticks(ax)
    assert len(set(labels)) == len(labels) >= 3, labels
    assert_legend_beside_the_plot(fig)
    # The SiLPA note crosses none of the lines drawn.
    note = next(t for t in ax.texts if "SiLPA" in t.get_text()).get_window_extent()
    for line in ax.get_lines():
        xy = line.get_transform().transform(np.column_stack([line.get_xdata(),
                                                             line.get_ydata()]))
        points = [a + (b - a) * k / 50 for a, b in pairwise(xy)
                  for k in range(51)]
        assert not any(note.contains(*p) for p in points), line.get_label()
