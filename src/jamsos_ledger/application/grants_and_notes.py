"""Principals enrolled, rotated, revoked, their roles granted and withdrawn by an administrator,
the HTTP service's tokens issued and revoked, and auditors' notes, in the service.

All are commands of the role table like every other (`roles.COMMAND_ROLES`): `enrol_principal`,
`rotate_key`, `revoke_key`, `grant_role` and `withdraw_role` for an administrator, who writes
them as events of the principals' registry (`signing.PrincipalAdmin`, the rules in
`principals.Directory`); `audit_note` for an auditor, whose only writes are these notes
(`audit_notes.AuditNote`). A role granted or withdrawn counts from the next write on, for the
service and for `audit verify` alike, which both read the principals from the registry's events
in log order. `issue_token` and `revoke_token`, an administrator's too, record the service's
bearer tokens as sealed `ServiceToken` events (`service_tokens` checks them when one is shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from jamsos_ledger.application.personal_data import PersonalDataService
from jamsos_ledger.application.service import command
from jamsos_ledger.domain.audit_notes import POSITION, PROPOSAL, WORKER, AuditNote
from jamsos_ledger.domain.errors import InvalidInput, NotFound
from jamsos_ledger.domain.model import Worker, worker_id
from jamsos_ledger.domain.nik import NIK_LENGTH, mask_nik
from jamsos_ledger.domain.principals import Principal
from jamsos_ledger.domain.proposals import short_id
from jamsos_ledger.domain.service_tokens import ServiceToken, token_aggregate_id

_WRITTEN_TOPIC = get_topic(AuditNote.Written)


class GrantsAndNotesService(PersonalDataService):
    """The ledger's service with roles granted and withdrawn, and auditors' notes."""

    # -- principals and roles --------------------------------------------------------------

    @command("enrol_principal")
    def enrol_principal(
        self, name: str, office: str, roles: Sequence[str], public_key: str
    ) -> Principal:
        """Enrol a principal with its public key and roles."""
        return self.principals.enrol(name, office, list(roles), public_key)

    @command("rotate_key")
    def rotate_key(self, name: str, public_key: str) -> Principal:
        """Give a principal a new key; its old key seals nothing from now on."""
        return self.principals.rotate(name, public_key)

    @command("revoke_key")
    def revoke_principal(self, name: str, reason: str) -> None:
        """Revoke a principal: no seal of its key counts from now on."""
        self.principals.revoke(name, reason)

    @command("grant_role")
    def grant_roles(self, name: str, roles: Sequence[str]) -> Principal:
        """Grant roles to an enrolled principal; refused for a role it holds already (the
        root holds every role not withdrawn from it), an unknown role, or a revoked
        principal. The principal as it stands after."""
        return self.principals.grant(name, list(roles))

    @command("withdraw_role")
    def withdraw_roles(self, name: str, roles: Sequence[str], reason: str) -> Principal:
        """Withdraw roles from a principal, for a reason recorded with it; refused for a role
        it does not hold, its last role (revoke it instead), or the administrator role of the
        ledger's last administrator. The principal as it stands after."""
        return self.principals.withdraw(name, list(roles), reason)

    # -- the service's tokens --------------------------------------------------------------

    @command("issue_token")
    def issue_token(
        self, principal: str, digest: str, lifetime: timedelta
    ) -> tuple[ServiceToken, int]:
        """Record a token's issuance for an active principal (its SHA-256 digest, never the
        token): the token and the position of its issuance, which the service checks the
        seal of whenever the token is presented (`service_tokens.sealed_token`)."""
        who = self.signing.directory().active(principal.strip())
        token = ServiceToken.issue(principal=who.name, digest=digest,
                                   issued_at=datetime.now(UTC), lifetime=lifetime,
                                   actor=self.actor)
        recordings = self.save(token)
        return token, int(recordings[-1].notification.id)

    @command("revoke_token")
    def revoke_token(self, digest: str, reason: str = "") -> ServiceToken:
        """Record a token's revocation; NotFound when no token of that digest was issued under
        seal. Revoking twice changes nothing (nothing written)."""

        def attempt() -> ServiceToken:
            try:
                token: Any = self.repository.get(token_aggregate_id(digest))
            except AggregateNotFoundError:
                raise NotFound("no token of that digest was issued under seal") from None
            assert isinstance(token, ServiceToken)
            if token.revoked:
                return token
            token.revoke(reason=reason, actor=self.actor)
            self.save(token)
            return token

        return self.retrying(attempt)

    # -- auditors' notes -------------------------------------------------------------------

    @command("audit_note")
    def write_note(self, text: str, about: str | None = None) -> AuditNote:
        """Record an auditor's note, about a worker (their NIK), a proposal (its id) or a
        position of the log (`#N`), or the ledger as a whole."""
        kind, subject = ("", "") if about is None else self._subject(about)
        note = AuditNote.write(text=text, about_kind=kind, about=subject, actor=self.actor)
        self.save(note)
        return note

    @command("audit")
    def audit_notes(self, about: str | None = None) -> list[tuple[int, AuditNote]]:
        """Every auditor's note with its position in the log, oldest first; with `about`,
        those about that worker, proposal or position."""
        wanted = None if about is None else self._subject(about)
        at = {UUID(str(n.originator_id)): n.id
              for n in self.read_log(topics=[_WRITTEN_TOPIC])}
        found = self.aggregates(list(at))
        notes = [(p, found[i]) for i, p in at.items() if isinstance(found.get(i), AuditNote)]
        return [(p, n) for p, n in notes
                if wanted is None or (n.about_kind, n.about) == wanted]

    def note_subject(self, note: AuditNote) -> str:
        """What a note is about, as people read it: a masked NIK, a proposal's short id, a
        position (`#N`), or "" for the ledger as a whole."""
        if note.about_kind == WORKER:
            try:
                worker: Any = self.repository.get(UUID(note.about))
            except AggregateNotFoundError:
                return f"worker {note.about[:8]}"
            assert isinstance(worker, Worker)
            return f"worker {mask_nik(worker.nik)}"
        if note.about_kind == PROPOSAL:
            return f"proposal {short_id(UUID(note.about))}"
        if note.about_kind == POSITION:
            return f"#{note.about}"
        return ""

    def _subject(self, about: str) -> tuple[str, str]:
        """What `about` names: a registered worker's NIK (16 digits), a log position written
        `#N`, or else a proposal's id (NotFound, InvalidInput when it names none)."""
        text = about.strip()
        if text.startswith("#"):
            number = text[1:].strip()
            if not number.isascii() or not number.isdigit() or int(number) < 1:
                raise InvalidInput(
                    f"{about!r} is not a position of the log: write it #N, as `audit log` "
                    "numbers its events"
                )
            head = int(self.recorder.max_notification_id() or 0)
            if int(number) > head:
                raise NotFound(f"the log has no position {int(number)}: it ends at #{head}")
            return POSITION, str(int(number))
        if len(text) == NIK_LENGTH and text.isascii() and text.isdigit():
            wid = worker_id(text)
            if not self.recorder.select_events(wid, limit=1):
                raise NotFound(f"no worker with NIK {mask_nik(text)} is registered")
            return WORKER, wid.hex
        try:
            proposal = self.proposal(text)
        except (InvalidInput, NotFound) as e:
            hint = (f" (a position of the log is written #{text})"
                    if text.isascii() and text.isdigit() else "")
            raise type(e)(
                f"{e}{hint}; a note is about a worker's NIK (16 digits), a proposal's id or "
                "a position #N"
            ) from None
        return PROPOSAL, proposal.id.hex


__all__ = ["GrantsAndNotesService"]
