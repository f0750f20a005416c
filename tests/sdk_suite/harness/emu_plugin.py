"""pytest plugin for google-genai's own tests: point their client at the emulator.

The SDK's conftest builds `ReplayApiClient` directly, which bypasses `Client`'s
`GOOGLE_GEMINI_BASE_URL` lookup, so this fills in that base URL wherever a test did not choose
its own. It is the only change made to the SDK's behaviour; a test that names its own host
keeps it (and fails without the internet, which the runner classifies).
"""

from __future__ import annotations

import os
from typing import Any

from google.genai import _replay_api_client, types

_init = _replay_api_client.ReplayApiClient.__init__


def _init_at_emulator(self: Any, *args: Any, http_options: Any = None, **kwargs: Any) -> None:
    base = os.environ["GOOGLE_GEMINI_BASE_URL"]
    if http_options is None:
        http_options = types.HttpOptions(base_url=base)
    elif isinstance(http_options, dict):
        http_options = {**http_options, "base_url": http_options.get("base_url") or base}
    elif not http_options.base_url:
        http_options = http_options.model_copy(update={"base_url": base})
    _init(self, *args, http_options=http_options, **kwargs)


_replay_api_client.ReplayApiClient.__init__ = _init_at_emulator  # type: ignore[method-assign]


# -- not running what cannot reach the emulator -------------------------------------------------
# The runner lists (SDK_SUITE_DESELECT, one `*`-glob per line) the tests its reason table says
# send their requests to a Google host of their own: without the internet they only wait on
# DNS retries, with it they would call Google with a dummy key. Their ids go to
# SDK_SUITE_DESELECTED_OUT so the runner still reports them.


def _glob(pattern: str) -> Any:
    import re

    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    patterns = [_glob(p) for p in os.environ.get("SDK_SUITE_DESELECT", "").splitlines() if p]
    if not patterns:
        return
    keep, drop = [], []
    for item in items:
        # Vertex variants stay: the SDK's conftest skips them (Gemini-only run) as it would.
        vertex = getattr(getattr(item, "callspec", None), "params", {}).get("use_vertex")
        listed = vertex is not True and any(p.match(item.nodeid) for p in patterns)
        (drop if listed else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        out = os.environ.get("SDK_SUITE_DESELECTED_OUT")
        if out:
            with open(out, "a", encoding="utf-8") as f:
                f.writelines(f"{item.nodeid}\n" for item in drop)
