"""Queries and upserts, one module per resource: each takes a Session and returns records."""
