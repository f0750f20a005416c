"""The panes' service façade: typed as the real modules, imported only when a name is read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from console.tui import services

HEAVY = ("sqlalchemy", "sqlmodel", "google.genai")


def test_the_type_checker_and_the_run_time_see_the_same_modules():
    # The TYPE_CHECKING import and the run-time stand-ins are two lists: keep them one.
    tree = ast.parse(Path(services.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If))
    typed = {a.asname or a.name for n in block.body if isinstance(n, ast.ImportFrom) for a in n.names}
    deferred = {t.id for n in block.orelse if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    assert typed == deferred == set(services.DEFERRED)
    for name in services.DEFERRED:
        stand_in = getattr(services, name)
        assert stand_in._name == f"console.services.{name}"


def test_a_name_read_through_the_facade_is_the_service_itself():
    from console.services import caches, dropfolder

    assert services.caches.create is caches.create
    assert services.dropfolder.DropFolder is dropfolder.DropFolder


def test_importing_the_app_and_every_pane_imports_no_service_behind_the_facade():
    panes = sorted(p.stem for p in Path(services.__file__).parent.joinpath("screens").glob("*.py"))
    code = (
        "import sys\nimport console.tui.app\n"
        + "".join(f"import console.tui.screens.{p}\n" for p in panes if p != "__init__")
        + "from console.tui import services\n"
        + "watched = [*services.DEFERRED]\n"
        + f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)"
        + " + sorted(m for m in watched if 'console.services.' + m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
