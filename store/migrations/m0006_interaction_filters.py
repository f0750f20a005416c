"""The logs pane and exports filter interactions by model and source over a date range."""

STEPS = [
    "CREATE INDEX ix_interactions_model_at ON interactions (model, at)",
    "CREATE INDEX ix_interactions_source_at ON interactions (source, at)",
]
