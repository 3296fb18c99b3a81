"""`jamsos projections`: the read side, rebuilt from the event log at will."""

from __future__ import annotations

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_recorded, progress_bar, render
from jamsos_ledger.domain.money import counted


@click.group()
def projections() -> None:
    """The projections behind the reports: status and rebuild."""


@projections.command("rebuild")
@click.argument("name", required=False)
@pass_ledger
def rebuild_command(obj: LedgerContext, name: str | None) -> None:
    """Drop a projection (or all) and rebuild it from the first event."""
    views = obj.ledger.views
    if name is not None and name not in views.names:
        raise click.BadParameter(
            f"unknown projection {name!r}; known: {', '.join(views.names)}", param_hint="NAME"
        )
    total = views.runner.head()
    with progress_bar(total, f"Rebuilding {name or 'every projection'}") as advance:
        read = views.rebuild(*([name] if name else []), progress=advance)
    echo_recorded(f"Rebuilt {name or ', '.join(views.names)} from {counted(read, 'event')}")


STATUS_COLUMNS = [
    Column("name", "Projection"),
    Column("position", "Position", "count"),
    Column("head", "Log head", "count"),
    Column("behind", "Behind", "count"),
]


@projections.command("status")
@format_option()
@pass_ledger
def status_command(obj: LedgerContext, fmt: str) -> None:
    """How far each projection has read the event log (reports catch up first)."""
    rows = [
        {"name": s.name, "position": s.position, "head": s.head, "behind": s.behind}
        for s in obj.ledger.views.status()
    ]
    render(fmt, STATUS_COLUMNS, rows, title="Projections")
