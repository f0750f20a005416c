"""Tier runs keep their per-tier timeouts and why they stopped; samples keep what a fair cost
comparison and a retried call need (the same tokens' standard price, cached tokens, attempts,
the last attempt's HTTP time), and a run holds each (tier, run number) once."""

STEPS = [
    "ALTER TABLE tier_runs ADD COLUMN timeouts TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE tier_runs ADD COLUMN note TEXT",
    "ALTER TABLE tier_samples ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE tier_samples ADD COLUMN standard_cost REAL NOT NULL DEFAULT 0",
    "ALTER TABLE tier_samples ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE tier_samples ADD COLUMN api_latency_ms REAL",
    "CREATE UNIQUE INDEX ux_tier_samples_run_sample ON tier_samples (run_id, tier_asked, seq)",
]
