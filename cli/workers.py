"""`jamsos workers`: import registrations, rank them, look one up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jamsos_ledger.application import default_actor
from jamsos_ledger.auditing import as_of_title, worker_as_of
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import NIK, as_of_option, format_option
from jamsos_ledger.cli.output import Column, console, echo_fields, echo_json, echo_table
from jamsos_ledger.domainmodel import program_id
from jamsos_ledger.importing import import_registrations
from jamsos_ledger.money import count
from jamsos_ledger.nik import mask_nik
from jamsos_ledger.registration import write_rejects
from jamsos_ledger.rules import DEFAULT_RULESET, RULESETS, ruleset


@click.group()
def workers() -> None:
    """Registrations of workers: import, prioritize, show."""


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; otherwise nothing is drawn."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield lambda _n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@workers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Import the good rows and write the bad ones, with their reasons, to this CSV file.",
)
@pass_ledger
def import_command(obj: LedgerContext, file: Path, rejects: Path | None) -> None:
    """Register the workers of a registration CSV file (UTF-8; columns in CLI.md).

    Every row is checked before anything is committed, and the import is one transaction:
    the whole file is registered, or nothing of it. A file with any bad row is refused whole,
    listing every bad row with its line, field and reason, unless --rejects is given. Workers
    already registered are counted and never registered twice.
    """
    result, registrations = import_registrations(
        file,
        lambda: obj.ledger,
        actor=obj.actor or default_actor(),
        keep_good_rows=rejects is not None,
        progress=lambda total: progress_bar(total, f"Registering {file.name}"),
    )
    parts_said = [f"Registered {count(result.registered)} workers from {file}"]
    if result.already:
        parts_said.append(f"{count(result.already)} were already registered")
    click.echo("; ".join(parts_said))
    if rejects is not None:
        written = write_rejects(rejects, registrations)
        read = result.registered + result.already + len(registrations.rejected)
        click.echo(
            f"Rejected {count(written)} of {count(read)} rows: written with their "
            f"reasons to {rejects}"
        )


@workers.command("prioritize")
@click.option(
    "--ruleset",
    type=click.Choice(sorted(RULESETS)),
    default=DEFAULT_RULESET,
    show_default=True,
    help="The named, versioned priority rule set.",
)
@pass_ledger
def prioritize_command(obj: LedgerContext, ruleset: str) -> None:
    """Rank every eligible registered worker; only ranks that changed are recorded."""
    ranked, changed = obj.ledger.prioritize(ruleset)
    click.echo(
        f"Ranked {count(ranked)} eligible workers under {ruleset}: {RULESETS[ruleset].description}"
    )
    click.echo(f"{count(changed)} ranks recorded, {count(ranked - changed)} unchanged")


COVERAGE_COLUMNS = [
    Column("program", "Program"),
    Column("start", "From"),
    Column("end", "To"),
    Column("ended", "Ended"),
    Column("decree", "Decree"),
]
CLAIM_COLUMNS = [
    Column("reference", "Reference"),
    Column("scheme", "Scheme"),
    Column("date", "Date"),
    Column("program", "Program"),
]


@workers.command("show")
@click.argument("nik", type=NIK)
@format_option("table", "json")
@as_of_option()
@pass_ledger
def show_command(obj: LedgerContext, nik: str, fmt: str, as_of: datetime | None) -> None:
    """Show a registered worker: rank, coverages and claims (the NIK masked)."""
    ledger = obj.ledger
    if as_of is None:
        worker = ledger.worker(nik.strip())
    else:
        worker = worker_as_of(ledger, nik.strip(), as_of)
    codes = {program_id(c): c for c in ledger.program_codes()}
    coverages = [
        {
            "program": codes.get(pid, str(pid)),
            "start": str(c.start),
            "end": str(c.end),
            "ended": None if c.ended is None else str(c.ended),
            "decree": c.decree,
        }
        for pid, c in worker.coverages.items()
    ]
    claims = [
        {
            "reference": c["reference"],
            "scheme": c["scheme"],
            "date": c["date"].isoformat(),
            "program": codes.get(c["program_id"], str(c["program_id"])),
        }
        for c in worker.claims
    ]
    data: dict[str, Any] = {
        "nik": mask_nik(worker.nik),
        "name": worker.name,
        "sex": worker.sex,
        "kecamatan": worker.kecamatan,
        "kelurahan": worker.kelurahan,
        "occupation": worker.occupation,
        "decile": worker.decile,
        "source": worker.source,
        "ruleset": worker.ruleset,
        "rank": worker.rank,
        "tier": worker.tier,
        "coverages": coverages,
        "claims": claims,
    }
    if as_of is not None:
        data["as_of"] = as_of.isoformat()
    if fmt == "json":
        echo_json(data)
        return
    rank = (
        f"{count(worker.rank)} under {worker.ruleset} (tier {worker.tier})"
        if worker.rank is not None
        else f"not ranked (run `workers prioritize`; "
        f"{ruleset(worker.ruleset or DEFAULT_RULESET).not_eligible()})"
    )
    echo_fields(
        [
            ("NIK", data["nik"]),
            ("Name", worker.name),
            ("Sex", worker.sex),
            ("Domicile", f"{worker.kelurahan}, {worker.kecamatan}"),
            ("Occupation", worker.occupation),
            ("DTSEN decile", str(worker.decile)),
            ("Source", worker.source),
            ("Rank", rank),
        ],
        title=f"Worker {data['nik']}{as_of_title(as_of)}",
    )
    if coverages:
        echo_table(COVERAGE_COLUMNS, coverages, title=f"Coverages{as_of_title(as_of)}")
    else:
        click.echo(f"Never enrolled{as_of_title(as_of)}")
    if claims:
        echo_table(CLAIM_COLUMNS, claims, title=f"Claims{as_of_title(as_of)}")
