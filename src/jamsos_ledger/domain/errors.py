"""The ledger's own errors: each says what is wrong in words an operator can act on.

Entry points map them to their own conventions (the CLI to exit codes); the domain and the
application raise nothing else on purpose.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Anything the ledger refuses or cannot do."""


class RuleViolation(LedgerError):
    """A rule of the program refuses the command; nothing was written."""


class OverBudget(RuleViolation):
    """Committed + paid would exceed the allocation (pagu)."""


class OverQuota(RuleViolation):
    """Enrolled workers would exceed the program's quota."""


class NotFound(RuleViolation):
    """An unknown program, worker or record."""


class DuplicateReference(RuleViolation):
    """A decree, SP2D or claim reference already used in this ledger."""


class InvalidInput(LedgerError):
    """The command line or an input file is malformed."""


class StoreUnavailable(LedgerError):
    """The store cannot be reached or is not a jamsos ledger."""


class NotAuthorised(LedgerError):
    """Who runs the command is not proven (no usable key, a key no principal holds, a revoked
    one) or may not do it; nothing was written."""


class RoleRefused(NotAuthorised):
    """The principal is proven but holds no role that allows the command; nothing was
    written."""
