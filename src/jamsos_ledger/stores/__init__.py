"""Where the ledger's events are kept: store URLs, the `eventsourcing` recorders with their hash
chain, the PostgreSQL factory, bulk writes and reads, and the stored format of event state."""
