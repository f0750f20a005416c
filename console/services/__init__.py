"""UI-free services: the logic behind every pane and command."""
