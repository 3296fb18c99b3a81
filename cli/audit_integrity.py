"""`jamsos audit verify` and `jamsos audit digest`: proof that the stored history is intact and
that every part of it was sealed by the principal who wrote it."""

from __future__ import annotations

from typing import Any

import click

from jamsos_ledger.application.audit_values import verify_json
from jamsos_ledger.application.seal_check import UNSEALED, SealReport, verify_sealed
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import EXIT_DISCREPANCY, Malformed
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import echo_fields, echo_json, progress_bar
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.principals import normal_fingerprint
from jamsos_ledger.stores.integrity import Digest, VerifyReport


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


def _unsealed(report: VerifyReport, seals: SealReport) -> DiscrepancyFound:
    found = seals.finding
    assert found is not None
    return DiscrepancyFound(
        f"the event log is not proven from position {count(found.position)}: {UNSEALED}: "
        f"{found.detail} (positions up to {count(seals.covered)} are sealed by "
        f"{counted(seals.seals_checked, 'valid seal')}; the chain holds up to position "
        f"{count(report.head_position)})"
    )


def _first_problem(report: VerifyReport, seals: SealReport) -> DiscrepancyFound | None:
    """The chain's discrepancy or the seals' finding, whichever comes first (the chain's when
    they name the same position: it says more)."""
    chain = report.discrepancy
    sealed = seals.finding
    if chain is not None and (sealed is None or chain.position <= sealed.position):
        return _discrepancy(report)
    if sealed is not None:
        return _unsealed(report, seals)
    return None


def one_key_line(p: dict[str, Any]) -> str:
    """A program of one key in words: who opened it and why, and what was moved alone on it
    by whom (`role_check`): a notice for the auditors, allowed by the program's terms."""
    opened = (f"opened with four eyes off by {p['opened_by']} at position "
              f"{count(p['opened_at'])} ({p['reason'] or 'no reason given'})")
    moved = [text for n, text in (
        (p["decrees"], f"{counted(p['decrees'], 'decree')} enrolling "
                       f"{counted(p['workers_enrolled'], 'worker')}, committing "
                       f"{rupiah(p['committed'])}"),
        (p["payments"], f"{counted(p['payments'], 'payment')} of {rupiah(p['paid'])}"),
        (p["reversals"], f"{counted(p['reversals'], 'reversal')} of {rupiah(p['reversed'])}"),
        (p["annulments"], f"{counted(p['annulments'], 'annulment')} releasing "
                          f"{rupiah(p['released'])}"),
        (p["amendments"], counted(p["amendments"], "amendment")),
    ) if n]
    if not moved:
        return f"{opened}; nothing moved alone on it yet"
    return f"{opened}; alone, by {', '.join(p['principals'])}: {'; '.join(moved)}"


@click.command("verify")
@click.option(
    "--digest",
    "digest_text",
    metavar="D",
    help="Also prove the history up to this digest (from `audit digest`) was not rewritten "
    "or truncated.",
)
@click.option(
    "--root",
    "root_text",
    envvar="JAMSOS_ROOT",
    metavar="FINGERPRINT",
    help="The fingerprint of the administrator's key printed when the ledger was created "
    "(env JAMSOS_ROOT): every seal must lead back to it.",
)
@format_option("table", "json")
@pass_ledger
def verify_command(
    obj: LedgerContext, digest_text: str | None, root_text: str | None, fmt: str
) -> None:
    """Detect any stored event that was altered, removed, inserted or reordered, or that no
    valid seal of a principal covers (exit 4).

    Also lists, as notices for the auditors (exit 0): approvals by a principal the proposer
    enrolled, re-keyed or granted a role, or by the administrator who did so to the proposer
    ("Four eyes to check"), and each program opened with one key
    (four eyes off) with the money and places one principal moved alone on it ("One key")."""
    try:
        digest = None if digest_text is None else Digest.parse(digest_text)
        root = None if root_text is None else normal_fingerprint(root_text)
    except InvalidInput as e:
        raise Malformed(str(e)) from e
    report, seals = _verified(obj, digest, root)
    problem = _first_problem(report, seals)
    if fmt == "json":
        echo_json(verify_json(report, seals, root, intact=problem is None))
    elif problem is None:
        fields = [
            ("History", "intact and sealed"),
            ("Events checked", count(report.events_checked)),
            ("Last position", count(report.head_position)),
            ("Digest", str(report.head_digest)),
            ("Seals checked", count(seals.seals_checked)),
            ("Sealed by", ", ".join(f"{n} ({count(k)})" for n, k in sorted(seals.signers.items()))
             or "-"),
            ("Root administrator", f"{seals.root.name if seals.root else '-'}, key "
             f"{seals.root_fingerprint}"),
            ("Root", "matches the fingerprint given" if root else
             "NOT PINNED: compare the key above with the one kept at creation, or give --root"),
        ]
        if seals.own_approvers:
            shown = seals.own_approvers[:5]
            more = len(seals.own_approvers) - len(shown)
            fields.append(("Four eyes to check", "approver and proposer, one made by the other: "
                           + "; ".join(shown)
                           + (f"; and {count(more)} more (--format json lists them)"
                              if more else "")))
        for p in seals.one_key_programs:
            fields.append((f"One key: {p['program']}", one_key_line(p)))
        if seals.adopted_upto:
            fields.append(("Adopted", f"positions 1 to {count(seals.adopted_upto)} were "
                           "written before sealing, and adopted by the root as they stood"))
        if digest is not None:
            fields.append(("Matches digest", str(digest)))
        echo_fields(fields, title="Audit verify")
    if problem is not None:
        raise problem


def _verified(
    obj: LedgerContext, digest: Digest | None, root: str | None
) -> tuple[VerifyReport, SealReport]:
    head = int(obj.ledger.recorder.max_notification_id() or 0)
    with progress_bar(head, "Verifying the event chain and its seals") as advance:
        return verify_sealed(obj.ledger.recorder, obj.ledger.mapper, digest, root, advance)


@click.command("digest")
@pass_ledger
def digest_command(obj: LedgerContext) -> None:
    """Print a short digest of the history so far, to keep outside the system (verifies first)."""
    report, seals = _verified(obj, None, None)
    problem = _first_problem(report, seals)
    if problem is not None:
        raise problem
    click.echo(str(report.head_digest))
