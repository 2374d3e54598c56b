"""Photo evidence: sanitising uploads, metadata facts, fingerprints, quality signals, storage.

Pure image handling (no database, GraphQL or web code); the service layer does the I/O.
"""
