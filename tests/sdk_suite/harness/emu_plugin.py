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
