"""`jamsos workers deaths`, `workers deciles` and `workers template`: the outside registers'
files, and empty templates of every input file for the offices to fill."""

from __future__ import annotations

from pathlib import Path

import click

from jamsos_ledger.application.outside_registers import (
    DeathsResult,
    DecilesResult,
    Reported,
    record_deaths,
    update_deciles,
)
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import Malformed
from jamsos_ledger.cli.output import echo_recorded, progress_bar
from jamsos_ledger.cli.output_files import output_file, overwrite_option
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import today_in_jakarta
from jamsos_ledger.domain.registers import release_problem
from jamsos_ledger.domain.rules import DEFAULT_RULESET, RULESETS
from jamsos_ledger.files.invoice_file import INVOICE
from jamsos_ledger.files.office_files import FileKind
from jamsos_ledger.files.registers_files import DEATHS, DECILES_FILE, read_deaths, read_deciles
from jamsos_ledger.files.registrations import REGISTRATIONS
from jamsos_ledger.files.templates import write_template

# Every input file a template can be written of, by the name `workers template` takes.
TEMPLATES: dict[str, FileKind] = {
    k.name: k for k in (REGISTRATIONS, DEATHS, DECILES_FILE, INVOICE)
}
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_FORMS = ("CSV (comma or semicolon; UTF-8, with or without BOM, or Windows-1252) or an Excel "
          "workbook (.xlsx, its first sheet)")


@click.command("deaths")
@click.argument("file", type=_FILE)
@pass_ledger
def deaths_command(obj: LedgerContext, file: Path) -> None:
    """End, as died, the coverage of the workers in Dukcapil's list of deaths.

    FILE is {forms}, a header row then one death a row:

    \b
      NIK                (nik)            16 digits, as text
      Tanggal Meninggal  (date_of_death)  YYYY-MM-DD or a date cell
      Nama               (name)           optional, for people; the ledger goes by NIK

    A file with any bad row is refused whole, every bad row named. Each covered worker's
    coverage ends at the end of the month of death, all in one transaction: the unpaid
    months after it are released, and months already paid after it are shown as an
    overpayment to offset or recover. NIKs the ledger does not know, workers not covered,
    and deaths before the coverage started are listed, never guessed at. Running the same
    file again ends nobody twice.
    """
    obj.ledger.check_role("record_deaths")  # before the file is read: exit 7 without it
    deaths = read_deaths(file)
    result, program = record_deaths(obj.ledger, deaths, code=obj.program_code)
    echo_recorded(
        f"Ended coverage of {counted(len(result.ended), 'worker')} as died in {program.code} "
        f"from {file}: {rupiah(result.released)} released"
        + (f", {rupiah(result.overpaid)} overpaid" if result.overpaid else "")
    )
    _echo_deaths(result)


deaths_command.help = (deaths_command.help or "").replace("{forms}", _FORMS)


def _echo_deaths(result: DeathsResult) -> None:
    for e in result.ended:
        over = (f"; {rupiah(e.overpaid)} already paid for months after it: an overpayment to "
                "offset or recover") if e.overpaid else ""
        click.echo(f"  line {e.line}: {e.nik} died in {e.month}: coverage ends then, "
                   f"{rupiah(e.released)} released{over}")
    _echo_reported(result.reported, "recorded nothing")


def _echo_reported(reported: list[Reported], what: str) -> None:
    if not reported:
        return
    click.echo(f"{counted(len(reported), 'row')} {what}, to look into:")
    for r in reported:
        click.echo(f"  line {r.line}: {r.nik}: {r.why}")


@click.command("deciles")
@click.argument("file", type=_FILE)
@click.option("--release", required=True, metavar="YYYY-QN",
              help="The DTSEN release the deciles come from, e.g. 2026-Q2 (recorded with each "
              "correction and each new rank); not a quarter that has not begun.")
@click.option("--ruleset", type=click.Choice(sorted(RULESETS)), default=DEFAULT_RULESET,
              show_default=True, help="The priority rule set to rank under afterwards.")
@pass_ledger
def deciles_command(obj: LedgerContext, file: Path, release: str, ruleset: str) -> None:
    """Record DTSEN's quarterly deciles, then rank every eligible worker again.

    FILE is {forms}, a header row then one worker a row:

    \b
      NIK    (nik)     16 digits, as text
      Desil  (decile)  the release's DTSEN decile, 1 (poorest) to 10
      Nama   (name)    optional, for people; the ledger goes by NIK

    A file with any bad row is refused whole, every bad row named. Each changed decile is
    recorded as a correction naming the release (one transaction), then the ranking is
    redone in one batch and every new rank records the release it used. Workers who cross
    the eligibility line are listed (an enrolled worker's coverage is not ended by it).
    NIKs the ledger does not know are listed, never guessed at.
    """
    obj.ledger.check_role("update_deciles")  # before the file is read: exit 7 without it
    problem = release_problem(release.strip(), today_in_jakarta())
    if problem:  # before the file is read
        raise Malformed(f"--release: {problem}; nothing was recorded")
    lines = read_deciles(file)
    with progress_bar(None, f"Ranking workers under {ruleset}") as advance:
        result = update_deciles(obj.ledger, lines, release=release.strip(),
                                ruleset_name=ruleset, progress=advance)
    echo_recorded(
        f"Corrected the decile of {counted(len(result.changed), 'worker')} from DTSEN "
        f"{result.release} ({count(result.unchanged)} unchanged); ranked "
        f"{counted(result.ranked, 'eligible worker')} under {result.ruleset}: "
        f"{counted(result.ranks, 'rank')} recorded"
    )
    _echo_deciles(result)


deciles_command.help = (deciles_command.help or "").replace("{forms}", _FORMS)


def _echo_deciles(result: DecilesResult) -> None:
    for c in result.changed:
        crossing = ""
        if c.eligible_before != c.eligible_after:
            crossing = (" now eligible" if c.eligible_after else
                        " no longer eligible" + (" (enrolled: coverage continues; end it with "
                                                 "`jamsos end --reason ineligible` if the "
                                                 "program's rules say so)" if c.enrolled else ""))
        click.echo(f"  line {c.line}: {c.nik}: decile {c.previous} -> {c.decile}{crossing}")
    _echo_reported(result.reported, "recorded nothing")


@click.command("template")
@click.argument("kind", type=click.Choice(sorted(TEMPLATES)))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@overwrite_option()
def template_command(kind: str, file: Path, overwrite: bool) -> None:
    """Write an empty template of an input file: FILE.csv or FILE.xlsx.

    KIND is the file: registrations (`workers import`), deaths (`workers deaths`), deciles
    (`workers deciles`) or invoice (BPJS's invoice of a month, as `premiums reconcile
    --invoice` reads it, for an invoice typed or put together by hand). The template holds
    the header row, with the columns' Indonesian names; in a workbook the NIK and KPJ columns
    are formatted as text, so that the spreadsheet keeps every digit. An existing FILE is
    never replaced without --overwrite.
    """
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        given = suffix or "a name without a suffix"
        raise Malformed(f"{file}: a template is written as .csv or .xlsx, not {given}; nothing "
                        "was written")
    target = output_file(file, option="FILE", overwrite=overwrite)
    assert target is not None
    target.write(lambda path: write_template(path, TEMPLATES[kind], suffix[1:]))
    click.echo(f"Template of the {kind} file written to {file}")
