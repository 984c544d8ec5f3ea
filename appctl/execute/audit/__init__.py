"""The audit trail: one record per call (arguments redacted, outcome, timing) written to
the history (SQLite or PostgreSQL) through a pending log folded in batches."""
