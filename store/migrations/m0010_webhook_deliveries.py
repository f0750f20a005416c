"""Webhook deliveries already handled, by webhook-id: the receiver's replay memory survives a
restart (a sender retries the same id for up to 24 h), and rows older than its window go."""

STEPS = [
    "CREATE TABLE webhook_deliveries ("
    " webhook_id VARCHAR NOT NULL PRIMARY KEY,"
    " handled_at FLOAT NOT NULL,"
    " event VARCHAR NOT NULL DEFAULT '',"
    " outcome VARCHAR NOT NULL DEFAULT '')",
    "CREATE INDEX ix_webhook_deliveries_handled_at ON webhook_deliveries (handled_at)",
]
