"""Who a token speaks for: the one place that turns a principal's name into the principal.

Tokens are bound to the ledger's enrolled principals (`jamsos principals`): a token is issued
only for an enrolled principal, and is refused as soon as its principal is revoked. What the
service writes for a token is sealed by the service's own key (a principal holding the
`service` role) on behalf of the token's principal, whose name the events record as actor.
"""

from __future__ import annotations

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.principals import Principal

__all__ = ["Principal", "principal_named"]


def principal_named(ledger: Ledger, name: str) -> Principal:
    """The enrolled, unrevoked principal of that name, as the ledger stands now; NotFound or
    RuleViolation (revoked) otherwise."""
    return ledger.signing.directory().active(name.strip())
