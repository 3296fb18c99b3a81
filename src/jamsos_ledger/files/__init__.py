"""Files the ledger reads: the city's registration files."""
