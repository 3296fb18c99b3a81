"""Who writes: the key of whoever runs a command, matched to a principal, sealing its writes.

The service asks `Signing.ready()` before every write (outside the database transaction, so a
passphrase is asked before any lock is taken): the key is loaded, the principal holding it is
found among the ledger's principals as they stand now, and the recorder is given a `Sealer`
signing as that principal. Until then, and whenever that fails, the recorder holds a `Refusal`:
a write that went round the service is refused inside its transaction, so nothing unsealed is
ever kept. The events a principal writes record its name as their actor; a self-declared name
(`--actor`) is only a note on the seal.

Enrolling, rotating and revoking principals, granting and withdrawing their roles
(`PrincipalAdmin`) are writes like any other, sealed by whoever runs them, and allowed to an
administrator only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.application import AggregateNotFoundError

from jamsos_ledger.domain.errors import (
    NotAuthorised,
    RoleRefused,
    RuleViolation,
    StoreUnavailable,
)
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    REGISTRY_ID,
    SERVICE,
    Directory,
    Principal,
    PrincipalRegistry,
    change_of,
    parse_public_key,
    public_key_text,
    role_problems,
)
from jamsos_ledger.domain.roles import open_to_all, require
from jamsos_ledger.stores.keys import SigningKey, key_path, load_key
from jamsos_ledger.stores.seals import ROOT, Refusal, Seal, Sealer, root_body


class LedgerService(Protocol):
    """What signing uses of the service (`service.LedgerService`, which imports this)."""

    note: str | None

    @property
    def recorder(self) -> Any: ...

    @property
    def mapper(self) -> Any: ...

    @property
    def repository(self) -> Any: ...

    @property
    def signing(self) -> Signing: ...

    @property
    def store(self) -> Any: ...

    def save(self, *objs: Any) -> Any: ...

    def retrying(self, attempt: Callable[[], Any]) -> Any: ...

_NO_SEALS_YET = 2**62  # an upper bound of positions when reading the first seal


@dataclass
class KeySource:
    """Where the key of whoever runs comes from.

    Attributes:
        path: the key file (`--key`); None for JAMSOS_KEY's, else the default.
        key: a key loaded already (the Python API, tests); wins over `path`.
        passphrase: asks for the key's passphrase (a prompt on a terminal), or None.
        on_behalf_of: the principal a `service` principal acts for.
    """

    path: str | None = None
    key: SigningKey | None = None
    passphrase: Callable[[], str | None] | None = None
    on_behalf_of: str | None = None

    def load(self) -> SigningKey:
        if self.key is None:
            self.key = load_key(key_path(self.path), self.passphrase)
        return self.key


def legacy_refusal() -> str:
    return (
        "this ledger was written before every write was sealed, so who wrote it is not "
        "proven: nothing can be added until an administrator adopts it as it stands "
        "(`jamsos principals adopt`, recorded as such), after checking it with `jamsos audit "
        "verify --digest` against a digest kept from before"
    )


class Signing:
    """The signing side of one opened ledger: its principals, and the sealer of its writes."""

    def __init__(
        self, service: LedgerService, source: KeySource | None, default_name: str
    ) -> None:
        self.service = service
        self.source = source or KeySource()
        self.default_name = default_name  # the root's name when a first write makes it
        self.sealer: Sealer | None = None
        self.principal: Principal | None = None

    def use(self, source: KeySource) -> None:
        """Write from now on with another key (a service acting for several principals, a
        script writing as several): found among the principals at the next write."""
        self.source = source
        self.sealer = None
        self.principal = None
        self.install()

    def install(self) -> None:
        """Refuse every write until `ready()` has found who writes."""
        self.service.recorder.sealer = Refusal(
            "this write was not sealed by a principal's key; nothing was written"
        )

    # -- reading -------------------------------------------------------------------------

    def root_seal(self) -> Seal | None:
        """The ledger's first seal (its root), or None when it has none."""
        found: list[Seal] = self.service.recorder.select_seals(
            -1, _NO_SEALS_YET, 1
        )
        return found[0] if found else None

    def directory(self) -> Directory:
        """The principals as the history stands now."""
        root = self.root_seal()
        if root is None or root.kind != ROOT:
            return Directory()
        fields = root.root_principal()
        if fields is None:
            return Directory()
        directory = Directory(
            Principal(fields["name"], fields["office"], frozenset({ADMINISTRATOR}),
                      fields["public_key"])
        )
        for stored in self.service.recorder.select_events(REGISTRY_ID):
            change = change_of(self.service.mapper.to_domain_event(stored))
            if change is not None:
                directory.apply(change)
        return directory

    # -- who writes ----------------------------------------------------------------------

    def ready(self, reading: bool = False) -> Sealer:
        """The sealer of this command's writes: its key, matched to a principal now; the
        ledger's root made first when the ledger holds nothing at all. NotAuthorised
        (nothing written) otherwise; `reading`: the command only reads (a role-checked read
        such as `audit viewings`), so a refusal says nothing was read, not written."""
        done = "nothing was read" if reading else "nothing was written"
        if self.sealer is not None:
            return self.sealer
        if self.service.store.read_only:
            # The store refuses the write anyway: say that, not what the key lacks.
            raise StoreUnavailable(
                "the ledger is opened read-only (the store URL's mode=ro or immutable=1, or a "
                "file this user cannot write), and this command writes: nothing was written; "
                "run it on a ledger you can write"
            )
        key = self.source.load()
        recorder: Any = self.service.recorder
        directory = self.directory()
        if directory.root is None:
            if int(recorder.max_notification_id() or 0) > 0:
                raise NotAuthorised(legacy_refusal())
            self.establish_root(self.service.note or self.default_name, "")
            directory = self.directory()
        holder = directory.holding(key.public_key)
        if holder is None:
            raise NotAuthorised(
                f"the key {key.path} (fingerprint {key.fingerprint}) is no principal's in this "
                "ledger: an administrator enrols its public key (`jamsos key show` prints it) "
                f"with `jamsos principals enrol`; {done}"
            )
        if holder.revoked:
            raise NotAuthorised(
                f"the key {key.path} is that of {holder.name}, who was revoked: {done}"
            )
        on_behalf_of = self.source.on_behalf_of
        if on_behalf_of is not None:
            if not holder.holds(SERVICE):
                raise NotAuthorised(
                    f"{holder.name} acts only for itself: only a principal with the "
                    f"{SERVICE!r} role may seal on behalf of another; {done}"
                )
            try:
                directory.active(on_behalf_of)
            except RuleViolation as e:
                raise NotAuthorised(f"cannot act on behalf of {on_behalf_of!r}: {e}") from e
        self.principal = holder
        self.sealer = Sealer(key, holder.name, on_behalf_of, self.service.note)
        recorder.sealer = self.sealer
        return self.sealer

    @property
    def actor(self) -> str:
        """The name the events of this command record: the principal whose key seals them
        (or the one the service acts for)."""
        sealer = self.ready()
        return sealer.on_behalf_of or sealer.principal

    def establish_root(self, name: str, office: str) -> Seal:
        """Make the key's holder the ledger's root administrator (its first seal), on a ledger
        with no seal yet; the root seal (an existing one when another process was first)."""
        key = self.source.load()
        problems = Directory().enrolment_problems(name, office or "-", [ADMINISTRATOR],
                                                  key.public_key)
        if problems:
            raise NotAuthorised("; ".join(problems))
        recorder: Any = self.service.recorder
        previous = recorder.sealer
        recorder.sealer = Sealer(key, name, None, self.service.note)
        try:
            recorder.append_root(root_body(name, office, key.public_key))
        finally:
            recorder.sealer = previous
        root = self.root_seal()
        assert root is not None
        return root

    def still_allowed(self, command: str | None, changes_principals: bool) -> None:
        """Refuse, just before a write's transaction, what the principal lost since the command
        began: the principals' registry is read again, and the write is refused (nothing
        written) when its key was revoked or rotated, when the principal it acts for was
        revoked, or when the role the command (`command`, of the role table) or a change of
        principals (`changes_principals`: an administrator's) needs was withdrawn meanwhile.
        Without it, a role withdrawn while a long command runs, or while a ledger object
        stays open for many commands, would let it write an event that `audit verify` then
        rightly reports as written without the role."""
        principal = self.principal
        if principal is None:
            return  # the ledger's root, made by this very write (`ready`)
        directory = self.directory()
        current = directory.get(principal.name)
        if current is None or current.revoked or current.public_key != principal.public_key:
            raise NotAuthorised(
                f"the key of {principal.name} was revoked or replaced while this command ran: "
                "nothing was written"
            )
        self.principal = current
        acting = current
        on_behalf_of = self.source.on_behalf_of
        if on_behalf_of is not None:
            target = directory.get(on_behalf_of)
            if target is None or target.revoked or not current.holds(SERVICE):
                raise NotAuthorised(
                    f"{current.name} may no longer act on behalf of {on_behalf_of!r}: nothing "
                    "was written"
                )
            acting = target
        if command is not None and not open_to_all(command):
            require(acting, command)
        if changes_principals and not acting.is_administrator:
            raise RoleRefused(
                f"{acting.name} is an administrator no more: only an administrator changes "
                "principals; nothing was written"
            )

    def require_administrator(self) -> Principal:
        """The principal running the command, refused unless it is an administrator."""
        self.ready()
        principal = self.principal
        assert principal is not None
        acting = principal
        if self.source.on_behalf_of is not None:
            acting = self.directory().active(self.source.on_behalf_of)
        if not acting.is_administrator:
            raise NotAuthorised(
                f"{acting.name} is no administrator: only an administrator enrols, rotates or "
                "revokes principals and grants or withdraws roles; nothing was written"
            )
        return acting


class PrincipalAdmin:
    """Enrol, rotate and revoke principals, grant and withdraw roles: registry events sealed by
    an administrator. The rules of each change are the `Directory`'s, checked against the
    principals as they stand when it is written (again, should another write come first)."""

    def __init__(self, service: LedgerService) -> None:
        self.service = service

    def _registry(self, actor: str) -> PrincipalRegistry:
        try:
            found: Any = self.service.repository.get(REGISTRY_ID)
        except AggregateNotFoundError:
            return PrincipalRegistry(actor=actor)
        assert isinstance(found, PrincipalRegistry)
        return found

    def _write(self, change: Callable[[PrincipalRegistry, Directory, str], None]) -> None:
        signing = self.service.signing
        admin = signing.require_administrator()

        def attempt() -> None:
            registry = self._registry(admin.name)
            change(registry, signing.directory(), admin.name)
            self.service.save(registry)

        self.service.retrying(attempt)

    def enrol(self, name: str, office: str, roles: list[str], public_key: str) -> Principal:
        raw = parse_public_key(public_key)

        def change(registry: PrincipalRegistry, directory: Directory, actor: str) -> None:
            problems = directory.enrolment_problems(name, office, roles, raw)
            if problems:
                raise RuleViolation("; ".join(problems) + "; nothing was written")
            registry.enrolled(name=name, office=office, roles=sorted(set(roles)),
                              public_key=public_key_text(raw), actor=actor)

        self._write(change)
        return Principal(name, office, frozenset(roles), raw)

    def rotate(self, name: str, public_key: str) -> Principal:
        raw = parse_public_key(public_key)

        def change(registry: PrincipalRegistry, directory: Directory, actor: str) -> None:
            current = directory.active(name)
            problem = directory.rotation_problem(name, raw)
            if problem is not None:
                raise RuleViolation(f"{problem}; nothing was written")
            registry.key_rotated(name=current.name, public_key=public_key_text(raw),
                                 actor=actor)

        self._write(change)
        return self.service.signing.directory().active(name)

    def revoke(self, name: str, reason: str) -> None:
        def change(registry: PrincipalRegistry, directory: Directory, actor: str) -> None:
            current = directory.active(name)
            others = [p for p in directory if p.is_administrator and p.name != current.name]
            if current.is_administrator and not others:
                raise RuleViolation(
                    f"{name} is the last administrator: enrol another before revoking it; "
                    "nothing was written"
                )
            registry.revoked(name=current.name, reason=reason, actor=actor)

        self._write(change)

    def grant(self, name: str, roles: list[str]) -> Principal:
        """Grant roles to an enrolled principal (`Directory.check_grant`); it as it is now."""

        def change(registry: PrincipalRegistry, directory: Directory, actor: str) -> None:
            current = directory.check_grant(name, roles)
            registry.role_granted(name=current.name, roles=sorted(set(roles)), actor=actor)

        self._write(change)
        return self.service.signing.directory().active(name)

    def withdraw(self, name: str, roles: list[str], reason: str) -> Principal:
        """Withdraw roles from a principal (`Directory.check_withdrawal`); it as it is now."""
        reason = " ".join(reason.split())

        def change(registry: PrincipalRegistry, directory: Directory, actor: str) -> None:
            current = directory.check_withdrawal(name, roles, reason)
            registry.role_withdrawn(name=current.name, roles=sorted(set(roles)),
                                    reason=reason, actor=actor)

        self._write(change)
        return self.service.signing.directory().active(name)


def roles_problem(roles: list[str]) -> str | None:
    """What is wrong with roles given on the command line, or None."""
    problems = role_problems(roles)
    return "; ".join(problems) or None


__all__ = ["KeySource", "PrincipalAdmin", "Signing", "legacy_refusal", "roles_problem"]
