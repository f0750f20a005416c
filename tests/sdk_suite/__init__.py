"""google-genai's own test suite, run against the emulator (`python -m tests.sdk_suite`)."""
