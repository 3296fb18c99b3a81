"""`jamsos audit verify` and `jamsos audit digest`: proof that the stored history is intact."""

from __future__ import annotations

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import EXIT_DISCREPANCY, Malformed
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import echo_fields, echo_json, progress_bar
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.stores.integrity import Digest, VerifyReport, verify


class DiscrepancyFound(click.ClickException):
    """The stored history differs from what was written (exit 4)."""

    exit_code = EXIT_DISCREPANCY


def _discrepancy(report: VerifyReport) -> DiscrepancyFound:
    found = report.discrepancy
    assert found is not None
    return DiscrepancyFound(
        f"the event log was tampered with at position {count(found.position)}: {found.kind}: "
        f"{found.detail} ({counted(report.events_checked, 'event')} before it "
        f"{'is' if report.events_checked == 1 else 'are'} intact, up to "
        f"position {count(report.head_position)})"
    )


def _as_json(report: VerifyReport) -> dict[str, object]:
    found = report.discrepancy
    return {
        "intact": report.intact,
        "events_checked": report.events_checked,
        "head_position": report.head_position,
        "head_digest": str(report.head_digest),
        "digest_checked": None if report.digest_checked is None else str(report.digest_checked),
        "discrepancy": None
        if found is None
        else {"position": found.position, "kind": found.kind, "detail": found.detail},
    }


@click.command("verify")
@click.option(
    "--digest",
    "digest_text",
    metavar="D",
    help="Also prove the history up to this digest (from `audit digest`) was not rewritten "
    "or truncated.",
)
@format_option("table", "json")
@pass_ledger
def verify_command(obj: LedgerContext, digest_text: str | None, fmt: str) -> None:
    """Detect any stored event that was altered, removed, inserted or reordered (exit 4)."""
    try:
        digest = None if digest_text is None else Digest.parse(digest_text)
    except InvalidInput as e:
        raise Malformed(str(e)) from e
    head = int(obj.ledger.recorder.max_notification_id() or 0)
    with progress_bar(head, "Verifying the event chain") as advance:
        report = verify(obj.ledger.recorder, digest, progress=advance)
    if fmt == "json":
        echo_json(_as_json(report))
    elif report.intact:
        fields = [
            ("History", "intact"),
            ("Events checked", count(report.events_checked)),
            ("Last position", count(report.head_position)),
            ("Digest", str(report.head_digest)),
        ]
        if digest is not None:
            fields.append(("Matches digest", str(digest)))
        echo_fields(fields, title="Audit verify")
    if not report.intact:
        raise _discrepancy(report)


@click.command("digest")
@pass_ledger
def digest_command(obj: LedgerContext) -> None:
    """Print a short digest of the history so far, to keep outside the system (verifies first)."""
    head = int(obj.ledger.recorder.max_notification_id() or 0)
    with progress_bar(head, "Verifying the event chain") as advance:
        report = verify(obj.ledger.recorder, progress=advance)
    if not report.intact:
        raise _discrepancy(report)
    click.echo(str(report.head_digest))
