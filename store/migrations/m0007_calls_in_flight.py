"""Write-ahead of every API call: a row before it is sent, removed when its answer is booked in
the ledger (same transaction), so a kill -9 never loses a billed call."""

STEPS = [
    """CREATE TABLE calls_in_flight (
        id INTEGER NOT NULL PRIMARY KEY,
        owner VARCHAR NOT NULL,
        at FLOAT NOT NULL,
        model VARCHAR NOT NULL,
        operation VARCHAR NOT NULL,
        tier_asked VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        request_key VARCHAR,
        attempt INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        estimated_cost FLOAT NOT NULL
    )""",
    "CREATE INDEX ix_calls_in_flight_owner ON calls_in_flight (owner)",
    # Tier prompts are stored redacted; this says when the user kept one as typed.
    "ALTER TABLE tier_runs ADD COLUMN prompt_kept BOOLEAN NOT NULL DEFAULT 0",
]
