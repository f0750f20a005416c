"""One screen per pane; each owns its handlers."""
