"""Everything the emulator holds in memory, wired together; persistence restore and ticks."""

from __future__ import annotations

import random

from console.emulator.batches import BatchStore
from console.emulator.caches import CacheStore
from console.emulator.clock import EmulatorClock
from console.emulator.config import EmulatorConfig
from console.emulator.faults import FaultInjector
from console.emulator.files import FileStore
from console.emulator.generate import Synthesizer, TokenCounter
from console.emulator.implicit import ImplicitCache
from console.emulator.persistence import Persistence
from console.emulator.quotas import QuotaTracker
from console.emulator.requestlog import RequestLog
from console.emulator.serving import Responder
from console.emulator.tiers import TierRouter
from console.emulator.webhooks import WebhookStore

_PURGE_EVERY_S = 1.0


class EmulatorState:
    """The stores, counters and policies one emulator instance serves from."""

    def __init__(self, config: EmulatorConfig, clock: EmulatorClock) -> None:
        self.config = config
        self.clock = clock
        self.rng = random.Random(config.seed)
        self.persistence = Persistence(config.state_path) if config.state_path else None
        self.log = RequestLog(config.request_log_size)
        self.files = FileStore(self)
        self.caches = CacheStore(self)
        self.batches = BatchStore(self)
        self.webhooks = WebhookStore(self)
        self.counter = TokenCounter(config.chars_per_token, self.files.resolve_uri)
        self.synth = Synthesizer(self.counter)
        self.implicit = ImplicitCache()
        self.quotas = QuotaTracker(config)
        self.tiers = TierRouter(config, self.quotas, self.rng)
        self.faults = FaultInjector(config, self.rng)
        self.responder = Responder(self)
        self.in_flight = 0
        self._last_purge = 0.0
        self._saved_days: dict = {}
        self._restore()

    def _restore(self) -> None:
        store = self.persistence
        if store is None:
            return
        # Batch timing is relative to the emulator clock, so its offset survives restarts too.
        self.clock.set_offset(max(self.clock.offset, store.get_meta("clock_offset", 0.0)))
        self.quotas.restore_day_counters(store.get_meta("quota_days", {}))
        self._saved_days = self.quotas.day_counters()
        self.files.load()
        self.caches.load()
        self.batches.load()
        self.webhooks.load()

    def apply_config(self) -> None:
        """Re-read settings that were copied at start (after `PATCH /_emulator/config`)."""
        self.counter.chars_per_token = self.config.chars_per_token
        self.log.entries = type(self.log.entries)(
            self.log.entries, maxlen=self.config.request_log_size
        )

    def tick(self) -> None:
        """Advance batches (firing webhooks), drop expired caches and files, save counters."""
        self.batches.refresh_all()
        now = self.clock.now()
        if abs(now - self._last_purge) >= _PURGE_EVERY_S:
            self._last_purge = now
            self.caches.purge()
            self.files.purge()
            self.save_counters()

    def save_counters(self) -> None:
        if self.persistence is None:
            return
        days = self.quotas.day_counters()
        if days != self._saved_days:
            self.persistence.set_meta("quota_days", days)
            self._saved_days = days
        self.persistence.set_meta("clock_offset", self.clock.offset)

    def reset(self) -> None:
        """Forget every resource, counter and log entry (configuration is kept)."""
        self.files.clear()
        self.caches.caches.clear()
        self.batches.batches.clear()
        self.webhooks.clear()
        self.implicit.clear()
        self.quotas.reset()
        self.log.clear()
        self.clock.set_offset(0.0)
        if self.persistence is not None:
            self.persistence.clear()
        self._saved_days = {}

    def open(self) -> None:
        """Reconnect the state file after `close()` (a stopped server started again)."""
        if self.persistence is None and self.config.state_path:
            self.persistence = Persistence(self.config.state_path)

    def close(self) -> None:
        self.save_counters()
        if self.persistence is not None:
            self.persistence.close()
            self.persistence = None
