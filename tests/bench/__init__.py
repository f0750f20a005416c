"""Benchmarks: `python -m tests.bench [NAME ...]`. Each module here named `<name>.py` (not starting
with an underscore) exposes `run() -> BenchResult`; see `_harness.py`."""
