"""Implicit-cache hit rates need the ledger grouped by prompt prefix and per-tier time ranges."""

STEPS = [
    "ALTER TABLE ledger ADD COLUMN prefix_hash TEXT",
    "ALTER TABLE ledger ADD COLUMN request_key TEXT",
    "CREATE INDEX ix_ledger_model_tier_at ON ledger (model, tier_asked, at)",
]
