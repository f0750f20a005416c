"""Shared rate budgets: one row per (project, model) (and per capped tier), reserved by every
gemops process on this store, plus the sliding log of recent requests for sliding-log budgets."""

STEPS = [
    """CREATE TABLE quota_budgets (
        project TEXT NOT NULL, scope TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0,
        tat REAL NOT NULL DEFAULT 0, token_tat REAL NOT NULL DEFAULT 0,
        cool_until REAL NOT NULL DEFAULT 0, day TEXT NOT NULL DEFAULT '',
        day_count INTEGER NOT NULL DEFAULT 0, touched_at REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (project, scope))""",
    """CREATE TABLE quota_events (
        project TEXT NOT NULL, scope TEXT NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (project, scope, seq))""",
    "CREATE INDEX ix_quota_events_at ON quota_events (project, scope, at)",
]
