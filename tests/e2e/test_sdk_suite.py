"""google-genai's own test suite against the emulator (`python -m tests.sdk_suite`).

Every test that does not pass must be explained by tests/sdk_suite/expected.toml (or, for a
test a newer SDK added, by a failure that never reached the emulator); every test the table
lists as passing must still pass.
"""

from __future__ import annotations

from tests.sdk_suite.runner import (
    DEFAULT_MODULES,
    NOT_RUN_KINDS,
    classify,
    load_table,
    run_suite,
    summary,
)


def test_google_genai_own_tests_pass_wherever_an_emulator_can() -> None:
    table = load_table()
    result = run_suite(list(DEFAULT_MODULES), deselect=table.patterns_of(NOT_RUN_KINDS))
    classify(result, table)
    report = summary(result)
    print(report)
    assert result.completed and result.counts()["passed"] > 0, report
    assert not result.unexpected, report
    assert not result.broken_must_pass, report
    assert not result.missing_must_pass, report
