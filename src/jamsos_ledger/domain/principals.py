"""Who may write the ledger: its principals, their offices, roles and public keys.

A principal is a person (or the HTTP service) who signs what they write with an Ed25519 key
whose private half never enters the ledger. The first principal, the root administrator, is
fixed when the ledger is created (the ledger's first seal carries its public key, see `seals`);
the others are enrolled, their keys rotated and revoked, their roles granted and withdrawn, by
events of the `PrincipalRegistry`, which only an administrator may seal. The fingerprint of the
root administrator's key is what an auditor keeps: every seal of the history leads back to it.

Pure data and rules: no key file, no signature, no store (those are `keys` and `seals`). Other
modules (role checks, four-eyes) build on `Principal.held` and `Directory`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jamsos_ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from jamsos_ledger.domain.texts import text_problem
from jamsos_ledger.domain.topics import pin_stored_topics

# The roles a principal may hold. `service` is the HTTP service, which seals on behalf of the
# principal who authenticated to it (a seal's `on_behalf_of`).
ADMINISTRATOR = "administrator"
OPERATOR = "operator"
APPROVER = "approver"
FINANCE = "finance"
AUDITOR = "auditor"
SERVICE = "service"
ROLES = (ADMINISTRATOR, OPERATOR, APPROVER, FINANCE, AUDITOR, SERVICE)

PUBLIC_KEY_BYTES = 32  # a raw Ed25519 public key
FINGERPRINT_HEX = 64  # SHA-256 of the raw public key, in hex
_PREFIX = "ed25519:"  # how a public key is written out: ed25519:BASE64

# The registry's id, fixed forever (like the program's and workers', derived from a name).
_NAMESPACE = UUID("6f1c9b0e-3a57-4d2b-9a47-2d0c8f3b5e61")
REGISTRY_ID = uuid5(_NAMESPACE, "principals")


def fingerprint(public_key: bytes) -> str:
    """The fingerprint of a raw public key: the SHA-256 of its 32 bytes, 64 hex digits."""
    return hashlib.sha256(public_key).hexdigest()


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, with colons or spaces between groups); InvalidInput
    when it is not 64 hex digits."""
    cleaned = "".join(c for c in text.strip().lower() if c not in ": ")
    if cleaned.startswith("sha256"):
        cleaned = cleaned[len("sha256"):]
    if len(cleaned) != FINGERPRINT_HEX or any(c not in "0123456789abcdef" for c in cleaned):
        raise InvalidInput(
            f"{text!r} is not a key fingerprint: it is {FINGERPRINT_HEX} hex digits, as "
            "`jamsos key show` and `program open` print it"
        )
    return cleaned


def public_key_text(public_key: bytes) -> str:
    """A raw public key as written out for enrolment: `ed25519:` and its base64."""
    return _PREFIX + base64.b64encode(public_key).decode()


def parse_public_key(text: str) -> bytes:
    """The raw public key of `ed25519:BASE64` (as `jamsos key show` prints it)."""
    body = text.strip()
    if body.lower().startswith(_PREFIX):
        body = body[len(_PREFIX):]
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != PUBLIC_KEY_BYTES:
        raise InvalidInput(
            f"{text[:60]!r} is not an Ed25519 public key: `jamsos key show` prints one as "
            "ed25519: followed by 44 base64 characters"
        )
    return raw


def role_problems(roles: Iterable[str]) -> list[str]:
    """What is wrong with a set of roles (unknown ones, none at all)."""
    given = list(roles)
    problems = [
        f"unknown role {r!r} (roles: {', '.join(ROLES)})" for r in given if r not in ROLES
    ]
    if not given:
        problems.append(f"a principal holds at least one role ({', '.join(ROLES)})")
    return problems


def unknown_roles(roles: Iterable[str]) -> None:
    """Refuse (InvalidInput) roles that do not exist, or none at all."""
    problems = role_problems(roles)
    if problems:
        raise InvalidInput("; ".join(problems) + "; nothing was written")


@dataclass(frozen=True)
class Principal:
    """One principal as the history stands at some position.

    Attributes:
        name: unique in the ledger; what the events it seals record as their actor.
        office: the office it works for (Disnaker, Dinsos, BPKAD, Inspektorat, ...).
        roles: what it may do (`ROLES`).
        roles: the roles it was given by name: at its enrolment (the root's seal, for the
            root), then granted and withdrawn (`RoleGranted`, `RoleWithdrawn`).
        public_key: its current raw Ed25519 public key.
        revoked: no seal of it counts from its revocation on.
        root: the administrator fixed when the ledger was created.
        withdrawn: the roles withdrawn from the root and not granted back. The root holds
            every role it was not withdrawn (`held`); for any other principal a withdrawal
            only takes the role out of `roles`.
    """

    name: str
    office: str
    roles: frozenset[str]
    public_key: bytes
    revoked: bool = False
    root: bool = False
    withdrawn: frozenset[str] = frozenset()

    @property
    def fingerprint(self) -> str:
        """The fingerprint of its current key."""
        return fingerprint(self.public_key)

    @property
    def held(self) -> frozenset[str]:
        """The roles it holds now, which every check of the role table uses: none once
        revoked. The root holds every role but those withdrawn from it, so that an office of
        one person runs its program from the first day, and an office that has enrolled its
        principals can take finance, approver or operator back from the root."""
        if self.revoked:
            return frozenset()
        if self.root:
            return frozenset(ROLES) - self.withdrawn
        return self.roles

    def holds(self, role: str) -> bool:
        """Whether it holds the role by name (a revoked principal holds none). Acting on
        behalf of others (`service`) needs it by name: the root's implicit roles are not
        enough."""
        return not self.revoked and role in self.roles

    @property
    def is_administrator(self) -> bool:
        return ADMINISTRATOR in self.held


class Directory:
    """The principals as the history stands at one position: built from the root and the
    registry's events in log order, by the service (who may write now) and by verification
    (who could write then)."""

    def __init__(self, root: Principal | None = None) -> None:
        self.by_name: dict[str, Principal] = {}
        # Every key any principal ever held -> whose: a key rotated away or revoked is never
        # enrolled or rotated to again, so a seal under it names one principal only.
        self.ever_held: dict[bytes, str] = {}
        if root is not None:
            self.by_name[root.name] = replace(root, root=True)
            self.ever_held[root.public_key] = root.name

    @property
    def root(self) -> Principal | None:
        return next((p for p in self.by_name.values() if p.root), None)

    def get(self, name: str) -> Principal | None:
        return self.by_name.get(name)

    def holding(self, public_key: bytes) -> Principal | None:
        """The principal whose current key this is, revoked or not."""
        return next((p for p in self.by_name.values() if p.public_key == public_key), None)

    def key_problem(self, public_key: bytes) -> str | None:
        """Why this key cannot be a principal's new key: another's current key (revoked or
        not), or one that any principal held before and rotated away. The old key signs nothing
        more (README "Principals"), so it is never handed to anyone again."""
        holder = self.holding(public_key)
        if holder is not None:
            return (f"that key is {holder.name}'s already"
                    + (" (revoked)" if holder.revoked else "")
                    + ": each principal has its own, and a key is never used again")
        held_by = self.ever_held.get(public_key)
        if held_by is not None:
            return (f"that key was {held_by}'s until it was rotated away: a key any principal "
                    "ever held is never used again")
        return None

    def rotation_problem(self, name: str, public_key: bytes) -> str | None:
        """Why the active principal `name` cannot take this key (NotFound, RuleViolation when
        it is no active principal)."""
        self.active(name)
        return self.key_problem(public_key)

    def __iter__(self) -> Any:
        return iter(self.by_name.values())

    def apply(self, change: Mapping[str, Any]) -> None:
        """Apply a registry event's fields (`kind` one of enrolled, rotated, revoked, granted,
        withdrawn)."""
        kind, name = change["kind"], change["name"]
        if kind == "enrolled":
            self.by_name[name] = Principal(
                name=name,
                office=change["office"],
                roles=frozenset(change["roles"]),
                public_key=parse_public_key(change["public_key"]),
            )
            self.ever_held.setdefault(self.by_name[name].public_key, name)
            return
        current = self.by_name.get(name)
        if current is None:
            return  # refused by the registry when written; verification names the event
        if kind == "rotated":
            self.by_name[name] = replace(current, public_key=parse_public_key(change["public_key"]))
            self.ever_held.setdefault(self.by_name[name].public_key, name)
        elif kind == "revoked":
            self.by_name[name] = replace(current, revoked=True)
        elif kind == "granted":
            given = frozenset(change["roles"])
            self.by_name[name] = replace(current, roles=current.roles | given,
                                         withdrawn=current.withdrawn - given)
        elif kind == "withdrawn":
            taken = frozenset(change["roles"])
            self.by_name[name] = replace(
                current,
                roles=current.roles - taken,
                withdrawn=current.withdrawn | taken if current.root else current.withdrawn,
            )

    def check_grant(self, name: str, roles: Iterable[str]) -> Principal:
        """The principal to grant the roles to, or why not: unknown roles (InvalidInput), no
        such principal (NotFound), revoked, or a role it holds already (RuleViolation)."""
        given = sorted(set(roles))
        unknown_roles(given)
        current = self.active(name)
        already = [r for r in given if r in current.held]
        if already:
            raise RuleViolation(
                f"{name} holds {', '.join(already)} already (it holds "
                f"{', '.join(sorted(current.held))}"
                + ("; the root administrator holds every role not withdrawn from it"
                   if current.root else "")
                + "); nothing was written"
            )
        return current

    def check_withdrawal(self, name: str, roles: Iterable[str], reason: str) -> Principal:
        """The principal to withdraw the roles from, or why not: unknown roles or no reason
        (InvalidInput), no such principal (NotFound), revoked, a role it does not hold, its
        last role (revoke it instead), or the ledger's last administrator (RuleViolation)."""
        taken = sorted(set(roles))
        unknown_roles(taken)
        problem = text_problem(reason)
        if not reason.strip() or problem:
            raise InvalidInput(
                f"a withdrawal needs a reason (--reason), recorded with it: the reason "
                f"{problem or 'is empty'}; nothing was written"
            )
        current = self.active(name)
        missing = [r for r in taken if r not in current.held]
        if missing:
            holds = ", ".join(sorted(current.held)) or "no role"
            raise RuleViolation(
                f"{name} does not hold {', '.join(missing)} (it holds {holds}); nothing was "
                "written"
            )
        others = [p for p in self if p.is_administrator and p.name != current.name]
        if ADMINISTRATOR in taken and not others:
            raise RuleViolation(
                f"{name} is the last administrator: the ledger would have nobody to enrol, "
                "grant or revoke; grant the role administrator to another principal first; "
                "nothing was written"
            )
        if not current.held - set(taken):
            raise RuleViolation(
                f"{name} would hold no role: a principal holds at least one; revoke it "
                "instead (`principals revoke`); nothing was written"
            )
        return current

    def enrolment_problems(
        self, name: str, office: str, roles: Iterable[str], public_key: bytes
    ) -> list[str]:
        """Why a new principal cannot be enrolled as given (empty when it can)."""
        problems = []
        for what, text in (("principal name", name), ("office", office)):
            problem = text_problem(text)
            if problem:
                problems.append(f"{what} {problem}")
        if name in self.by_name:
            problems.append(f"a principal named {name!r} is enrolled already")
        problems += role_problems(roles)
        problem = self.key_problem(public_key)
        if problem is not None:
            problems.append(problem)
        return problems

    def active(self, name: str) -> Principal:
        """The enrolled, unrevoked principal of that name (NotFound, RuleViolation)."""
        found = self.by_name.get(name)
        if found is None:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise NotFound(f"no principal named {name!r} (principals: {known})")
        if found.revoked:
            raise RuleViolation(f"principal {name!r} was revoked")
        return found


class PrincipalRegistry(Aggregate):
    """The principals enrolled after the root administrator, their key rotations and
    revocations. One aggregate for the whole ledger: two administrators enrolling the same name
    at once conflict on its version, and one of them is tried again against the new state."""

    @staticmethod
    def create_id() -> UUID:
        return REGISTRY_ID

    class Started(Aggregate.Created):
        actor: str

    @event(Started)
    def __init__(self, *, actor: str) -> None:
        self.actor = actor

    class Enrolled(Aggregate.Event):
        name: str
        office: str
        roles: list[str]
        public_key: str
        actor: str

    @event(Enrolled)
    def enrolled(
        self, *, name: str, office: str, roles: list[str], public_key: str, actor: str
    ) -> None:
        """Record an enrolment the service has checked against the `Directory`."""

    class KeyRotated(Aggregate.Event):
        name: str
        public_key: str
        actor: str

    @event(KeyRotated)
    def key_rotated(self, *, name: str, public_key: str, actor: str) -> None:
        """Record a new key for a principal (its old key signs nothing from now on)."""

    class Revoked(Aggregate.Event):
        name: str
        reason: str
        actor: str

    @event(Revoked)
    def revoked(self, *, name: str, reason: str, actor: str) -> None:
        """Record a revocation: no seal of this principal counts from now on."""

    class RoleGranted(Aggregate.Event):
        name: str
        roles: list[str]
        actor: str

    @event(RoleGranted)
    def role_granted(self, *, name: str, roles: list[str], actor: str) -> None:
        """Record roles granted (`Directory.check_grant` checked them): the principal's
        commands needing them are allowed from the next write on."""

    class RoleWithdrawn(Aggregate.Event):
        name: str
        roles: list[str]
        reason: str
        actor: str

    @event(RoleWithdrawn)
    def role_withdrawn(self, *, name: str, roles: list[str], reason: str, actor: str) -> None:
        """Record roles withdrawn (`Directory.check_withdrawal` checked them): from the next
        write on, the principal's commands needing them are refused, and `audit verify`
        reports any event written with them as one written without the role."""


# The registry's events as `Directory.apply` takes them, by class.
CHANGE_KINDS: dict[type, str] = {
    PrincipalRegistry.Enrolled: "enrolled",
    PrincipalRegistry.KeyRotated: "rotated",
    PrincipalRegistry.Revoked: "revoked",
    PrincipalRegistry.RoleGranted: "granted",
    PrincipalRegistry.RoleWithdrawn: "withdrawn",
}


def change_of(domain_event: object) -> dict[str, Any] | None:
    """A registry event as the fields `Directory.apply` takes; None for any other event."""
    kind = CHANGE_KINDS.get(type(domain_event))
    if kind is None:
        return None
    fields = {k: v for k, v in vars(domain_event).items() if not k.startswith("_")}
    return {"kind": kind, **fields}


__all__ = [
    "ADMINISTRATOR",
    "APPROVER",
    "AUDITOR",
    "FINANCE",
    "OPERATOR",
    "ROLES",
    "SERVICE",
    "Directory",
    "Principal",
    "PrincipalRegistry",
    "change_of",
    "fingerprint",
    "normal_fingerprint",
    "parse_public_key",
    "public_key_text",
]


# Stored names are never renamed (`topics`): these events keep the module path the class had
# when the first ledgers holding them were written.
STORED_TOPIC_MODULE = "jamsos_ledger.principals"
pin_stored_topics(STORED_TOPIC_MODULE, PrincipalRegistry)
