"""Per-cache usage reads the ledger by `cached_content` on every sync: index only the rows set."""

STEPS = [
    "CREATE INDEX ix_ledger_cached_content ON ledger (cached_content) "
    "WHERE cached_content IS NOT NULL",
]
