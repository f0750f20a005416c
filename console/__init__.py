"""gemops: a keyboard-driven console for running Gemini API workloads cheaply and safely."""

__version__ = "0.1.0"
