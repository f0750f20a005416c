"""The initial schema: mirrors of remote state, drop files, ledger, tier runs, interactions."""

STEPS = [
    """CREATE TABLE cached_contents (
        name TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '', model TEXT NOT NULL,
        total_tokens INTEGER NOT NULL DEFAULT 0, created_at REAL, updated_at REAL,
        expires_at REAL, gone_at REAL, synced_at REAL NOT NULL)""",
    """CREATE TABLE remote_files (
        name TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '',
        mime_type TEXT NOT NULL DEFAULT '', size_bytes INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
        uri TEXT NOT NULL DEFAULT '', download_uri TEXT NOT NULL DEFAULT '',
        sha256 TEXT NOT NULL DEFAULT '', created_at REAL, expires_at REAL, gone_at REAL,
        synced_at REAL NOT NULL)""",
    """CREATE TABLE drop_files (
        id INTEGER PRIMARY KEY, content_hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        path TEXT NOT NULL, route TEXT NOT NULL, step TEXT NOT NULL,
        request_count INTEGER NOT NULL DEFAULT 0, done_requests INTEGER NOT NULL DEFAULT 0,
        remote_file TEXT, batch_name TEXT, error TEXT, claimed_at REAL NOT NULL,
        updated_at REAL NOT NULL, finished_at REAL)""",
    """CREATE TABLE drop_events (
        id INTEGER PRIMARY KEY,
        drop_file_id INTEGER REFERENCES drop_files(id) ON DELETE SET NULL,
        at REAL NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX ix_drop_events_at ON drop_events (at)",
    """CREATE TABLE batch_jobs (
        name TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, created_at REAL, updated_at REAL,
        ended_at REAL, state_since REAL, request_count INTEGER NOT NULL DEFAULT 0,
        succeeded_count INTEGER NOT NULL DEFAULT 0, failed_count INTEGER NOT NULL DEFAULT 0,
        pending_count INTEGER NOT NULL DEFAULT 0, input_file TEXT, responses_file TEXT,
        drop_file_id INTEGER REFERENCES drop_files(id) ON DELETE SET NULL,
        results_path TEXT, results_written_at REAL, error TEXT, gone_at REAL,
        synced_at REAL NOT NULL)""",
    """CREATE TABLE ledger (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, model TEXT NOT NULL, operation TEXT NOT NULL,
        tier_asked TEXT NOT NULL DEFAULT 'standard', tier_served TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0, cached_tokens INTEGER NOT NULL DEFAULT 0,
        candidate_tokens INTEGER NOT NULL DEFAULT 0, thought_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0, latency_ms REAL NOT NULL DEFAULT 0,
        status INTEGER NOT NULL DEFAULT 200, error TEXT, attempt INTEGER NOT NULL DEFAULT 1,
        cost REAL NOT NULL DEFAULT 0, standard_cost REAL NOT NULL DEFAULT 0,
        batch BOOLEAN NOT NULL DEFAULT 0, source TEXT NOT NULL DEFAULT 'console',
        cached_content TEXT)""",
    "CREATE INDEX ix_ledger_at ON ledger (at)",
    """CREATE TABLE tier_runs (
        id INTEGER PRIMARY KEY, created_at REAL NOT NULL, finished_at REAL, model TEXT NOT NULL,
        prompt TEXT NOT NULL, tiers TEXT NOT NULL DEFAULT 'flex,standard,priority',
        runs_per_tier INTEGER NOT NULL DEFAULT 5, run_order TEXT NOT NULL DEFAULT 'interleaved',
        concurrency INTEGER NOT NULL DEFAULT 1, retry_flex BOOLEAN NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'running')""",
    """CREATE TABLE tier_samples (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES tier_runs(id) ON DELETE CASCADE,
        tier_asked TEXT NOT NULL, seq INTEGER NOT NULL, ok BOOLEAN NOT NULL,
        status INTEGER NOT NULL DEFAULT 200, tier_served TEXT,
        latency_ms REAL NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0, thought_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0, cost REAL NOT NULL DEFAULT 0, error TEXT,
        at REAL NOT NULL)""",
    "CREATE INDEX ix_tier_samples_run_id ON tier_samples (run_id)",
    """CREATE TABLE interactions (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, model TEXT NOT NULL,
        tier TEXT NOT NULL DEFAULT 'standard', source TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
        thought_tokens INTEGER NOT NULL DEFAULT 0, cost REAL NOT NULL DEFAULT 0,
        system_instruction TEXT, contents_json TEXT NOT NULL,
        response_text TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX ix_interactions_at ON interactions (at)",
    """CREATE TABLE interaction_labels (
        interaction_id INTEGER NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
        key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (interaction_id, key))""",
    "CREATE INDEX ix_interaction_labels_kv ON interaction_labels (key, value)",
    """CREATE TABLE sync_state (
        resource TEXT PRIMARY KEY, last_attempt_at REAL, last_success_at REAL, last_error TEXT,
        last_error_at REAL, last_duration_ms REAL,
        consecutive_errors INTEGER NOT NULL DEFAULT 0)""",
    "CREATE TABLE app_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]
