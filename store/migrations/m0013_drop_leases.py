"""Several watchers on one shared store: a claim names the watcher working on it and how long
that watcher's lease lasts, so another takes it up when a watcher dies."""

STEPS = [
    "ALTER TABLE drop_files ADD COLUMN owner TEXT",
    "ALTER TABLE drop_files ADD COLUMN lease_until REAL NOT NULL DEFAULT 0",
]
