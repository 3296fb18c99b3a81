"""`jamsos workers`: import registrations, rank them, look one up."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from jamsos_ledger.application import RegisterResult, default_actor
from jamsos_ledger.application.as_of import worker_as_of
from jamsos_ledger.application.importing import import_registrations
from jamsos_ledger.application.moments import as_of_title
from jamsos_ledger.application.worker_view import rank_explained, release_said, worker_json
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import NIK, as_of_option, format_option
from jamsos_ledger.cli.output import (
    Column,
    echo_fields,
    echo_json,
    echo_recorded,
    echo_table,
    progress_bar,
)
from jamsos_ledger.cli.output_files import output_file, overwrite_option
from jamsos_ledger.cli.viewings import unmask_options, viewed
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.rules import DEFAULT_RULESET, RULESETS, ruleset
from jamsos_ledger.files.registrations import write_rejects


@click.group()
def workers() -> None:
    """Registrations of workers: import, prioritize, correct, show; deaths and deciles from
    the outside registers; template of every input file."""


@workers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Import the good rows and write the bad ones, with their reasons, to this new CSV "
    "file (never the ledger or the registration file).",
)
@overwrite_option()
@pass_ledger
def import_command(
    obj: LedgerContext, file: Path, rejects: Path | None, overwrite: bool
) -> None:
    """Register the workers of a registration CSV file.

    FILE is CSV text in UTF-8 (a byte-order mark allowed), comma-separated, a header row
    first naming these nine columns (in any order), then one worker a row:

    \b
      nik         16 digits; its date part (DDMMYY, women's day + 40) agrees with
                  the birth date and the sex
      name        full name, not empty
      birth_date  YYYY-MM-DD
      sex         L (laki-laki) or P (perempuan)
      kecamatan   a kecamatan of Kota Bekasi, by name or two-digit code (01-12)
      kelurahan   text
      occupation  text
      decile      DTSEN decile, 1 (poorest) to 10
      source      who supplied the row (Disnaker, Dinsos...), not empty

    Every check, the kecamatan's codes and an example: docs/input-files.md in the
    project (the README links it).

    Every row is checked before anything is committed, and the import is one transaction:
    the whole file is registered, or nothing of it. A file with any bad row is refused whole,
    listing every bad row with its line, field and reason, unless --rejects is given. Workers
    already registered are counted and never registered twice.
    """
    # Checked before the store is touched: a --rejects file that could not be written (the
    # ledger, the registration file, an existing file) refuses the import, nothing written.
    rejects_file = output_file(rejects, option="--rejects", inputs=[file], overwrite=overwrite)
    obj.ledger.check_role("register")  # before the file is read: exit 7 without the role
    result, registrations = import_registrations(
        file,
        lambda: obj.ledger,
        actor=_importer(obj),
        keep_good_rows=rejects is not None,
        progress=lambda total: progress_bar(total, f"Registering {file.name}"),
    )
    parts_said = [f"Registered {counted(result.registered, 'worker')} from {file}"]
    if result.already:
        parts_said.append(f"{count(result.already)} {'was' if result.already == 1 else 'were'} "
                          "already registered")
    echo_recorded("; ".join(parts_said))
    _echo_differing(result)
    if rejects_file is not None:
        written = rejects_file.write(lambda path: write_rejects(path, registrations))
        read = result.registered + result.already + len(registrations.rejected)
        click.echo(
            f"Rejected {count(written)} of {counted(read, 'row')}: written with their "
            f"reasons to {rejects}"
        )


def _importer(obj: LedgerContext) -> str:
    """The name the registrations record: the principal whose key will seal the import. When
    the ledger or the key is not usable, the declared name, for a file read only to be
    refused: the import itself is then refused as it always was, nothing written."""
    try:
        return obj.ledger.actor
    except LedgerError:
        return obj.actor or default_actor()


def _echo_differing(result: RegisterResult) -> None:
    """Say which rows of workers registered before differ from the ledger, and how to change
    what the ledger holds: an import never changes a registration."""
    if not result.differing:
        return
    click.echo(
        f"{count(len(result.differing))} of the {count(result.already)} already registered "
        "differ from what the ledger holds; the ledger was not changed for them. To change it, "
        "correct each field: jamsos workers correct NIK --field FIELD --value VALUE --reason "
        "WHY (a different birth date or sex is another NIK, registered anew):"
    )
    for masked, fields in result.differing[:20]:
        click.echo(f"  {masked}: {'; '.join(fields)}")
    if len(result.differing) > 20:
        click.echo(f"  (and {count(len(result.differing) - 20)} more)")


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
    with progress_bar(None, f"Ranking workers under {ruleset}") as advance:
        ranked, changed = obj.ledger.prioritize(ruleset, progress=advance)
    echo_recorded(
        f"Ranked {counted(ranked, 'eligible worker')} under {ruleset}: "
        f"{RULESETS[ruleset].description}"
    )
    click.echo(f"{counted(changed, 'rank')} recorded, {count(ranked - changed)} unchanged")


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
@unmask_options
@pass_ledger
def show_command(
    obj: LedgerContext,
    nik: str,
    fmt: str,
    as_of: datetime | None,
    unmask: bool,
    reason: str | None,
) -> None:
    """Show a registered worker: KPJ number, rank, coverages and claims (the NIK masked, the name as
    initials; with --unmask and --reason the NIK, name and birth date in full, the viewing
    recorded first)."""
    ledger = obj.ledger
    if unmask:
        viewed(obj, "workers show", reason, [nik.strip()])
    if as_of is None:
        worker = ledger.worker(nik.strip())
    else:
        worker = worker_as_of(ledger, nik.strip(), as_of)
    data = worker_json(worker, ledger.program_codes(), clear=unmask)
    coverages, claims = data["coverages"], data["claims"]
    if as_of is not None:
        data["as_of"] = as_of.isoformat()
    if fmt == "json":
        echo_json(data)
        return
    rank = (
        rank_explained(worker)
        if worker.rank is not None
        else f"not ranked (run `workers prioritize`; "
        f"{ruleset(worker.ruleset or DEFAULT_RULESET).not_eligible()})"
    )
    echo_fields(
        [
            ("NIK", data["nik"]),
            ("Name", data["name"]),
            *([("Birth date", data["birth_date"])] if unmask else []),
            ("Sex", worker.sex),
            ("Domicile", f"{worker.kelurahan}, {worker.kecamatan}"),
            ("Occupation", worker.occupation),
            ("DTSEN decile", f"{worker.decile} ({release_said(worker.decile_release)})"),
            ("Source", worker.source),
            ("KPJ (BPJS)", data["kpj"] or "not known yet (it comes with BPJS's invoice)"),
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
