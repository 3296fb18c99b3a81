"""jamsos-ledger: an event-sourced ledger for city-paid BPJS Ketenagakerjaan premiums."""

from jamsos_ledger.starting import install_if_the_command

__version__ = "0.1.0"

install_if_the_command()  # Ctrl-C while `jamsos` starts: exit 130, no traceback
