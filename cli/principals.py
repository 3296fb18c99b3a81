"""`jamsos principals`: who may write the ledger; enrolled, rotated, revoked, and their roles
granted and withdrawn, by an administrator.

Each change is an event sealed by the administrator running it; `list` shows the principals as
the history stands now, with the roles each holds now. `adopt` seals a ledger written before
seals existed, as of its last position, recorded as such.
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
    """Who may write the ledger: list, enrol, rotate a key, revoke, grant or withdraw roles
    (administrators only); adopt a ledger written before sealing."""


@principals.command("list")
@format_option("table", "csv", "json")
@pass_ledger
def list_command(obj: LedgerContext, fmt: str) -> None:
    """Every principal: name, office, the roles it holds now, key fingerprint, and whether
    revoked. The root administrator holds every role not withdrawn from it: its status says
    which were withdrawn."""
    directory = obj.ledger.signing.directory()
    rows = [
        {
            "name": p.name,
            "office": p.office,
            "roles": sorted(p.roles if p.revoked else p.held),
            "withdrawn": sorted(p.withdrawn) if p.root else [],
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
            "status": _status(r),
        }
        for r in rows
    ]
    render(fmt, columns, table, title=f"Principals ({count(len(rows))})")


def _status(row: dict[str, object]) -> str:
    if row["revoked"]:
        return "revoked"
    if not row["root"]:
        return "active"
    withdrawn = row["withdrawn"]
    assert isinstance(withdrawn, list)
    return f"root, {' '.join(withdrawn)} withdrawn" if withdrawn else "root, every role"


ROLE_HELP = "A role (repeat for several): " + ", ".join(ROLES) + "."


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
    enrolled = obj.ledger.enrol_principal(name, office, list(roles), public_key)
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
    rotated = obj.ledger.rotate_key(name, public_key)
    echo_recorded(f"Rotated the key of {rotated.name}: now {rotated.fingerprint}")


@principals.command("revoke")
@click.argument("name")
@click.option("--reason", required=True, help="Why: left the office, key lost or stolen...")
@pass_ledger
def revoke_command(obj: LedgerContext, name: str, reason: str) -> None:
    """Revoke a principal: no seal of its key counts from now on (administrators only)."""
    obj.ledger.revoke_principal(name, reason)
    echo_recorded(f"Revoked {name} ({reason})")


@principals.command("grant")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE", help=ROLE_HELP)
@pass_ledger
def grant_command(obj: LedgerContext, name: str, roles: tuple[str, ...]) -> None:
    """Grant roles to a principal: they count from its next write on (administrators only).
    A role it holds already is refused (exit 1); so is an unknown role (exit 2)."""
    problem = roles_problem(list(roles))
    if problem:
        raise Malformed(problem + "; nothing was written")
    granted = obj.ledger.grant_roles(name, list(roles))
    echo_recorded(
        f"Granted {', '.join(sorted(set(roles)))} to {granted.name}: it holds "
        f"{', '.join(sorted(granted.held))}"
    )


@principals.command("withdraw")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE", help=ROLE_HELP)
@click.option("--reason", required=True,
              help="Why (recorded): moved office, separation of duties, ...")
@pass_ledger
def withdraw_command(obj: LedgerContext, name: str, roles: tuple[str, ...], reason: str) -> None:
    """Withdraw roles from a principal, the root administrator included: from its next write
    on, what needs them is refused, and `audit verify` reports any event written with them
    (administrators only). Refused for a role it does not hold, its last role (revoke it
    instead), and the last administrator's administrator role (exit 1)."""
    problem = roles_problem(list(roles))
    if problem:
        raise Malformed(problem + "; nothing was written")
    withdrawn = obj.ledger.withdraw_roles(name, list(roles), reason)
    echo_recorded(
        f"Withdrew {', '.join(sorted(set(roles)))} from {withdrawn.name} ({reason.strip()}): "
        f"it holds {', '.join(sorted(withdrawn.held))}"
    )


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
