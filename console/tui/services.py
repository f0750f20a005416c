"""The service modules the panes call: typed as the real modules, imported on first use.

A pane writes `services.caches.create(ws, draft, progress)` inside a worker. The type checker
sees `services.caches` as `console.services.caches` itself (names, signatures, return types);
at run time it is a stand-in that imports the module the first time one of its names is read.
Services pull in SQLAlchemy (and, through the gateway, the SDK): read a name inside the worker
or callback that needs it, never at module level or in `compose`, so neither sits on the path
to the first frame (tests/unit/test_import_hygiene.py checks the panes import none of them).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any


class _Deferred:
    """A module imported when one of its names is first read (thread-safe: the import lock)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # copy, pickle and inspect probe dunders: not a reason to import
            raise AttributeError(attr)
        module = self._module
        if module is None:
            module = self._module = import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<deferred {self._name} ({state})>"


if TYPE_CHECKING:
    from console.services import (
        batches,
        budget,
        caches,
        dropfolder,
        export,
        interactions,
        overview,
        quality,
        spend,
        tiers,
        usage,
    )
else:
    batches = _Deferred("console.services.batches")
    budget = _Deferred("console.services.budget")
    caches = _Deferred("console.services.caches")
    dropfolder = _Deferred("console.services.dropfolder")
    export = _Deferred("console.services.export")
    interactions = _Deferred("console.services.interactions")
    overview = _Deferred("console.services.overview")
    quality = _Deferred("console.services.quality")
    spend = _Deferred("console.services.spend")
    tiers = _Deferred("console.services.tiers")
    usage = _Deferred("console.services.usage")

DEFERRED = (
    "batches", "budget", "caches", "dropfolder", "export", "interactions", "overview", "quality",
    "spend", "tiers", "usage",
)
