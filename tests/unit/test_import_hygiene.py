"""Headless layers never load Textual (Harlequin's test_import_hygiene, adapted)."""

from __future__ import annotations

import subprocess
import sys

HEADLESS = [
    "store.engine",
    "store.migrations",
    "store.repos.ledger",
    "store.repos.batches",
    "console.services.gateway",
    "console.services.sync",
    "console.services.limits",
    "console.services.pricing",
    "console.services.overview",
    "console.bootstrap",
    "console.settings",
]


def test_headless_modules_do_not_load_textual():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in HEADLESS)
        + "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_services_other_than_the_gateway_do_not_load_the_sdk():
    code = (
        "import sys\n"
        "import console.services.sync, console.services.overview, console.services.pricing\n"
        "print('google.genai' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_the_gateway_imports_google_genai():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*root.joinpath("console").rglob("*.py"), *root.joinpath("store").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "google.genai" or n.startswith("google.genai.") for n in names):
                offenders.append(path.relative_to(root).as_posix())
    assert sorted(set(offenders)) == ["console/services/gateway.py"]


def test_the_pricing_rules_read_no_files():
    # The rules and the table are pure; only `price_files` (imported when a table is loaded
    # from TOML) touches files.
    code = (
        "import sys\nimport console.services.pricing\n"
        "from console.services.pricing import PriceTable, Usage, call_cost\n"
        "call_cost(PriceTable.default(), 'gemini-2.5-flash', Usage(prompt_tokens=10))\n"
        "print('console.services.price_files' in sys.modules, 'tomllib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
