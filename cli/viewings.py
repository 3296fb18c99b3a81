"""Personal data in clear on the command line: `--unmask --reason`, and `jamsos audit viewings`
(who looked at this person). The service checks the role and records each viewing before
anything is shown; this module only asks and says."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import recorded_so_far
from jamsos_ledger.cli.options import NIK, format_option
from jamsos_ledger.cli.output import Column, render, wib
from jamsos_ledger.domain.money import counted
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.viewings import EVERYONE

F = TypeVar("F", bound=Callable[..., Any])


def unmask_options(command: F) -> F:
    """`--unmask` and its `--reason`."""
    command = click.option(
        "--reason",
        metavar="TEXT",
        help="Why personal data are shown in full (needed with --unmask; recorded with who saw "
        "them and when).",
    )(command)
    return click.option(
        "--unmask",
        is_flag=True,
        help="Show NIKs, names and birth dates in full: personal data protected by UU 27/2022 "
        "(Pelindungan Data Pribadi). Needs the role auditor or operator and --reason; the "
        "viewing is recorded (`jamsos audit viewings`).",
    )(command)


def viewed(obj: LedgerContext, what: str, reason: str | None, niks: Sequence[str]) -> None:
    """Record the viewing before anything is shown (refused: nothing is shown), and say so on
    stderr, apart from the output scripts read."""
    if not reason or not reason.strip():
        raise click.UsageError(
            "--unmask needs --reason: personal data in clear are shown only for a reason, "
            "recorded with who saw them (UU 27/2022)"
        )
    viewing = obj.ledger.record_viewing(what=what, reason=reason, niks=niks)
    whose = ", ".join(mask_nik(n) for n in niks) if niks else "every worker in it"
    message = (f"{viewing.viewer} viewed the personal data of {whose} in clear ({what}): "
               f"{viewing.reason}")
    # What was recorded, as a failure afterwards repeats it ("recorded: ...; but ...").
    recorded_so_far().append(message)
    click.echo(f"Recorded: {message}", err=True)


COLUMNS = [
    Column("time", "Time (WIB)"),
    Column("viewer", "Viewed by"),
    Column("what", "With"),
    Column("whose", "Whose"),
    Column("reason", "Why"),
]


@click.command("viewings")
@click.option("--nik", type=NIK, help="Only the viewings that showed this worker's data.")
@format_option()
@pass_ledger
def viewings_command(obj: LedgerContext, nik: str | None, fmt: str) -> None:
    """Who saw personal data in clear, when, with which command and why, oldest first: with
    --nik, who looked at this person (UU 27/2022). For auditors and administrators."""
    found = obj.ledger.viewings(nik.strip() if nik else None)
    rows = [
        {
            "time": wib(v.created_on) if fmt == "table" else v.created_on.isoformat(),
            "viewer": v.viewer,
            "what": v.what,
            "whose": "everyone" if v.scope == EVERYONE
            else counted(len(v.subjects), "worker"),
            "reason": v.reason,
        }
        for v in found
    ]
    title = "Viewings of personal data" + (f" of {mask_nik(nik.strip())}" if nik else "")
    render(fmt, COLUMNS, rows, title=title)
