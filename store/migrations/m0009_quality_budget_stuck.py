"""Judge scores beside logged interactions, the judge's per-(source, labels) sampling counters,
and stuck batch jobs recreated (at most once each, remembered across restarts)."""

STEPS = [
    """CREATE TABLE quality_scores (
        id INTEGER PRIMARY KEY,
        interaction_id INTEGER NOT NULL UNIQUE
            REFERENCES interactions (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        answered_at REAL NOT NULL,
        source TEXT NOT NULL,
        model TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '',
        judge_model TEXT NOT NULL,
        judge_tier TEXT NOT NULL,
        status TEXT NOT NULL,
        accuracy INTEGER,
        tone INTEGER,
        hallucination BOOLEAN,
        reason TEXT,
        error TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX ix_quality_scores_answered ON quality_scores (answered_at, model, labels)",
    """CREATE TABLE quality_counters (
        group_key TEXT PRIMARY KEY,
        seen INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE batch_recreations (
        old_name TEXT PRIMARY KEY,
        new_name TEXT,
        drop_file_id INTEGER REFERENCES drop_files (id) ON DELETE SET NULL,
        step TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        error TEXT,
        at REAL NOT NULL,
        finished_at REAL
    )""",
    "CREATE UNIQUE INDEX ux_batch_recreations_new ON batch_recreations (new_name)",
]
