"""gemops' local state: SQLModel tables on SQLite (WAL), migrations, and repos of detached records."""
