"""The tamper-evident ledger: append-only entries, Merkle tree, checkpoints."""
