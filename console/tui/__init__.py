"""The Textual console: a view over the services, never the owner of any logic."""
