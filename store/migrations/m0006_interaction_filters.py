"""The logs pane and exports filter interactions by date, model and source, and total their
tokens and cost: indexes that hold those columns answer the totals without reading the rows
(whose text makes them large)."""

_TOTALS = "prompt_tokens, output_tokens, thought_tokens, cost"

STEPS = [
    f"CREATE INDEX ix_interactions_at_totals ON interactions (at, {_TOTALS})",
    f"CREATE INDEX ix_interactions_model_totals ON interactions (model, at, {_TOTALS})",
    f"CREATE INDEX ix_interactions_source_totals ON interactions (source, at, {_TOTALS})",
]
