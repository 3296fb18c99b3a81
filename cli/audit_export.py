"""`jamsos audit export FILE` and `jamsos audit check FILE --root FINGERPRINT`: an offline
proof of the history, checked on another machine without the store."""

from __future__ import annotations

from pathlib import Path

import click

from jamsos_ledger.application.audit_export import check_proof, export_proof, program_figures
from jamsos_ledger.cli.audit_integrity import DiscrepancyFound, _first_problem, _verified
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import Malformed, recorded_so_far
from jamsos_ledger.cli.output import echo_fields
from jamsos_ledger.cli.output_files import output_file, overwrite_option
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.principals import public_key_text


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--reason",
    metavar="TEXT",
    help="Why the whole trail is exported (required; recorded with who made the file, when "
    "and its name: `jamsos audit viewings`).",
)
@overwrite_option()
@pass_ledger
def export_command(obj: LedgerContext, file: Path, reason: str | None, overwrite: bool) -> None:
    """Write one self-contained file (events, seals, principals, each program's figures with
    their position and digest) that `audit check` verifies on another machine. The ledger is
    verified first: a history that does not verify is never exported.

    The file holds every stored event as it is: every worker's NIK, name and birth date in
    clear, unless the store's personal data are encrypted (JAMSOS_CIPHER_KEY). Personal data
    protected by UU 27/2022, so only an auditor makes it (with their key), for a reason
    (--reason), and the export is recorded as a viewing of everyone's data before the file is
    written (`jamsos audit viewings`); that record is the file's last event, proven with it.
    The file is written with mode 0600 (readable by its owner only, like a key file),
    whatever the umask, and replacing a file (--overwrite) makes it 0600 too. Keep the file
    as you would the register itself."""
    if not reason or not reason.strip():
        raise click.UsageError(
            "audit export needs --reason: the file holds every worker's personal data as "
            "stored, exported only for a reason, recorded with who made it (UU 27/2022)"
        )
    out = output_file(file, option="FILE", overwrite=overwrite, private=True)
    assert out is not None
    ledger = obj.ledger
    # The record first, in its own transaction: no file leaves without it, and it is the
    # last event the file holds (the export is taken at the head verified after it).
    viewing = ledger.record_export(reason=reason, file_name=file.name)
    message = (f"recorded: {viewing.viewer} exported the whole trail, personal data of every "
               f"worker included, to {file.name}: {viewing.reason}")
    recorded_so_far().append(message)
    click.echo(message[0].upper() + message[1:], err=True)
    report, seals = _verified(obj, None, None)
    problem = _first_problem(report, seals)
    if problem is not None:
        raise problem
    principals = [
        {"name": p.name, "office": p.office, "roles": sorted(p.roles if p.revoked else p.held),
         "public_key": public_key_text(p.public_key), "revoked": p.revoked, "root": p.root}
        for p in ledger.signing.directory()
    ]
    figures = [program_figures(ledger.program(code)) for code in ledger.program_codes()]

    def fill(path: Path) -> int:
        with path.open("w", encoding="utf-8") as f:
            return export_proof(f, ledger.recorder, principals, figures,
                                report.head_position, report.head_digest)

    written = out.write(fill)
    click.echo(
        f"Exported {counted(written, 'event')}, {counted(seals.seals_checked, 'seal')} and "
        f"{counted(len(figures), 'program')}'s figures as of position "
        f"{count(report.head_position)} (digest {report.head_digest}) to {file}"
    )
    click.echo(f"Check it anywhere: jamsos audit check {file} --root {seals.root_fingerprint}")


@click.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", "root", required=True, metavar="FINGERPRINT",
              help="The fingerprint of the administrator's key kept at the ledger's creation.")
@pass_ledger
def check_command(obj: LedgerContext, file: Path, root: str) -> None:
    """Verify an export (`audit export`) without the store: its chain, every seal back to
    --root, and each program's figures re-derived from its events (exit 4 when any fails)."""
    from jamsos_ledger.application import Ledger

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Malformed(f"cannot read {file}: {e}") from e
    # The ledger's own codec (and cipher, when JAMSOS_CIPHER_KEY is set), from a ledger in
    # memory: the store is never opened.
    scratch = Ledger("memory://")
    try:
        found = check_proof(text, root, scratch.mapper.to_domain_event)
    except Exception as e:  # an export altered beyond reading: never a traceback
        if isinstance(e, click.ClickException):
            raise
        from jamsos_ledger.domain.errors import InvalidInput

        if isinstance(e, InvalidInput):
            raise Malformed(str(e)) from e
        raise DiscrepancyFound(
            f"{file} does not check: an event cannot be read ({e}); a ledger whose personal "
            "data is encrypted is checked with JAMSOS_CIPHER_KEY set"
        ) from e
    finally:
        scratch.close()
    seals = found.seals
    if seals.finding is not None:
        raise DiscrepancyFound(
            f"{file} is not proven from position {count(seals.finding.position)}: "
            f"{seals.finding.detail}"
        )
    if not found.digest_matches:
        raise DiscrepancyFound(
            f"{file} states position {count(found.position)} and digest {found.digest}, which "
            "its events do not give"
        )
    if found.figures_differ:
        raise DiscrepancyFound(
            f"{file} states figures its events do not give, for program(s) "
            f"{', '.join(found.figures_differ)}"
        )
    fields = [
        ("Export", str(file)),
        ("Events", count(found.events)),
        ("Sealed by", ", ".join(f"{n} ({count(k)})" for n, k in sorted(seals.signers.items()))),
        ("Root administrator", f"{seals.root.name if seals.root else '-'} (matches --root)"),
        ("Position", count(found.position)),
        ("Digest", found.digest),
    ]
    for f in found.figures:
        fields.append((f"Program {f['program']}",
                       f"paid {rupiah(f['paid'])}, committed {rupiah(f['committed'])}, "
                       f"available {rupiah(f['available'])}, enrolled {count(f['enrolled'])}"))
    echo_fields(fields, title="Audit check: proven")
