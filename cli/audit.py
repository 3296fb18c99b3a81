"""`jamsos audit`: what auditors use to re-derive the figures and prove the history intact."""

from __future__ import annotations

import click

# CLI.md, "Exit codes": an audit that found a discrepancy.
EXIT_DISCREPANCY = 4


@click.group()
def audit() -> None:
    """Replay, trail and tamper evidence, for the Inspektorat and BPK."""
