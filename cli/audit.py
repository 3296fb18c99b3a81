"""`jamsos audit`: what auditors use to re-derive the figures and prove the history intact."""

from __future__ import annotations

import click

# The README's "Exit codes": an audit that found a discrepancy.
EXIT_DISCREPANCY = 4


@click.group()
def audit() -> None:
    """Replay, log (the trail), verify and digest (tamper evidence): for Inspektorat and BPK."""


# Tamper evidence (`verify`, `digest`) lives in its own module, which imports EXIT_DISCREPANCY
# from here: imported last, once the group above exists.
from jamsos_ledger.cli.audit_integrity import digest_command, verify_command  # noqa: E402

audit.add_command(verify_command)
audit.add_command(digest_command)

# The replay and the trail, likewise (they import EXIT_DISCREPANCY from here).
from jamsos_ledger.cli.audit_trail import log_command, replay_command  # noqa: E402

audit.add_command(replay_command)
audit.add_command(log_command)
