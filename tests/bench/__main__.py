"""`python -m tests.bench [NAME ...]`: run the named benchmarks (all when none is named)."""

from __future__ import annotations

import sys

from tests.bench._harness import available, run


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}")
        return 2
    for name in names:
        print(run(name).line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
