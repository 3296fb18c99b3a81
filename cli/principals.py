"""`jamsos principals`: who may write the ledger; enrolled, rotated, revoked by an administrator.

Each change is an event sealed by the administrator running it; `list` shows the principals as
the history stands now. `adopt` seals a ledger written before seals existed, as of its last
position, recorded as such.
"""

from __future__ import annotations

import click

from jamsos_ledger.application import default_actor
from jamsos_ledger.application.signing import roles_problem
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import Malformed, Refused
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_json, echo_recorded, render
from jamsos_ledger.domain.money import count
from jamsos_ledger.domain.principals import ROLES, public_key_text
from jamsos_ledger.stores.integrity import verify


@click.group()
def principals() -> None:
    """Who may write the ledger: list, enrol, rotate a key, revoke (administrators only);
    adopt a ledger written before sealing."""


@principals.command("list")
@format_option("table", "csv", "json")
@pass_ledger
def list_command(obj: LedgerContext, fmt: str) -> None:
    """Every principal: name, office, roles, key fingerprint, and whether revoked."""
    directory = obj.ledger.signing.directory()
    rows = [
        {
            "name": p.name,
            "office": p.office,
            "roles": sorted(p.roles),
            "fingerprint": p.fingerprint,
            "public_key": public_key_text(p.public_key),
            "root": p.root,
            "revoked": p.revoked,
        }
        for p in directory
    ]
    if fmt == "json":
        echo_json(rows)
        return
    columns = [
        Column("name", "Name"),
        Column("office", "Office"),
        Column("roles", "Roles"),
        Column("fingerprint", "Key fingerprint"),
        Column("status", "Status"),
    ]
    table = [
        {
            **r,
            "roles": " ".join(r["roles"]),
            "status": "revoked" if r["revoked"] else ("root" if r["root"] else "active"),
        }
        for r in rows
    ]
    render(fmt, columns, table, title=f"Principals ({count(len(rows))})")


@principals.command("enrol")
@click.argument("name")
@click.option("--office", required=True, help="The principal's office, e.g. Disnaker, BPKAD.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(ROLES),
    help="A role it holds (repeat for several).",
)
@click.option(
    "--public-key",
    required=True,
    metavar="ed25519:BASE64",
    help="Its public key, as `jamsos key show` prints it on the principal's machine.",
)
@pass_ledger
def enrol_command(
    obj: LedgerContext, name: str, office: str, roles: tuple[str, ...], public_key: str
) -> None:
    """Enrol a principal with its public key (administrators only; the private key never
    leaves its owner)."""
    problem = roles_problem(list(roles))
    if problem:
        raise Malformed(problem)
    enrolled = obj.ledger.principals.enrol(name, office, list(roles), public_key)
    echo_recorded(
        f"Enrolled {enrolled.name} ({enrolled.office}; {', '.join(sorted(enrolled.roles))}), "
        f"key fingerprint {enrolled.fingerprint}"
    )


@principals.command("rotate")
@click.argument("name")
@click.option("--public-key", required=True, metavar="ed25519:BASE64",
              help="Its new public key (`jamsos key show` of the new key file).")
@pass_ledger
def rotate_command(obj: LedgerContext, name: str, public_key: str) -> None:
    """Give a principal a new key; its old key seals nothing from now on (administrators
    only)."""
    rotated = obj.ledger.principals.rotate(name, public_key)
    echo_recorded(f"Rotated the key of {rotated.name}: now {rotated.fingerprint}")


@principals.command("revoke")
@click.argument("name")
@click.option("--reason", required=True, help="Why: left the office, key lost or stolen...")
@pass_ledger
def revoke_command(obj: LedgerContext, name: str, reason: str) -> None:
    """Revoke a principal: no seal of its key counts from now on (administrators only)."""
    obj.ledger.principals.revoke(name, reason)
    echo_recorded(f"Revoked {name} ({reason})")


@principals.command("adopt")
@click.option("--admin-name", metavar="NAME",
              help="The administrator's name [default: --actor, else the OS user].")
@click.option("--admin-office", metavar="OFFICE", default="",
              help="The administrator's office, e.g. Diskominfo.")
@pass_ledger
def adopt_command(obj: LedgerContext, admin_name: str | None, admin_office: str) -> None:
    """Seal a ledger written before every write was sealed, as it stands, making the holder
    of --key its administrator; recorded as an adoption. Check it first against a digest kept
    from before (`audit verify --digest`): what it held is taken as it is."""
    ledger = obj.ledger
    if ledger.signing.root_seal() is not None:
        raise Refused("this ledger is sealed already: there is nothing to adopt")
    report = verify(ledger.recorder)
    if not report.intact:
        raise Refused(
            f"the event chain is broken ({report.discrepancy}): a tampered history is never "
            "adopted; restore the ledger from a backup and check it with `audit verify`"
        )
    root = ledger.signing.establish_root(admin_name or obj.actor or default_actor(),
                                         admin_office)
    echo_recorded(
        f"Adopted positions 1 to {count(root.position)}, written before sealing, as they stand "
        f"(digest {report.head_digest}): sealed by {root.principal}, the administrator"
    )
    click.echo(
        f"Key fingerprint {root.fingerprint}: keep it outside the system; auditors check the "
        "ledger against it (`jamsos audit verify --root FINGERPRINT`)"
    )
