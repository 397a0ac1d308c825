"""The append-only, hash-chained audit log (see service.py for the chain and how to re-verify)."""
