"""The ledger's application: the service (`service`) and the composition root that opens a
ledger of a store with its views (`composition`). `Ledger(url, actor=...)` is the door."""

from jamsos_ledger.application.composition import Ledger, open_ledger_runner
from jamsos_ledger.application.service import (
    BULK_BATCH,
    CONFLICT_ATTEMPTS,
    PAGE,
    EnrolResult,
    LedgerError,
    LedgerQueries,
    LedgerService,
    PreparedRegistration,
    RegisterResult,
    RepeatedWorker,
    compressor_or_cipher,
    default_actor,
    prepare_registrations,
)
from jamsos_ledger.application.signing import KeySource

__all__ = [
    "BULK_BATCH",
    "CONFLICT_ATTEMPTS",
    "PAGE",
    "EnrolResult",
    "KeySource",
    "Ledger",
    "LedgerError",
    "LedgerQueries",
    "LedgerService",
    "PreparedRegistration",
    "RegisterResult",
    "RepeatedWorker",
    "compressor_or_cipher",
    "default_actor",
    "open_ledger_runner",
    "prepare_registrations",
]
