"""jamsos-ledger: an event-sourced ledger for city-paid BPJS Ketenagakerjaan premiums."""

__version__ = "0.1.0"
